/**
 * A job as a task for a worker process's local pool.
 *
 * @module
 */
import type { Node } from "../core/node.ts";
import { Task } from "../execution/task.ts";
import type { RequestEnd, RequestSpan } from "../tracing/request_span.ts";
import { withTraceContext } from "../tracing/propagation.ts";
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
    if (data.trace !== null) this.trace = new CarriedSpan(data.trace);
  }

  override get signal(): AbortSignal {
    return this.#signal;
  }

  override callChild(target: Node, args: unknown[]): Promise<unknown> {
    if (target.name === ATTEMPT_PROBE) return Promise.resolve(this.attempt);
    return this.#owner.call(this, target, args);
  }
}

/**
 * The runner's span of a job's request, as its trace context: the local
 * pool sends it on to the Web Worker or child process that runs the node,
 * so spans made there nest under the request's span on the runner. The
 * span itself is the runner's to end.
 */
class CarriedSpan implements RequestSpan {
  readonly #carrier: Record<string, string>;

  constructor(carrier: Record<string, string>) {
    this.#carrier = carrier;
  }

  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    return withTraceContext(this.#carrier, () => fn(...args));
  }

  toWorker(_workerId: number): Record<string, string> {
    return { ...this.#carrier };
  }

  inject(carrier: Record<string, string>): Record<string, string> {
    return Object.assign(carrier, this.#carrier);
  }

  retry(_error: unknown): void {}

  end(_status: RequestEnd, _output: unknown): void {}
}
