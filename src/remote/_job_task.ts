/**
 * A job as a task for a worker process's local pool.
 *
 * @module
 */
import type { Node } from "../core/node.ts";
import { Task } from "../execution/task.ts";
import { ATTEMPT_PROBE, type RemoteJobData } from "./protocol.ts";

/** A job's node could not be loaded: retrying would not help. */
export class LoadError extends Error {
  override name = "RemoteLoadError";
}

/** What a job's task asks of the worker. */
export interface TaskOwner {
  call(task: RemoteJobTask, target: Node, args: unknown[]): Promise<unknown>;
}

/** A job as a task for the local pool: its signal and calls lead back to Redis. */
export class RemoteJobTask extends Task {
  readonly #signal: AbortSignal;
  readonly #owner: TaskOwner;
  readonly data: RemoteJobData;
  readonly attempt: number;

  constructor(
    data: RemoteJobData,
    node: Node,
    args: unknown[],
    signal: AbortSignal,
    owner: TaskOwner,
    attempt: number,
  ) {
    super(data.requestId, node, args);
    this.data = data;
    this.#signal = signal;
    this.#owner = owner;
    this.attempt = attempt;
  }

  override get signal(): AbortSignal {
    return this.#signal;
  }

  override callChild(target: Node, args: unknown[]): Promise<unknown> {
    if (target.name === ATTEMPT_PROBE) return Promise.resolve(this.attempt);
    return this.#owner.call(this, target, args);
  }
}
