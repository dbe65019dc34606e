/**
 * Reading saved runs back: from the snapshot when it holds everything, else
 * rebuilt from the event log, so that a run that crashed or is still going
 * can be listed and inspected.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import type {
  ExecutionStatus,
  SerializedRun,
} from "../state/execution_info.ts";
import { ExecutionInfo } from "../state/execution_info.ts";
import type { Stamp } from "../state/stamp.ts";
import {
  type CreatedEvent,
  EVENT_LOG_FORMAT,
  type RunEvent,
} from "./event_log.ts";
import { runsDir, type RunSnapshot, snapshotOf } from "./run_store.ts";

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
   * @param message What was looked for, and where.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const RUN_ID = /^[\w.-]{1,200}$/;

/**
 * Whether a string can be a run identifier (letters, digits, `.`, `_`,
 * `-`; no path separators), so it can name files in the runs folder only.
 *
 * @param value Anything.
 * @returns `true` for a well-formed run id.
 */
export function isRunId(value: unknown): value is string {
  return typeof value === "string" && RUN_ID.test(value) &&
    value !== "." && value !== "..";
}

/** The parsed lines of an event log. */
export interface ParsedEventLog {
  /** The events, in file order. */
  events: RunEvent[];
  /** Bytes of complete lines read; a torn last line is not counted. */
  offset: number;
  /** Lines skipped, and why. */
  warnings: string[];
}

/**
 * Parses event-log bytes: every complete line that is a JSON object; a
 * torn last line (no final newline) is left for later.
 *
 * @param bytes The file's content, or a part of it starting at a line.
 * @returns The events, the bytes consumed and what was skipped.
 *
 * @example A torn last line is ignored
 * ```ts
 * import { parseEventLog } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const text = '{"event":"saved","time":1,"status":"Completed","events":0}\n{"event":"crea';
 * const parsed = parseEventLog(new TextEncoder().encode(text));
 * assert.equal(parsed.events.length, 1);
 * assert.equal(parsed.offset, text.indexOf("\n") + 1);
 * assert.match(parsed.warnings[0], /torn last line/);
 * ```
 */
export function parseEventLog(bytes: Uint8Array): ParsedEventLog {
  const offset = bytes.lastIndexOf(10) + 1;
  const warnings: string[] = [];
  const events: RunEvent[] = [];
  const text = new TextDecoder().decode(bytes.subarray(0, offset));
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    try {
      const value = JSON.parse(line);
      if (typeof value?.event === "string") events.push(value as RunEvent);
      else warnings.push(`line ${i + 1}: not an event`);
    } catch {
      warnings.push(`line ${i + 1}: not valid JSON`);
    }
  }
  if (offset < bytes.length) {
    warnings.push(
      `ignored a torn last line (${bytes.length - offset} bytes)`,
    );
  }
  return { events, offset, warnings };
}

/**
 * Rebuilds an execution from its events, with the stamps they carry.
 *
 * @param events The events of one run, in file order.
 * @returns The execution and what was skipped (ends of unknown requests, …).
 */
export function rebuildExecution(
  events: readonly RunEvent[],
): { info: ExecutionInfo; warnings: string[] } {
  const info = ExecutionInfo.createNew();
  const stamps: Stamp[] = [];
  const warnings: string[] = [];
  const statuses = {
    completed: "Completed",
    failed: "Failed",
    cancelled: "Cancelled",
  } as const;
  for (const event of events) {
    if (event.event === "created") {
      if (info.requestHeap.has(event.request)) {
        warnings.push(`request ${event.request} created twice`);
        continue;
      }
      const stamp = stampOf(event, `Created request ${event.request}`);
      stamps.push(stamp);
      info.nodeHeap.upsert(nodeRecord(event, stamp));
      info.requestHeap.create(
        event.request,
        event.parentNode,
        event.node,
        Array.isArray(event.args) ? event.args : [],
        stamp,
      );
    } else if (event.event in statuses) {
      const end = event as Extract<RunEvent, { event: keyof typeof statuses }>;
      const status = statuses[end.event];
      const current = info.requestHeap.get(end.request);
      if (!current) {
        warnings.push(`${end.event} of unknown request ${end.request}`);
        continue;
      }
      if (current.status !== "Open") continue;
      const stamp = stampOf(end, `${status} request ${end.request}`);
      stamps.push(stamp);
      info.requestHeap.update(end.request, end.output, status, stamp);
    }
  }
  info.stamper.adopt(stamps.sort((a, b) => a.step - b.step));
  return { info, warnings };
}

function stampOf(
  event: { time: number; step: number },
  identifier: string,
): Stamp {
  return { time: event.time, step: event.step, identifier };
}

function nodeRecord(event: CreatedEvent, stamp: Stamp) {
  return {
    identifier: event.node,
    name: String(event.name),
    nodeType: String(event.nodeType),
    stamp,
    parent: null,
  };
}

/**
 * Whether a process holds the event log open for writing (its writer keeps
 * an exclusive lock until it closes or dies).
 *
 * @param path The event log's path.
 * @returns `true` while a writer is alive; `false` otherwise or if absent.
 */
export async function isEventLogActive(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return false;
  }
  try {
    const free = await file.tryLock(false);
    if (free) await file.unlock();
    return !free;
  } finally {
    file.close();
  }
}

/**
 * Finds where a run reference points: a run id in `stateDir`, a unique
 * prefix of one, or the path of a `.json` or `.events.jsonl` file.
 *
 * @param stateDir The state folder.
 * @param ref A run id, an id prefix, or a file path.
 * @returns The runs folder and the run id.
 * @throws {RunNotFoundError} If no run matches, or several ids share the prefix.
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
      `Cannot load run as 'runId' must be made of letters, digits, '.', '_' or '-', or be a .json/.events.jsonl file: current value is ${
        JSON.stringify(ref)
      }`,
    );
  }
  const dir = runsDir(stateDir);
  const ids = await runIds(dir);
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
 * import { loadRun, node, Runner } from "@switchyard/core";
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
      `Cannot load run as 'runId' must be made of letters, digits, '.', '_' or '-': current value is ${
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
  if (snapshotText !== null) {
    const snapshot = parseSnapshot(snapshotText, snapshotPath);
    if (!parsed || snapshotHoldsLog(snapshot, parsed.events)) {
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
  return fromEvents(runId, parsed!, live, logPath);
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
  return value as RunSnapshot;
}

/**
 * Lists the saved runs of a state folder, newest first. A run whose files
 * cannot be read is listed with status `"Crashed"` and a name saying why,
 * rather than hiding the others.
 *
 * @param stateDir The state folder.
 * @returns One summary per run (none if the folder does not exist).
 */
export async function listRuns(stateDir: string): Promise<RunSummary[]> {
  const dir = runsDir(stateDir);
  const summaries: RunSummary[] = [];
  for (const runId of await runIds(dir)) {
    try {
      summaries.push(summarize(await loadFromDir(dir, runId)));
    } catch (error) {
      summaries.push({
        runId,
        name: `(unreadable: ${(error as Error).message})`,
        status: "Crashed",
        startTime: null,
        endTime: null,
        requests: 0,
        failed: 0,
        live: false,
        source: "events",
      });
    }
  }
  return summaries.sort((a, b) =>
    (b.startTime ?? 0) - (a.startTime ?? 0) || a.runId.localeCompare(b.runId)
  );
}

/**
 * The one-line summary of a loaded run.
 *
 * @param run The run.
 * @returns Its summary.
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
