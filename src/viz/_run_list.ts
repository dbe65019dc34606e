/**
 * The visualizer's list of runs: one summary per run, from the run's index
 * (so a large run, or one still written, is read a chunk at a time and
 * followed, never loaded whole), kept while the run's files do not change.
 *
 * @module
 */
import { join } from "node:path";
import { isRunId, type RunSummary } from "../persistence/run_loader.ts";
import type { RunIndexCache } from "./_index_cache.ts";

/** Summaries kept between listings, keyed by run id. */
export type SummaryCache = Map<string, { key: string; summary: RunSummary }>;

async function runIds(dir: string): Promise<Set<string>> {
  const ids = new Set<string>();
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile) continue;
      const match = /^(.+?)(\.events\.jsonl|\.json)$/.exec(entry.name);
      if (match && isRunId(match[1])) ids.add(match[1]);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return ids;
}

async function filesKey(dir: string, runId: string): Promise<string> {
  const parts = await Promise.all(
    [`${runId}.json`, `${runId}.events.jsonl`].map(async (name) => {
      try {
        const info = await Deno.stat(join(dir, name));
        return `${info.size}@${info.mtime?.getTime() ?? 0}`;
      } catch {
        return "-";
      }
    }),
  );
  return parts.join("|");
}

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
  const ids = await runIds(dir);
  for (const id of cache.keys()) if (!ids.has(id)) cache.delete(id);
  const summaries: RunSummary[] = [];
  for (const runId of ids) {
    const key = await filesKey(dir, runId);
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
      summary = {
        runId,
        name: `(unreadable: ${(error as Error).message})`,
        status: "Crashed",
        startTime: null,
        endTime: null,
        requests: 0,
        failed: 0,
        live: false,
        source: "events",
      };
    }
    if (!summary.live) cache.set(runId, { key, summary });
    summaries.push(summary);
  }
  return summaries.sort((a, b) =>
    (b.startTime ?? 0) - (a.startTime ?? 0) || a.runId.localeCompare(b.runId)
  );
}
