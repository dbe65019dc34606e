/**
 * The records of a run index: one request's entry, its full record as the
 * details API serves it, and a run's summary.
 *
 * @module
 */
import type { RunStatus } from "../persistence/run_loader.ts";

/** A request's status. */
export type Status = "Open" | "Completed" | "Failed" | "Cancelled";

/** One request as the index keeps it. */
export interface Entry {
  /** The request id. */
  id: string;
  /** The calling request's index, -1 for a top-level request. */
  parent: number;
  /** The serving node instance. */
  node: string;
  /** Depth in the tree. */
  depth: number;
  /** The node's name. */
  name: string;
  /** How the node runs (async, worker, process, remote, state, routine). */
  nodeType: string;
  /** Where the request stands. */
  status: Status;
  /** Created at (ms since the epoch). */
  start: number;
  /** Ended at, `null` while open. */
  end: number | null;
  /** The creation step. */
  step: number;
  /** Its arguments as short JSON text. */
  args: string;
  /** Indexes of its child requests, in creation order. */
  children: number[] | null;
  /** Byte offset of its `created` line, -1 when it came from a snapshot. */
  createdAt: number;
  /** Byte offset of its end line, -1 when open or from a snapshot. */
  endedAt: number;
  /** How many attempts were recorded (0 when none were). */
  attempts: number;
  /** Failed requests below it. */
  failedBelow: number;
  /** Cancelled requests below it. */
  cancelledBelow: number;
  /** Input, output and attempts of a request read from a snapshot. */
  inline?: { input: unknown; output: unknown; attempts?: unknown[] };
}

/** The full record of one request, as served by the details API. */
export interface RequestDetails {
  /** The request id. */
  id: string;
  /** The parent request's id. */
  parent: string | null;
  /** The node's name. */
  name: string;
  /** How the node runs. */
  nodeType: string;
  /** Where it stands. */
  status: Status;
  /** Created at. */
  start: number;
  /** Ended at. */
  end: number | null;
  /** Depth in the tree. */
  depth: number;
  /** The call's arguments. */
  input: unknown;
  /** Its result or error. */
  output: unknown;
  /** The recorded attempts, `[]` when none were. */
  attempts: unknown[];
  /** How many child requests it made. */
  children: number;
}

/** A run's summary as the visualizer serves it. */
export interface IndexSummary {
  /** The run id. */
  runId: string;
  /** The run's name: its top-level requests' distinct names, as `switchyard ls` shows it. */
  name: string;
  /** Where the run stands (`"Crashed"`: open, and no process writes it). */
  status: RunStatus;
  /** When it started. */
  startTime: number | null;
  /** When its last top-level request ended, `null` while open. */
  endTime: number | null;
  /** Whether a process writes its log. */
  live: boolean;
  /** What the index was built from. */
  source: "snapshot" | "events";
  /** Bytes of the log applied. */
  eventsOffset: number;
  /** What was skipped while reading (the first 50). */
  warnings: string[];
  /** Requests. */
  requests: number;
  /** Failed requests. */
  failed: number;
  /** Cancelled requests. */
  cancelled: number;
  /** Open requests. */
  open: number;
  /** The earliest request start. */
  t0: number | null;
  /** The latest request start or end. */
  t1: number | null;
}
