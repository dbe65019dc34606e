/**
 * The visualizer's list of runs: one summary per run, from the run's index
 * (so a large run, or one still written, is read a chunk at a time and
 * followed, never loaded whole), kept while the run's files do not change.
 *
 * @module
 */
import {
  type RunSummary,
  sortRunSummaries,
  unreadableRunSummary,
} from "../persistence/run_list.ts";
import { runFilesKey, savedRunIds } from "../persistence/run_files.ts";
import type { RunIndexCache } from "./_index_cache.ts";

/** Summaries kept between listings, keyed by run id. */
export type SummaryCache = Map<string, { key: string; summary: RunSummary }>;

/**
 * Lists the runs of a runs folder, newest first. A run that cannot be read
 * is listed as `"Crashed"` with a name saying why.
 *
 * @param dir The runs folder.
 * @param indexes The server's run indexes.
 * @param cache Summaries of runs that are not written any more.
 * @returns One summary per run.
 */
export async function listSummaries(
  dir: string,
  indexes: RunIndexCache,
  cache: SummaryCache,
): Promise<RunSummary[]> {
  const ids = await savedRunIds(dir);
  for (const id of cache.keys()) if (!ids.has(id)) cache.delete(id);
  const summaries: RunSummary[] = [];
  for (const runId of ids) {
    const key = await runFilesKey(dir, runId);
    const cached = cache.get(runId);
    if (cached && cached.key === key) {
      summaries.push(cached.summary);
      continue;
    }
    let summary: RunSummary;
    try {
      const s = (await indexes.get(runId)).summary();
      summary = {
        runId,
        name: s.name,
        status: s.status,
        startTime: s.startTime,
        endTime: s.endTime,
        requests: s.requests,
        failed: s.failed,
        live: s.live,
        source: s.source,
      };
    } catch (error) {
      summary = unreadableRunSummary(runId, error);
    }
    if (!summary.live) cache.set(runId, { key, summary });
    summaries.push(summary);
  }
  return sortRunSummaries(summaries);
}
