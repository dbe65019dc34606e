/**
 * Saved runs: snapshots written atomically under `<stateDir>/runs/`.
 *
 * @module
 */
import { join } from "node:path";
import { JsonBytes } from "../core/json_bytes.ts";
import type { ExecutionInfo, SerializedRun } from "../state/execution_info.ts";
import type { ExecutionStatus } from "../state/execution_info.ts";
import { runHeads, writeRunJson } from "../state/graph_json.ts";

/** The content of `<stateDir>/runs/<runId>.json`. */
export interface RunSnapshot {
  /** Format marker and version. */
  format: "switchyard.run/1";
  /** The runner's run identifier. */
  runId: string;
  /** The top-level node's name, or the distinct names of several, comma-separated. */
  name: string;
  /** The status of the whole execution. */
  status: ExecutionStatus;
  /** When the first run started (ms since the epoch), `null` if none did. */
  startTime: number | null;
  /** When the last run ended, `null` while any is open. */
  endTime: number | null;
  /** When this snapshot was written. */
  savedAt: number;
  /** The `graphSerialization()` payload: one entry per top-level run. */
  runs: SerializedRun[];
}

/**
 * The folder saved runs live in.
 *
 * @param stateDir The state folder, e.g. `.switchyard`.
 * @returns `<stateDir>/runs`.
 */
export function runsDir(stateDir: string): string {
  return join(stateDir, "runs");
}

/**
 * Builds the snapshot of an execution.
 *
 * @param runId The run identifier.
 * @param info The execution.
 * @param status The status to record; `info.status` by default.
 * @returns The snapshot, JSON-safe.
 */
export function snapshotOf(
  runId: string,
  info: ExecutionInfo,
  status: ExecutionStatus = info.status,
): RunSnapshot {
  const runs = info.serializedRuns();
  return {
    format: "switchyard.run/1",
    runId,
    name: runName(runs),
    status,
    startTime: runs.length ? Math.min(...runs.map((r) => r.startTime)) : null,
    endTime: endOf(info, runs),
    savedAt: Date.now(),
    runs,
  };
}

/**
 * A run's display name: its top-level node's name, or the distinct names of
 * its top-level requests in order (`Scan, Analyse, Report`) when there are
 * several, as for a state queue or a runner that ran several times. The
 * snapshot, `switchyard ls` and the visualizer all name runs with it.
 *
 * @param runs The run's top-level requests, in order.
 * @returns The name (`""` for none).
 */
export function runName(runs: readonly { name: string }[]): string {
  const names = [...new Set(runs.map((r) => r.name))];
  return names.length <= 4
    ? names.join(", ")
    : `${names.slice(0, 3).join(", ")}, … (${names.length})`;
}

/**
 * Writes a file atomically: a temporary file in the same folder, then a
 * rename, so readers see the old content or the new, never a torn one.
 *
 * @param path Where.
 * @param text What.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temp, text);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * Saves the snapshot of an execution to `<stateDir>/runs/<runId>.json`,
 * atomically (see {@linkcode writeFileAtomic}). The text is what
 * `JSON.stringify(snapshotOf(runId, info, status))` gives, written in
 * chunks straight from the records as they are at the call.
 *
 * @param stateDir The state folder.
 * @param runId The run identifier.
 * @param info The execution.
 * @param options `status` to record instead of `info.status` (a flow job
 *   that failed while its requests completed, say).
 * @returns The path written.
 * @throws {Deno.errors.PermissionDenied} And other file errors.
 */
export async function saveRunSnapshot(
  stateDir: string,
  runId: string,
  info: ExecutionInfo,
  options: { status?: ExecutionStatus } = {},
): Promise<string> {
  const dir = runsDir(stateDir);
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, `${runId}.json`);
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    // Synchronous from the first record read to the last byte written, so
    // the snapshot is of one moment even while the run goes on.
    writeSnapshot(temp, runId, info, options.status ?? info.status);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  if (!swept.has(dir)) {
    swept.add(dir);
    await removeStaleTempFiles(dir);
  }
  return path;
}

/** Bytes of snapshot text written to the file at a time. */
const SNAPSHOT_CHUNK = 1 << 20;

function writeSnapshot(
  path: string,
  runId: string,
  info: ExecutionInfo,
  status: ExecutionStatus,
): void {
  using file = Deno.openSync(path, { write: true, createNew: true });
  const out = new JsonBytes(SNAPSHOT_CHUNK, (chunk) => {
    for (let at = 0; at < chunk.length;) at += file.writeSync(chunk.subarray(at));
  });
  const heads = runHeads(info);
  // The fields of RunSnapshot, in its order.
  out.ascii('{"format":"switchyard.run/1","runId":');
  out.string(runId);
  out.ascii(',"name":');
  out.string(runName(heads));
  out.ascii(',"status":');
  out.string(status);
  out.ascii(',"startTime":');
  writeTime(out, heads.length ? heads.reduce((t, r) => Math.min(t, r.startTime), Infinity) : null);
  out.ascii(',"endTime":');
  writeTime(out, endOf(info, heads));
  out.ascii(',"savedAt":');
  out.number(Date.now());
  out.ascii(',"runs":[');
  heads.forEach((head, i) => {
    if (i > 0) out.ascii(",");
    writeRunJson(info, head, out);
  });
  out.ascii("]}");
  out.spill(0);
}

/**
 * When a run ended: when its last request did, which may be after its
 * top-level requests (a flow's activations outlive the trigger that
 * started them); `null` while a top-level request is open.
 */
function endOf(
  info: ExecutionInfo,
  heads: readonly { endTime: number | null }[],
): number | null {
  if (heads.length === 0 || heads.some((r) => r.endTime === null)) return null;
  const requests = info.requestHeap;
  let last = -Infinity;
  for (let row = 0; row < requests.rowCount; row++) {
    const end = requests.timeOf(row, true);
    if (end !== null && end > last) last = end;
  }
  return last;
}

function writeTime(out: JsonBytes, time: number | null): void {
  if (time === null) out.ascii("null");
  else out.value(time);
}

// Folders already swept by this process: one sweep per folder is enough.
const swept = new Set<string>();

/**
 * Removes temporary files of atomic writes that a killed process left
 * behind (`*.tmp` older than `olderThan`; a live write takes milliseconds).
 * Errors are ignored: a sweep must never fail a save.
 *
 * @param dir The runs folder.
 * @param olderThan Minimum age in ms (default one hour).
 * @returns How many files were removed.
 */
export async function removeStaleTempFiles(dir: string, olderThan = 3_600_000): Promise<number> {
  let removed = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".tmp")) continue;
      const path = join(dir, entry.name);
      const { mtime } = await Deno.stat(path);
      if (mtime && Date.now() - mtime.getTime() >= olderThan) {
        await Deno.remove(path);
        removed++;
      }
    }
  } catch {
    // A folder or file that vanished meanwhile is no reason to fail.
  }
  return removed;
}
