/**
 * Reading saved runs back: from the snapshot when it holds everything, else
 * rebuilt from the event log, so that a run that crashed or is still going
 * can be listed and inspected.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { ExecutionStatus, SerializedRun } from "../state/execution_info.ts";
import { EVENT_LOG_FORMAT, type RunEvent } from "./run_events.ts";
import {
  isEventLogActive,
  type ParsedEventLog,
  parseEventLog,
  rebuildExecution,
} from "./event_log_reader.ts";
import { runsDir, type RunSnapshot, snapshotOf } from "./run_store.ts";
import { runFilesKey, savedRunIds } from "./run_files.ts";
import { snapshotProblem } from "./_snapshot_shape.ts";
import { isRunId, RUN_ID_RULE } from "../core/run_id.ts";

/**
 * The status of a saved run: that of its execution, or `"Crashed"` when its
 * log stopped with requests open and no process writes it any more.
 */
export type RunStatus = ExecutionStatus | "Crashed";

/** A run read back from disk. */
export interface LoadedRun {
  /** The run identifier. */
  runId: string;
  /** The first top-level node's name. */
  name: string;
  /** Where the run stands. */
  status: RunStatus;
  /** When it started (ms since the epoch), `null` if nothing ran. */
  startTime: number | null;
  /** When it ended, `null` while open (or crashed). */
  endTime: number | null;
  /** When the snapshot was written, `null` when rebuilt from the log. */
  savedAt: number | null;
  /** What it was read from. */
  source: "snapshot" | "events";
  /** Whether a process is writing its event log right now. */
  live: boolean;
  /** How many bytes of the event log this reflects (0 without a log). */
  eventsOffset: number;
  /** One entry per top-level run, as in the snapshot. */
  runs: SerializedRun[];
  /** What was skipped while reading (torn or unreadable lines, …). */
  warnings: string[];
}

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

