/**
 * The lines of a run's event log, `<stateDir>/runs/<runId>.events.jsonl`:
 * what the event-log writer writes and the loader reads back.
 *
 * @module
 */
import type { ExecutionStatus } from "../state/execution_info.ts";
import type { AttemptRecord } from "../state/request_forest.ts";

/** The format marker written on the first line of every event log. */
export const EVENT_LOG_FORMAT = "switchyard.events/1";

/** The first line: which run the log belongs to. */
export interface StartEvent {
  /** Always `"start"`. */
  event: "start";
  /** Always {@linkcode EVENT_LOG_FORMAT}. */
  format: typeof EVENT_LOG_FORMAT;
  /** The runner's run identifier. */
  runId: string;
  /** When the log was opened (ms since the epoch). */
  time: number;
  /** The writing process. */
  pid: number;
}

/** A request was created. */
export interface CreatedEvent {
  /** Always `"created"`. */
  event: "created";
  /** The creation stamp's time. */
  time: number;
  /** The creation stamp's step. */
  step: number;
  /** The request id. */
  request: string;
  /** The calling node instance, `null` for a top-level request. */
  parentNode: string | null;
  /** The node instance serving the request. */
  node: string;
  /** The node's name. */
  name: string;
  /** How it runs (`"async"`, `"worker"`, …). */
  nodeType: string;
  /** The call's arguments, JSON-safe. */
  args: unknown[];
}

/** A request ended. */
export interface EndedEvent {
  /** How it ended. */
  event: "completed" | "failed" | "cancelled";
  /** The end stamp's time. */
  time: number;
  /** The end stamp's step. */
  step: number;
  /** The request id. */
  request: string;
  /** The returned value (completed) or the error (failed, cancelled), JSON-safe. */
  output: unknown;
  /** Every attempt of a retried request (errors JSON-safe); absent for one attempt. */
  attempts?: readonly AttemptRecord[];
}

/** The snapshot `<runId>.json` was written with everything logged so far. */
export interface SavedEvent {
  /** Always `"saved"`. */
  event: "saved";
  /** When. */
  time: number;
  /** The execution's status at that moment. */
  status: ExecutionStatus;
  /**
   * How many `created` and end lines precede this one; a snapshot holding
   * at least as many request versions holds everything logged before it.
   */
  events: number;
}

/** One line of an event log. */
export type RunEvent = StartEvent | CreatedEvent | EndedEvent | SavedEvent;
