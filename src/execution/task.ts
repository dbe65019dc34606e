/**
 * A unit of work handed to an execution strategy.
 *
 * @module
 */
import type { AnyNode, Node } from "../core/node.ts";
import type { Job } from "./job.ts";
import type { AttemptRecord } from "../state/request_forest.ts";
import { runAttempts } from "./retry_policy.ts";

/**
 * What a traced request's span offers the strategies that run its task
 * (implemented by the tracing layer's request spans).
 */
export interface TaskTrace {
  /**
   * Records that the task runs on a worker, and returns the trace context
   * to send along with it.
   *
   * @param workerId The worker's (or child process's) id in its pool.
   * @returns The W3C trace context headers (`traceparent`, …).
   */
  toWorker(workerId: number): Record<string, string>;
  /**
   * Writes the span's trace context into a carrier (W3C `traceparent` by
   * default), for work that continues in another process or queue.
   *
   * @param carrier The object to write the headers into.
   * @returns `carrier`.
   */
  inject(carrier: Record<string, string>): Record<string, string>;
  /**
   * Records a failed attempt that is tried again.
   *
   * @param error Why the attempt failed.
   */
  retry(error: unknown): void;
  /**
   * Calls a function with the span active.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @returns What it returns.
   */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R;
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * A request to run one node with some arguments. Strategies either call
 * {@linkcode Task.invoke} (on this thread) or ship `node` (by name or
 * source) and `args` elsewhere.
 *
 * @example Invoking a task directly
 * ```ts
 * import { node } from "@switchyard/core";
 * import { Task } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const task = new Task("r1", node(async (a: number, b: number) => a + b, { name: "add" }), [1, 2]);
 * assert.equal(await task.invoke(), 3);
 * ```
 */
export class Task {
  readonly #requestId: string;
  /** The node to run. */
  readonly node: Node<unknown[], unknown>;
  /** Its arguments. */
  readonly args: unknown[];
  /**
   * The request's span when its run is traced (set by the runtime; declared
   * only, so untraced tasks are allocated as before).
   */
  declare trace: TaskTrace | undefined;
  /**
   * Which attempt at the work this request is, when its caller said (a
   * flow's retried activation); recorded on its span. Declared only.
   */
  declare firstAttempt: number | undefined;
  /**
   * The attempts so far of a node with `retries` (set by the retry loop;
   * `undefined` for nodes that run once).
   */
  // Declared, not initialised: tasks of nodes without retries (nearly all)
  // are allocated exactly as before; the retry loop adds the property.
  declare attempts: AttemptRecord[] | undefined;
  /**
   * Makes a task. The runtime makes its tasks as scopes (a subclass that
   * knows its request, its caller and its signal); a task made by hand runs
   * outside any runtime.
   *
   * @param requestId The request.
   * @param node The node.
   * @param args The arguments (none by default).
   */
  constructor(requestId: string, node: AnyNode, args: unknown[] = []) {
    this.#requestId = requestId;
    this.node = node;
    this.args = args;
  }

  /** The request this task serves. */
  get requestId(): string {
    return this.#requestId;
  }

  /**
   * The job that tracks this task, when the task is its own job (the
   * runtime's tasks are); `null` lets the coordinator make one.
   *
   * @returns The job, or `null`.
   */
  ownJob(): Job | null {
    return null;
  }

  /**
   * Told by the coordinator how the strategy settled, before any message
   * is published; the runtime's tasks record the outcome here.
   *
   * @param _ok Whether the node returned.
   * @param _value What it returned, or its error.
   */
  settled(_ok: boolean, _value: unknown): void {}

  /** The calling node's id (`null` at top level or outside a runtime). */
  get parentNodeId(): string | null {
    return null;
  }

  /** The id of the node instance serving the request (`""` outside a runtime). */
  get nodeId(): string {
    return "";
  }

  /** Fires when the request is cancelled or times out. */
  get signal(): AbortSignal {
    return NEVER_ABORTED;
  }

  /**
   * Calls a node as a child of this task's request, as `call()` does inside
   * a node; for strategies that run the node's code elsewhere.
   *
   * @param target The node to call.
   * @param args Its arguments.
   * @returns What the child returns.
   * @throws {Error} (as a rejection) If the task runs outside a runtime.
   */
  callChild(target: Node, _args: unknown[]): Promise<unknown> {
    return Promise.reject(
      new Error(
        `Cannot call node '${target?.name}' from node '${this.node.name}' as its task runs outside a runtime`,
      ),
    );
  }

  /**
   * Broadcasts a value for this task, as `broadcast()` does inside a node.
   *
   * @param item The value.
   */
  broadcast(_item: unknown): void {}

  /**
   * Runs the node on this thread, inside its scope, retrying after a
   * failure as many times as the node's `retries` allows (never after a
   * cancellation), waiting between attempts as its `retryDelay`,
   * `retryBackoff`, `retryJitter` and `retryMaxDelay` say; every attempt is
   * kept in {@linkcode Task.attempts}.
   *
   * @returns What the node returned.
   * @throws What the node threw on its last attempt.
   */
  invoke(): Promise<unknown> {
    // Fast path: no retries means no async wrapper, so no extra promise hop.
    if ((this.node.options.retries ?? 0) === 0) {
      try {
        return Promise.resolve(this.run());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return runAttempts(this, () => this.run());
  }

  /**
   * Calls the node's function once (the runtime's tasks do it inside their
   * scope).
   *
   * @returns What the function returned.
   */
  protected run(): unknown {
    return this.node.fn(...this.args);
  }
}
