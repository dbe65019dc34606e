/**
 * Where a worker pool places its next job: on a busy worker already
 * running quick tasks when the job is quick too, else on an idle worker, a
 * new one, a pipelined busy one, or a new one in place of an idle worker
 * of other permissions. How quick a node is comes from its last run.
 *
 * @module
 */
import type { PoolJob, WorkerHandle } from "./_worker_handle.ts";

/** A node whose last run took less than this (ms) is quick. */
const QUICK_MS = 1;

/**
 * How many tasks a busy worker may hold beyond the one it runs, so tiny
 * tasks never wait a round trip. Only tasks of nodes whose last run took
 * less than QUICK_MS are pipelined, and only behind such tasks: a task
 * queued behind a long one could not move to a worker that becomes idle
 * (a worker busy in synchronous code reads no messages). A task queued on a
 * worker has not started and moves to another worker if its own fails.
 */
const PIPELINE_DEPTH = 64;

/**
 * How many quick tasks a busy worker takes before an idle one is used: a
 * worker that is already awake takes the next quick task for far less CPU
 * than waking an idle thread (measured: a tiny task costs the main thread
 * about half the CPU when tasks that arrive one at a time stay on one
 * worker instead of spreading over four sleeping ones).
 */
const HOT_DEPTH = 4;

/** The last run time of each node (by function key), in ms. */
export type RunTimes = Map<number, number>;

/**
 * Whether a job's node is quick: its last run took less than QUICK_MS.
 *
 * @param times The last run times.
 * @param job The job.
 * @returns `false` for a node that never ran here.
 */
export function isQuick(times: RunTimes, job: PoolJob): boolean {
  return (times.get(job.fnKey) ?? Infinity) < QUICK_MS;
}

/**
 * Where a job goes: a worker to send it to; `"spawn"`, a new worker;
 * `"replace"`, a new worker in place of one with nothing in flight (whose
 * permissions differ); or `null`, nowhere yet (it waits in line).
 */
export type Placement = WorkerHandle | "spawn" | "replace" | null;

/**
 * Chooses where a job goes among a pool's live workers (a pool of
 * `dedicated` workers spawns one per job instead).
 *
 * @param workers The live workers.
 * @param job The job.
 * @param quick Whether the job's node is quick (see {@linkcode isQuick}).
 * @param size The pool's size.
 * @returns Where the job goes.
 */
export function placeJob(
  workers: readonly WorkerHandle[],
  job: PoolJob,
  quick: boolean,
  size: number,
): Placement {
  let best: WorkerHandle | null = null;
  let idle: WorkerHandle | null = null;
  for (const w of workers) {
    if (w.poolKey !== job.poolKey) continue;
    if (w.load === 0) {
      if (!quick) return w;
      idle ??= w;
      continue;
    }
    // A worker whose running task was aborted may be about to be killed.
    if (w.inflight[0]?.aborted) continue;
    if (!best || w.load < best.load) best = w;
  }
  if (quick && best && best.slow === 0 && best.load < HOT_DEPTH) return best;
  if (idle) return idle;
  if (workers.length < size) return "spawn";
  if (best && best.load <= PIPELINE_DEPTH && best.slow === 0 && quick) return best;
  if (workers.some((w) => w.inflight.length === 0)) return "replace";
  // Every worker waits on calls to the main thread, none with these
  // permissions: one more worker, retired when it falls idle, so a call
  // into a differently sandboxed node cannot deadlock a full pool.
  if (workers.every((w) => w.load === 0)) return "spawn";
  return null;
}
