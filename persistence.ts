/**
 * Reading and writing saved runs: the snapshot store under `.switchyard/runs/`,
 * the append-only event log a running run writes, and the loader that lists
 * runs and rebuilds a run's `ExecutionInfo` from either.
 *
 * @example List the runs saved in a folder
 * ```ts
 * import { listRuns } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * assert.deepEqual(await listRuns(dir), []);
 * ```
 *
 * @module
 */

export {
  runsDir,
  type RunSnapshot,
  saveRunSnapshot,
  snapshotOf,
} from "./src/persistence/run_store.ts";
export {
  EVENT_LOG_BATCH_BYTES,
  EVENT_LOG_BATCH_MS,
  eventLogPath,
  EventLogWriter,
} from "./src/persistence/event_log.ts";
export {
  type CreatedEvent,
  type EndedEvent,
  EVENT_LOG_FORMAT,
  type RunEvent,
  type SavedEvent,
  type StartEvent,
} from "./src/persistence/run_events.ts";
export {
  isEventLogActive,
  type ParsedEventLog,
  parseEventLog,
  rebuildExecution,
} from "./src/persistence/event_log_reader.ts";
export { isRunId, resolveRun, RunNotFoundError } from "./src/persistence/run_ref.ts";
export {
  type LoadedRun,
  loadFromDir,
  loadRun,
  type RunStatus,
  UnreadableRunError,
} from "./src/persistence/run_loader.ts";
export {
  listRuns,
  type ListRunsOptions,
  type RunSummary,
  type RunSummaryCache,
  summarize,
} from "./src/persistence/run_list.ts";
export { type RequestRow, requestRows } from "./src/persistence/request_rows.ts";