/** A run that is not on disk (or a file that is not a run). */
export class RunNotFoundError extends Error {
  /** Always `"RunNotFoundError"`. */
  override readonly name = "RunNotFoundError";
  /**
   * Makes a RunNotFoundError.
   *
   * @param message What was looked for, and where.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export { isRunId };

/**
 * Finds where a run reference points: a run id in `stateDir`, a unique
 * prefix of one, or the path of a `.json` or `.events.jsonl` file.
 *
 * @param stateDir The state folder.
 * @param ref A run id, an id prefix, or a file path.
 * @returns The runs folder and the run id.
 * @throws {RunNotFoundError} If no run matches, or several ids share the prefix.
 *
 * @example A unique prefix
 * ```ts
 * import { node, Runner } from "@switchyard/core";
 * import { resolveRun } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * {
 *   await using runner = new Runner({ saveState: true, stateDir, runIdentifier: "nightly-42", loggingSetting: "NONE" });
 *   await runner.run(node(() => 1, { name: "one" }));
 * }
 * assert.equal((await resolveRun(stateDir, "night")).runId, "nightly-42");
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 * @throws {TypeError} If `ref` is neither a well-formed id nor a run file.
 */
export async function resolveRun(
  stateDir: string,
  ref: string,
): Promise<{ dir: string; runId: string }> {
  const file = /\.events\.jsonl$|\.json$/.exec(ref);
  if (file && (ref.includes("/") || ref.includes("\\") || await exists(ref))) {
    const name = basename(ref).slice(0, -file[0].length);
    if (!await exists(ref)) {
      throw new RunNotFoundError(
        `Cannot load run as file '${ref}' does not exist`,
      );
    }
    return { dir: dirname(ref), runId: name };
  }
  if (!isRunId(ref)) {
    throw new TypeError(
      `Cannot load run as 'runId' must be ${RUN_ID_RULE}, or be a .json/.events.jsonl file: current value is ${
        JSON.stringify(ref)
      }`,
    );
  }
  const dir = runsDir(stateDir);
  const ids = await savedRunIds(dir);
  if (ids.has(ref)) return { dir, runId: ref };
  const matches = [...ids].filter((id) => id.startsWith(ref));
  if (matches.length === 1) return { dir, runId: matches[0] };
  throw new RunNotFoundError(
    matches.length === 0
      ? `Cannot load run as 'runId' must name a run in ${dir}: current value is '${ref}'`
      : `Cannot load run as 'runId' must name one run in ${dir}: '${ref}' starts ${matches.length} (${
        matches.slice(0, 5).join(", ")
      })`,
  );
}

/**
 * Reads a run: the snapshot when it holds everything the log says, else a
 * rebuild from the event log (tolerating a torn last line).
 *
 * @param stateDir The state folder (ignored when `ref` is a file path).
 * @param ref A run id, a unique id prefix, or a run file's path.
 * @returns The run.
 * @throws {RunNotFoundError} If there is no such run.
 * @throws {TypeError} If `ref` is malformed or a file is not a run.
 *
 * @example Loading a saved run
 * ```ts
 * import { loadRun } from "@switchyard/core/persistence";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * {
 *   await using runner = new Runner({ saveState: true, stateDir, runIdentifier: "r1", loggingSetting: "NONE" });
 *   await runner.run(node(async () => 7, { name: "seven" }));
 * }
 * const run = await loadRun(stateDir, "r1");
 * assert.equal(run.status, "Completed");
 * assert.equal(run.source, "snapshot");
 * assert.equal(run.runs[0].edges[0].details.output, 7);
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export async function loadRun(
  stateDir: string,
  ref: string,
): Promise<LoadedRun> {
  const { dir, runId } = await resolveRun(stateDir, ref);
  return await loadFromDir(dir, runId);
}

/**
 * Reads a run from a runs folder by exact id.
 *
 * @param dir The runs folder (`<stateDir>/runs`).
 * @param runId The run id.
 * @returns The run.
 * @throws {RunNotFoundError} If neither its snapshot nor its log exists.
 */
export async function loadFromDir(
  dir: string,
  runId: string,
): Promise<LoadedRun> {
  if (!isRunId(runId)) {
    throw new TypeError(
      `Cannot load run as 'runId' must be ${RUN_ID_RULE}: current value is ${
        JSON.stringify(runId)
      }`,
    );
  }
  const snapshotPath = join(dir, `${runId}.json`);
  const logPath = join(dir, `${runId}.events.jsonl`);
  const [snapshotText, logBytes] = await Promise.all([
    readOrNull(() => Deno.readTextFile(snapshotPath)),
    readOrNull(() => Deno.readFile(logPath)),
  ]);
  if (snapshotText === null && logBytes === null) {
    throw new RunNotFoundError(
      `Cannot load run as 'runId' must name a run in ${dir}: current value is '${runId}'`,
    );
  }
  const live = logBytes !== null && await isEventLogActive(logPath);
  const parsed = logBytes ? parseEventLog(logBytes) : null;
  let unreadable: TypeError | null = null;
  if (snapshotText !== null) {
    let snapshot: RunSnapshot | null = null;
    try {
      snapshot = parseSnapshot(snapshotText, snapshotPath);
    } catch (error) {
      // A torn or damaged snapshot: the event log beside it, when there is
      // one, holds the same run.
      if (!parsed || !(error instanceof TypeError)) throw error;
      unreadable = error;
    }
    if (snapshot && (!parsed || snapshotHoldsLog(snapshot, parsed.events))) {
      return {
        runId: snapshot.runId,
        name: snapshot.name,
        status: snapshot.status,
        startTime: snapshot.startTime,
        endTime: snapshot.endTime,
        savedAt: snapshot.savedAt,
        source: "snapshot",
        live,
        eventsOffset: parsed?.offset ?? 0,
        runs: snapshot.runs,
        warnings: parsed?.warnings ?? [],
      };
    }
  }
  try {
    const run = fromEvents(runId, parsed!, live, logPath);
    if (unreadable) {
      run.warnings.unshift(
        `the snapshot '${snapshotPath}' is unreadable, so the run was read from its event log (${unreadable.message})`,
      );
    }
    return run;
  } catch (error) {
    // Neither is readable: the snapshot's problem is the one to report.
    throw unreadable ?? error;
  }
}

function fromEvents(
  runId: string,
  parsed: ParsedEventLog,
  live: boolean,
  path: string,
): LoadedRun {
  const start = parsed.events[0];
  const warnings = [...parsed.warnings];
  if (start?.event !== "start" || start.format !== EVENT_LOG_FORMAT) {
    if (parsed.events.length === 0 && parsed.offset === 0) {
      warnings.push("the event log is empty");
    } else {
      throw new TypeError(
        `Cannot load run as '${path}' must start with a ${EVENT_LOG_FORMAT} line: current first line is ${
          JSON.stringify(start ?? null)
        }`,
      );
    }
  }
  const rebuilt = rebuildExecution(parsed.events);
  warnings.push(...rebuilt.warnings);
  const snapshot = snapshotOf(runId, rebuilt.info);
  const crashed = !live && snapshot.status === "Open";
  return {
    runId,
    name: snapshot.name,
    status: crashed ? "Crashed" : snapshot.status,
    startTime: snapshot.startTime ??
      (start?.event === "start" ? start.time : null),
    endTime: snapshot.endTime,
    savedAt: null,
    source: "events",
    live,
    eventsOffset: parsed.offset,
    runs: snapshot.runs,
    warnings,
  };
}

/** Whether the snapshot holds every request version logged before the last "saved". */
function snapshotHoldsLog(
  snapshot: RunSnapshot,
  events: readonly RunEvent[],
): boolean {
  const last = events.at(-1);
  if (!last || last.event === "start") return true;
  if (last.event !== "saved") return false;
  let versions = 0;
  for (const run of snapshot.runs) {
    for (const edge of run.edges) {
      versions += edge.details.status === "Open" ? 1 : 2;
    }
  }
  return versions >= last.events;
}

function parseSnapshot(text: string, path: string): RunSnapshot {
  let value: Partial<RunSnapshot>;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TypeError(
      `Cannot load run as '${path}' must be JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (value?.format !== "switchyard.run/1" || !Array.isArray(value.runs)) {
    throw new TypeError(
      `Cannot load run as '${path}' must be a switchyard.run/1 snapshot: current format is ${
        JSON.stringify(value?.format ?? null)
      }`,
    );
  }
  const problem = snapshotProblem(value);
  if (problem) {
    throw new TypeError(
      `Cannot load run as '${path}' must be a switchyard.run/1 snapshot: ${problem}`,
    );
  }
  return value as RunSnapshot;
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

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function readOrNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
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
