/**
 * Reading a saved run back: from the snapshot when it holds everything,
 * else rebuilt from the event log, so that a run that crashed or is still
 * going can be inspected.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { join } from "node:path";
import type { ExecutionStatus, SerializedRun } from "../state/execution_info.ts";
import { EVENT_LOG_FORMAT, type RunEvent } from "./run_events.ts";
import {
  isEventLogActive,
  type ParsedEventLog,
  parseEventLog,
  rebuildExecution,
} from "./event_log_reader.ts";
import { type RunSnapshot, snapshotOf } from "./run_store.ts";
import { resolveRun, RunNotFoundError } from "./run_ref.ts";
import { isRunFile } from "./run_files.ts";
import { snapshotProblem } from "./_snapshot_shape.ts";
import { isRunId, RUN_ID_RULE } from "../core/run_id.ts";

/**
 * A run's files are there but cannot be read as a run: a snapshot that is
 * not JSON or not a snapshot, an event log that does not start as one. A
 * `TypeError`, as the other problems of what `loadRun` is given; its own
 * class so that a reader can tell a damaged run from a fault of its own.
 *
 * @example A file that is not a run
 * ```ts
 * import { loadRun, UnreadableRunError } from "@switchyard/core/persistence";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(join(dir, "notes.json"), "[1, 2]");
 * await assert.rejects(loadRun(dir, join(dir, "notes.json")), UnreadableRunError);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class UnreadableRunError extends TypeError {
  /** Always `"UnreadableRunError"`. */
  override readonly name = "UnreadableRunError";
}

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

/**
 * Reads a run: the snapshot when it holds everything the log says, else a
 * rebuild from the event log (tolerating a torn last line).
 *
 * @param stateDir The state folder (ignored when `ref` is a file path).
 * @param ref A run id, a unique id prefix, or a run file's path.
 * @returns The run.
 * @throws {RunNotFoundError} If there is no such run.
 * @throws {TypeError} If `ref` is malformed or names no regular file.
 * @throws {UnreadableRunError} If the run's files cannot be read as a run.
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
      `Cannot load run as 'runId' must be ${RUN_ID_RULE}: current value is ${describeValue(runId)}`,
    );
  }
  const snapshotPath = join(dir, `${runId}.json`);
  const logPath = join(dir, `${runId}.events.jsonl`);
  const [snapshotText, logBytes] = await Promise.all([
    readOrNull(snapshotPath, () => Deno.readTextFile(snapshotPath)),
    readOrNull(logPath, () => Deno.readFile(logPath)),
  ]);
  if (snapshotText === null && logBytes === null) {
    throw new RunNotFoundError(
      `Cannot load run as 'runId' must name a run in ${dir}: current value is ${
        describeValue(runId)
      }`,
    );
  }
  const live = logBytes !== null && await isEventLogActive(logPath);
  const parsed = logBytes ? parseEventLog(logBytes) : null;
  let unreadable: UnreadableRunError | null = null;
  if (snapshotText !== null) {
    let snapshot: RunSnapshot | null = null;
    try {
      snapshot = parseSnapshot(snapshotText, snapshotPath);
    } catch (error) {
      // A torn or damaged snapshot: the event log beside it, when there is
      // one, holds the same run.
      if (!parsed || !(error instanceof UnreadableRunError)) throw error;
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
      throw new UnreadableRunError(
        `Cannot load run as '${path}' must start with a ${EVENT_LOG_FORMAT} line: current first line is ${
          describeValue(start ?? null)
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
    // The parser's message quotes the file raw; the describer escapes it.
    const at = /\(line \d+ column \d+\)|at position \d+/.exec((error as Error).message)?.[0];
    throw new UnreadableRunError(
      `Cannot load run as '${path}' must be JSON${
        at ? ` (it breaks ${at})` : ""
      }: current value is ${describeValue(text, 80)}`,
      { cause: error },
    );
  }
  if (value?.format !== "switchyard.run/1" || !Array.isArray(value.runs)) {
    throw new UnreadableRunError(
      `Cannot load run as '${path}' must be a switchyard.run/1 snapshot: current value is ${
        describeValue(value, 80)
      }`,
    );
  }
  const problem = snapshotProblem(value);
  if (problem) {
    throw new UnreadableRunError(
      `Cannot load run as '${path}' must be a switchyard.run/1 snapshot: ${problem}`,
    );
  }
  return value as RunSnapshot;
}

/** Reads a run file; `null` when there is none (a link or folder is none). */
async function readOrNull<T>(path: string, read: () => Promise<T>): Promise<T | null> {
  if (!await isRunFile(path)) return null;
  try {
    return await read();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
