/**
 * The error a worker task fails with.
 *
 * @module
 */

/**
 * Why a worker task failed:
 * - `"threw"`: the node threw (or rejected); the worker stays in the pool;
 * - `"self-contained"`: a `worker: true` node referred to a variable defined
 *   outside its function;
 * - `"load"`: the node could not be found or its module not imported;
 * - `"clone"`: an argument or the result could not be cloned;
 * - `"closed"` / `"exited"`: the worker called `self.close()` / `Deno.exit()`;
 * - `"unhandledrejection"` / `"uncaught"`: a promise rejection nobody handled,
 *   or an exception thrown outside the node's own promise;
 * - `"timeout"` / `"cancelled"`: the task was stopped (node or run timeout,
 *   cancellation) and did not end within the grace period;
 * - `"spawn"`: the worker could not be created (e.g. permissions wider than
 *   the host's, or `--unstable-worker-options` missing);
 * - `"shutdown"`: the pool shut down before the task ended.
 *
 * Every reason but `"threw"`, `"self-contained"`, `"load"` and `"clone"`
 * means the worker was terminated and is replaced for the next task.
 */
export type WorkerFailureReason =
  | "threw"
  | "self-contained"
  | "load"
  | "clone"
  | "closed"
  | "exited"
  | "unhandledrejection"
  | "uncaught"
  | "timeout"
  | "cancelled"
  | "spawn"
  | "shutdown";

/** Options of {@linkcode WorkerTaskError}. */
export interface WorkerTaskErrorOptions {
  /** The node's name. */
  nodeName: string;
  /** The worker's id in its pool, `null` if the task never reached one. */
  workerId: number | null;
  /** Why it failed. */
  reason: WorkerFailureReason;
  /** What went wrong underneath (the node's own error, …). */
  cause?: unknown;
}

/**
 * A task run in a worker failed. The message says which node, which worker
 * and why; `cause` holds the node's own error (with its original `name`,
 * `message` and `stack`) when there is one.
 *
 * @example Catching a worker failure
 * ```ts
 * import { node, Runner, WorkerTaskError } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const boom = node(() => { throw new RangeError("no"); }, { name: "boom", worker: true });
 * await using runner = new Runner({ workers: { size: 1 }, loggingSetting: "NONE" });
 * const error = await runner.run(boom).catch((e) => e);
 * assert.ok(error instanceof WorkerTaskError);
 * assert.equal(error.reason, "threw");
 * assert.equal((error.cause as Error).name, "RangeError");
 * ```
 */
export class WorkerTaskError extends Error {
  /** The node's name. */
  readonly nodeName: string;
  /** The worker's id in its pool, `null` if the task never reached one. */
  readonly workerId: number | null;
  /** Why it failed. */
  readonly reason: WorkerFailureReason;

  /**
   * Makes a WorkerTaskError.
   *
   * @param detail What happened, e.g. `"threw RangeError: no"`.
   * @param options Node, worker, reason and cause.
   */
  constructor(detail: string, options: WorkerTaskErrorOptions) {
    const where = options.workerId === null
      ? "before reaching a worker"
      : `on worker #${options.workerId}`;
    super(
      `Worker node '${options.nodeName}' failed ${where}: ${detail}`,
      { cause: options.cause },
    );
    this.name = "WorkerTaskError";
    this.nodeName = options.nodeName;
    this.workerId = options.workerId;
    this.reason = options.reason;
  }
}
