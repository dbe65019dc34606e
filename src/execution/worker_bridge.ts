/**
 * Inside a worker node there is no AsyncLocalStorage scope: the worker
 * bootstrap installs this bridge instead, so `call()`, `currentSignal()`
 * and `broadcast()` reach the main thread.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { WorkerModuleError } from "./worker_error.ts";

/**
 * What the worker bootstrap offers to library code running in a worker;
 * everything but `nodeName` throws when no worker node is running.
 */
export interface WorkerBridge {
  /** The running worker node's name, `null` between tasks. */
  readonly nodeName: string | null;
  /** The running task's abort signal. */
  readonly signal: AbortSignal;
  /** Asks the main thread to call a node as a child of the running task. */
  call(target: unknown, args: unknown[]): Promise<unknown>;
  /** Asks the main thread to broadcast a value for the running task. */
  broadcast(item: unknown): void;
}

const BRIDGE = Symbol.for("switchyard.workerBridge");
const CONTEXTS = Symbol.for("switchyard.workerContexts");

// In a worker, tell the bootstrap which task's code is running, through
// this copy of the library's async context, so calls made by interleaved
// tasks are told apart.
if (
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
    "undefined" ||
  (globalThis as Record<symbol, unknown>)[Symbol.for("switchyard.processChild")] === true
) {
  const tasks = new AsyncLocalStorage<number>();
  const registry = globalThis as Record<symbol, unknown[] | undefined>;
  (registry[CONTEXTS] ??= []).push({
    run: <T>(id: number, fn: () => T): T => tasks.run(id, fn),
    current: (): number | undefined => tasks.getStore(),
  });
}

/**
 * The bridge of the worker this code runs in, if a worker node is running.
 *
 * @returns The bridge, or `undefined` outside workers of the pool.
 */
export function workerBridge(): WorkerBridge | undefined {
  return (globalThis as Record<symbol, WorkerBridge | undefined>)[BRIDGE];
}

const LOADING = Symbol.for("switchyard.workerLoading");
const PROCESS_CHILD = Symbol.for("switchyard.processChild");

/**
 * Whether this code runs in a worker or child process of a Switchyard pool.
 *
 * @returns `true` there.
 */
export function insidePoolWorker(): boolean {
  const scope = globalThis as unknown as Record<symbol, unknown> & {
    name?: unknown;
    WorkerGlobalScope?: unknown;
  };
  if (scope[PROCESS_CHILD] === true) return true;
  return scope.WorkerGlobalScope !== undefined && typeof scope.name === "string" &&
    scope.name.startsWith("switchyard-worker-");
}

/**
 * Refuses to start runs inside a pool's worker or child process: a module
 * imported there to find a worker node runs its top level again, and a
 * top level that starts a run would make every worker start the run (and
 * workers of their own) again.
 *
 * @param what What was about to happen, e.g. `"create a worker pool"`.
 * @throws {WorkerModuleError} Inside a pool's worker or child process.
 */
export function refuseRunInWorker(what: string): void {
  if (!insidePoolWorker()) return;
  const loading = (globalThis as Record<symbol, unknown>)[LOADING];
  throw new WorkerModuleError(
    what,
    typeof loading === "string" ? loading : null,
    workerBridge()?.nodeName ?? null,
  );
}
