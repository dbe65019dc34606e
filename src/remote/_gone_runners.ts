/**
 * Removing what gone runners left in Redis. A runner that shuts down
 * removes its calls queue and its done stream itself; one that crashed
 * leaves them. Every runner with an open link is listed in a sorted set,
 * scored with its last liveness refresh; one still listed well after its
 * liveness key would have expired, and whose key is indeed gone, is gone
 * for good (runner ids are never reused), and the first runner to see it
 * obliterates its calls queue (BullMQ's own removal), deletes its done
 * stream (workers never make it again) and drops it from the set.
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import { ID_PATTERN, type RemoteKeys } from "./protocol.ts";
import type { Bullmq, RedisClient as Redis } from "./_bullmq_types.ts";

const log = logger("remote");

/** How many gone runners one sweep removes at most: the rest wait for the next sweep. */
const SWEEP_BATCH = 20;
/**
 * How long a runner removing a gone runner's queue holds it (ms): the
 * others skip it meanwhile, and retry if the remover died midway.
 */
const CLAIM_MS = 60_000;
/** How often a runner sweeps again after the sweep when its link opens (ms). */
export const SWEEP_EVERY_MS = 60_000;

/** What a sweep works with. */
export interface Sweep {
  lib: Bullmq;
  /** A command connection (not a blocking or subscribed one). */
  commands: Redis;
  keys: RemoteKeys;
  /** The sweeping runner. */
  self: string;
  /** The liveness key's time to live (ms). */
  ttlMs: number;
}

/**
 * Removes the calls queues and done streams of up to
 * {@linkcode SWEEP_BATCH} gone runners, and their entries. A runner counts as gone once its last refresh is two
 * times to live old (workers check a runner's key more often than that, so
 * none still adds calls to its queue) and its liveness key is absent (the
 * truth, whatever the clocks say). Failures are logged, never thrown.
 *
 * @returns The ids of the runners whose leftovers this sweep removed.
 */
export async function sweepGoneRunners(sweep: Sweep): Promise<string[]> {
  const { commands, keys } = sweep;
  let listed: string[];
  try {
    const cutoff = Date.now() - 2 * sweep.ttlMs;
    listed = await commands.zrangebyscore(keys.runners, "-inf", cutoff, "LIMIT", 0, SWEEP_BATCH);
  } catch (error) {
    log.warn("Could not list gone runners: {error}", { error: (error as Error)?.message });
    return [];
  }
  const removed: string[] = [];
  for (const id of listed) {
    try {
      if (await removeGone(sweep, id)) removed.push(id);
    } catch (error) {
      log.warn("Could not remove what gone runner {runner} left: {error}", {
        runner: id,
        error: (error as Error)?.message,
      });
    }
  }
  return removed;
}

async function removeGone(sweep: Sweep, id: string): Promise<boolean> {
  const { commands, keys } = sweep;
  // Anyone with access to Redis may write the set: a member that is not a
  // runner id names no queue of ours, and only its entry goes.
  if (!ID_PATTERN.test(id)) {
    await commands.zrem(keys.runners, id);
    return false;
  }
  if (id === sweep.self || await commands.exists(keys.runnerAlive(id)) === 1) return false;
  if (await commands.set(keys.runnerSweep(id), sweep.self, "PX", CLAIM_MS, "NX") === null) {
    return false;
  }
  const queue = sweep.lib.queue(keys.callsQueue(id), {
    connection: commands,
    prefix: keys.prefix,
  });
  queue.on("error", () => {});
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close().catch(() => {});
  }
  await commands.del(keys.doneStream(id));
  // Dropped last: a sweep that failed before leaves the runner listed, and
  // a later one (once the claim expires) tries again.
  await commands.zrem(keys.runners, id);
  log.info("Removed the calls queue and done stream of runner {runner}, which is gone", {
    runner: id,
  });
  return true;
}
