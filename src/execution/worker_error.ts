/**
 * The error a worker task fails with.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";

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
 * - `"shutdown"`: the pool shut down before the task ended;
 * - `"protocol"`: the worker sent a message outside the protocol;
 * - `"out-of-memory"`: a process-isolated node's process reached its heap
 *   limit;
 * - `"killed"`: a process-isolated node's process died of a signal the
 *   pool did not send.
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
  | "shutdown"
  | "protocol"
  | "out-of-memory"
  | "killed";

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
  /**
   * The process id, when the node ran in a child process (`workerId` is
   * then the child's id in its pool).
   */
  pid?: number;
}

/** The stack frames of an error (the `at …` lines), or `null`. */
function ownFrames(error: unknown): string | null {
  const stack = (error as { stack?: unknown } | null)?.stack;
  if (typeof stack !== "string") return null;
  const lines = stack.split("\n");
  const first = lines.findIndex((line) => /^\s+at /.test(line));
  return first < 0 ? null : lines.slice(first).join("\n");
}

/**
 * A task run in a worker failed. The message says which node, which worker
 * and why; `cause` holds the node's own error (with its original `name`,
 * `message`, `stack` and `cause` chain) when there is one, and the stack
 * shows that error's frames (the user's code), not the pool's.
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
 * assert.doesNotMatch(error.stack!.split("\n")[1], /_worker_pool/);
 * ```
 */
export class WorkerTaskError extends Error {
  /** The node's name. */
  readonly nodeName: string;
  /** The worker's id in its pool, `null` if the task never reached one. */
  readonly workerId: number | null;
  /** Why it failed. */
  readonly reason: WorkerFailureReason;
  /** The child process's id, when the node ran in one. */
  readonly pid: number | undefined;

  /**
   * Makes a WorkerTaskError.
   *
   * @param detail What happened, e.g. `"threw RangeError: no"`.
   * @param options Node, worker, reason and cause.
   */
  constructor(detail: string, options: WorkerTaskErrorOptions) {
    const where = options.workerId === null
      ? "before reaching a worker"
      : options.pid !== undefined
      ? `in child process #${options.workerId} (pid ${options.pid})`
      : `on worker #${options.workerId}`;
    super(
      `Worker node '${options.nodeName}' failed ${where}: ${detail}`,
      { cause: options.cause },
    );
    this.name = "WorkerTaskError";
    this.nodeName = options.nodeName;
    this.workerId = options.workerId;
    this.reason = options.reason;
    this.pid = options.pid;
    // What the user needs first is where their code failed, not where the
    // pool noticed: the frames of the node's own error take the place of
    // the pool's (the error itself stays the `cause`).
    const frames = ownFrames(options.cause);
    if (frames !== null) this.stack = `${this.name}: ${this.message}\n${frames}`;
  }
}

/**
 * A worker asked the main thread to call a node the main thread does not
 * know. A worker may only name nodes exported by the module of the worker
 * node that is calling (imported by the main thread from the URL the main
 * thread holds), or module worker nodes the program itself made; it can
 * never get a module URL or source of its choosing loaded on the main
 * thread. No request is made for a refused call.
 *
 * @example A self-contained worker node cannot name a module
 * ```ts
 * import { node, Runner, WorkerTaskError } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const forge = node(async function forge() {
 *   const bridge = (globalThis as Record<symbol, any>)[Symbol.for("switchyard.workerBridge")];
 *   const fake = { [Symbol.for("switchyard.node")]: true, name: "x", moduleUrl: "data:text/javascript,export%20{}" };
 *   return await bridge.call(fake, []);
 * }, { worker: true, permissions: "none" });
 * await using runner = new Runner({ workers: { size: 1 }, loggingSetting: "NONE" });
 * const error = await runner.run(forge).catch((e) => e);
 * assert.ok(error instanceof WorkerTaskError);
 * assert.equal((error.cause as Error).name, "WorkerCallRefusedError");
 * ```
 */
export class WorkerCallRefusedError extends Error {
  /** The worker node that asked. */
  readonly callerName: string;
  /** The name the worker sent (as sent, if it was not a string). */
  readonly targetName: unknown;
  /** The module URL the worker sent, `null` if none. */
  readonly targetUrl: unknown;

  /**
   * Makes a WorkerCallRefusedError.
   *
   * @param callerName The worker node that asked.
   * @param targetName The name it sent.
   * @param targetUrl The module URL it sent.
   * @param why Why the main thread cannot find it.
   */
  constructor(callerName: string, targetName: unknown, targetUrl: unknown, why: string) {
    super(
      `Cannot call node ${
        typeof targetName === "string" ? `'${targetName.slice(0, 120)}'` : describeValue(targetName)
      } from worker node '${callerName}' as the main thread does not know it: ${why}`,
    );
    this.name = "WorkerCallRefusedError";
    this.callerName = callerName;
    this.targetName = targetName;
    this.targetUrl = targetUrl;
  }
}

/**
 * A run was started inside a worker (or child process) of the pool: a
 * module imported there to find a worker node starts runs at its top
 * level, or a worker node's own code tried to. Guard the top level with
 * `if (import.meta.main)`, or keep worker nodes in a module of their own.
 *
 * @example The message names the module and the fix
 * ```ts
 * import { WorkerModuleError } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const error = new WorkerModuleError("create a worker pool", "file:///app/main.ts", null);
 * assert.match(error.message, /module file:\/\/\/app\/main.ts/);
 * assert.match(error.message, /if \(import\.meta\.main\)/);
 * ```
 */
export class WorkerModuleError extends Error {
  /** The module being imported in the worker, if known. */
  readonly moduleUrl: string | null;

  /**
   * Makes a WorkerModuleError.
   *
   * @param what What was refused.
   * @param moduleUrl The module being imported in the worker, if known.
   * @param nodeName The worker node running, if any.
   */
  constructor(what: string, moduleUrl: string | null, nodeName: string | null) {
    const where = moduleUrl !== null
      ? `module ${moduleUrl} was imported into a worker to find a worker node, and its top level starts a run there`
      : nodeName !== null
      ? `worker node '${nodeName}' runs inside a worker, as part of the run that called it (use call() to run other nodes)`
      : "this code runs inside a worker of the pool";
    super(
      `Cannot ${what} inside a worker as ${where}: guard the code that starts runs with \`if (import.meta.main)\`, or keep worker nodes in a module of their own`,
    );
    this.name = "WorkerModuleError";
    this.moduleUrl = moduleUrl;
  }
}
