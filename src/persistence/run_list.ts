/**
 * Listing saved runs: one summary line per run, newest first, reusing the
 * summaries of runs whose files did not change.
 *
 * @module
 */
import { type LoadedRun, loadFromDir, type RunStatus } from "./run_loader.ts";
import { runsDir } from "./run_store.ts";
import { runFilesKey, savedRunIds } from "./run_files.ts";

/** One line of {@linkcode listRuns}. */
export interface RunSummary {
  /** The run identifier. */
  runId: string;
  /** The first top-level node's name. */
  name: string;
  /** Where the run stands. */
  status: RunStatus;
  /** When it started, `null` if nothing ran. */
  startTime: number | null;
  /** When it ended, `null` while open or crashed. */
  endTime: number | null;
  /** How many requests it made. */
  requests: number;
  /** How many of them failed. */
  failed: number;
  /** Whether a process is writing it right now. */
  live: boolean;
  /** What it was read from. */
  source: "snapshot" | "events";
}

/**
 * Summaries kept between calls of {@linkcode listRuns}, keyed by run id and
 * valid while the run's files keep their size and modification time.
 */
export type RunSummaryCache = Map<string, { key: string; summary: RunSummary }>;

/** Options of {@linkcode listRuns}. */
export interface ListRunsOptions {
  /**
   * Reuse the summaries of runs whose files did not change since the last
   * call with this cache (runs still written are always read again).
   */
  cache?: RunSummaryCache;
}

/**
 * Lists the saved runs of a state folder, newest first. A run whose files
 * cannot be read is listed with status `"Crashed"` and a name saying why,
 * rather than hiding the others.
 *
 * @param stateDir The state folder.
 * @param options A cache of summaries, for callers that list often.
 * @returns One summary per run (none if the folder does not exist).
 *
 * @example Listing runs
 * ```ts
 * import { listRuns } from "@switchyard/core/persistence";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * for (const runIdentifier of ["first", "second"]) {
 *   await using runner = new Runner({ saveState: true, stateDir, runIdentifier, loggingSetting: "NONE" });
 *   await runner.run(node(() => runIdentifier, { name: runIdentifier }));
 * }
 * const runs = await listRuns(stateDir);
 * assert.deepEqual(runs.map((r) => r.status), ["Completed", "Completed"]);
 * assert.deepEqual(runs.map((r) => r.name).sort(), ["first", "second"]);
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export async function listRuns(
  stateDir: string,
  options: ListRunsOptions = {},
): Promise<RunSummary[]> {
  const dir = runsDir(stateDir);
  const summaries: RunSummary[] = [];
  const ids = await savedRunIds(dir);
  for (const id of options.cache?.keys() ?? []) {
    if (!ids.has(id)) options.cache!.delete(id);
  }
  for (const runId of ids) {
    const key = options.cache ? await runFilesKey(dir, runId) : "";
    const cached = options.cache?.get(runId);
    if (cached && cached.key === key) {
      summaries.push(cached.summary);
      continue;
    }
    let summary: RunSummary;
    try {
      summary = summarize(await loadFromDir(dir, runId));
    } catch (error) {
      summary = unreadableRunSummary(runId, error);
    }
    if (options.cache && !summary.live) {
      options.cache.set(runId, { key, summary });
    }
    summaries.push(summary);
  }
  return sortRunSummaries(summaries);
}

/**
 * The one-line summary of a loaded run.
 *
 * @param run The run.
 * @returns Its summary.
 *
 * @example Counting requests
 * ```ts
 * import { loadRun, summarize } from "@switchyard/core/persistence";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * {
 *   await using runner = new Runner({ saveState: true, stateDir, runIdentifier: "s", loggingSetting: "NONE" });
 *   await runner.run(node(() => 1, { name: "one" }));
 * }
 * const summary = summarize(await loadRun(stateDir, "s"));
 * assert.deepEqual([summary.name, summary.requests, summary.failed], ["one", 1, 0]);
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export function summarize(run: LoadedRun): RunSummary {
  let requests = 0;
  let failed = 0;
  for (const serialized of run.runs) {
    requests += serialized.edges.length;
    for (const edge of serialized.edges) {
      if (edge.details.status === "Failed") failed++;
    }
  }
  return {
    runId: run.runId,
    name: run.name,
    status: run.status,
    startTime: run.startTime,
    endTime: run.endTime,
    requests,
    failed,
    live: run.live,
    source: run.source,
  };
}

/**
 * The summary listed for a run whose files cannot be read: `"Crashed"`,
 * named after why.
 *
 * @param runId The run.
 * @param error Why it could not be read.
 * @returns Its summary.
 */
export function unreadableRunSummary(runId: string, error: unknown): RunSummary {
  return {
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

/**
 * Sorts run summaries newest first (ties by run id), in place.
 *
 * @param summaries The summaries.
 * @returns The same array, sorted.
 */
export function sortRunSummaries(summaries: RunSummary[]): RunSummary[] {
  return summaries.sort((a, b) =>
    (b.startTime ?? 0) - (a.startTime ?? 0) || a.runId.localeCompare(b.runId)
  );
}
