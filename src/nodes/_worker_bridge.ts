/**
 * Inside a worker node there is no AsyncLocalStorage scope: the worker
 * bootstrap installs this bridge instead, so `call()`, `currentSignal()`
 * and `broadcast()` reach the main thread.
 *
 * @module
 */

/** What the worker bootstrap offers to library code running in a worker. */
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

/**
 * The bridge of the worker this code runs in, if a worker node is running.
 *
 * @returns The bridge, or `undefined` outside worker nodes.
 */
export function workerBridge(): WorkerBridge | undefined {
  const bridge = (globalThis as Record<symbol, WorkerBridge | undefined>)[
    BRIDGE
  ];
  return bridge?.nodeName ? bridge : undefined;
}
