/**
 * What the load gauges read: the live worker pools and state queues of this
 * process. Pools and queues add themselves here (and remove themselves when
 * they shut down); the tracing layer's metrics sum them when a meter
 * provider asks.
 *
 * @module
 */

/** What a worker pool reports to the pool gauges. */
export interface WorkerPoolGauge {
  /** Live workers. */
  readonly workerCount: number;
  /** Workers running at least one task. */
  readonly busyCount: number;
  /** Tasks waiting for a worker. */
  readonly queued: number;
}

// Invariant: the sources below are the live pools and state queues of this
// process; their owners remove them when they shut down.
const pools = new Set<WorkerPoolGauge>();
const stateQueues = new Set<() => number>();

/**
 * Adds a worker pool to the `switchyard.workers.*` gauges (summed over
 * every live pool of the process).
 *
 * @param pool The pool.
 * @returns A function that removes it again (call it when the pool shuts down).
 *
 * @example Observing a pool until it shuts down
 * ```ts
 * import { observeWorkerPool } from "@switchyard/core/engine";
 *
 * const stop = observeWorkerPool({ workerCount: 2, busyCount: 1, queued: 0 });
 * stop();
 * ```
 */
export function observeWorkerPool(pool: WorkerPoolGauge): () => void {
  pools.add(pool);
  return () => pools.delete(pool);
}

/**
 * Adds a state queue to the `switchyard.states.queued` gauge.
 *
 * @param depth Reads how many states are queued.
 * @returns A function that removes it again.
 *
 * @example Observing a queue
 * ```ts
 * import { observeStateQueue } from "@switchyard/core/engine";
 *
 * const queue: string[] = [];
 * const stop = observeStateQueue(() => queue.length);
 * stop();
 * ```
 */
export function observeStateQueue(depth: () => number): () => void {
  stateQueues.add(depth);
  return () => stateQueues.delete(depth);
}

/**
 * One figure summed over the live worker pools.
 *
 * @param read Reads the figure of one pool.
 * @returns The sum.
 */
export function poolTotal(read: (pool: WorkerPoolGauge) => number): number {
  let total = 0;
  for (const pool of pools) total += read(pool);
  return total;
}

/**
 * How many states are queued, over every live state queue.
 *
 * @returns The sum.
 */
export function queuedStates(): number {
  let total = 0;
  for (const read of stateQueues) total += read();
  return total;
}

/** What a remote strategy reports to the `switchyard.remote.*` gauges. */
export interface RemoteJobsGauge {
  /** Jobs sent to a queue whose outcome has not come back. */
  readonly openCount: number;
  /** Of those, the jobs no worker has reported starting. */
  readonly waitingCount: number;
}

// Invariant: the live remote strategies of this process; each removes
// itself when it shuts down.
const remotes = new Set<RemoteJobsGauge>();

/**
 * Adds a remote strategy to the `switchyard.remote.open` and
 * `switchyard.remote.waiting` gauges.
 *
 * @param source The strategy.
 * @returns A function that removes it again (call it when it shuts down).
 *
 * @example Observing a strategy until it shuts down
 * ```ts
 * import { observeRemoteJobs } from "@switchyard/core/engine";
 *
 * const stop = observeRemoteJobs({ openCount: 3, waitingCount: 1 });
 * stop();
 * ```
 */
export function observeRemoteJobs(source: RemoteJobsGauge): () => void {
  remotes.add(source);
  return () => remotes.delete(source);
}

/**
 * One figure summed over the live remote strategies.
 *
 * @param read Reads the figure of one strategy.
 * @returns The sum.
 */
export function remoteTotal(read: (source: RemoteJobsGauge) => number): number {
  let total = 0;
  for (const source of remotes) total += read(source);
  return total;
}
