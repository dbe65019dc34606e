/**
 * What one job keeps: what its routines store (routine state, shared data,
 * the shared log) and the flow engine's bookkeeping (status, per-routine
 * status, the history, pause points, deferred events, the queue of
 * activations). `JobState` is the checked public view of it; the flow's
 * execution writes the bookkeeping.
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import { errorSummary } from "./_error_summary.ts";
import { ExecutionRecord } from "./execution_record.ts";
import type {
  DeferredEvent,
  JobStateContent,
  JobStateStatus,
  OutputHandler,
  PausePoint,
  PendingActivation,
  RoutineOutput,
  RoutineStatus,
  RoutineStatusName,
  SharedLogEntry,
} from "./_job_state_file.ts";

const log = logger("flow");

/**
 * The execution history of a job, within its size and age limits.
 */
export class JobHistory {
  /** How many records are kept. */
  readonly maxSize: number;
  /** How long records are kept, in ms (`null`: forever). */
  readonly ttl: number | null;
  // Invariant: #records is in time order; it may hold up to twice maxSize
  // records (trimmed in one go, not one splice per record), so every
  // reader goes through records(), which prunes first.
  #records: ExecutionRecord[] = [];

  /**
   * Makes an empty history.
   *
   * @param maxSize How many records are kept.
   * @param ttl How long records are kept, in ms (`null`: forever).
   */
  constructor(maxSize: number, ttl: number | null) {
    this.maxSize = maxSize;
    this.ttl = ttl;
  }

  /** Appends a record. */
  push(record: ExecutionRecord): void {
    this.#records.push(record);
    if (this.#records.length >= 2 * this.maxSize) this.#prune();
  }

  /** The records retained now, in time order (the history's own array). */
  records(): readonly ExecutionRecord[] {
    this.#prune();
    return this.#records;
  }

  /** Replaces the records (a job being loaded). */
  replace(records: ExecutionRecord[]): void {
    this.#records = records;
  }

  /** Drops the records beyond `maxSize` or older than `ttl`. */
  #prune(): void {
    const records = this.#records;
    const excess = records.length - this.maxSize;
    if (excess > 0) records.splice(0, excess);
    if (this.ttl !== null && records.length > 0) {
      const oldest = Date.now() - this.ttl;
      const keep = records.findIndex((r) => r.timestamp >= oldest);
      records.splice(0, keep === -1 ? records.length : keep);
    }
  }
}

/**
 * Everything one job keeps. Its fields are the job's own (readers of
 * `JobState` get copies or read-only views).
 */
export class JobBook {
  // Invariant: routineStates holds only what routines stored; the engine's
  // bookkeeping (status, attempts, last error) is routineStatus.
  /** Each routine's own state. */
  routineStates: Map<string, Record<string, unknown>> = new Map();
  /** Data every routine of the job reads. */
  sharedData: Map<string, unknown> = new Map();
  /** The shared log, oldest first. */
  sharedLog: SharedLogEntry[] = [];
  /** Where the job stands. */
  status: JobStateStatus = "pending";
  /** The error that failed the job, as `{ name, message }`. */
  error: { name: string; message: string } | null = null;
  /** When anything last changed, in ms since the epoch. */
  updatedAt: number;
  /** Per-routine status, attempts and last error (never the routine's own state). */
  routineStatus: Map<string, RoutineStatus> = new Map();
  /** Every emit and failure. */
  readonly history: JobHistory;
  /** Every pause so far, oldest first. */
  pausePoints: PausePoint[] = [];
  /** Events held back until the job resumes. */
  deferred: DeferredEvent[] = [];
  // Invariant: holds, in dispatch order, every activation not yet handed
  // to the engine; the flow takes from its head.
  /** The activations waiting to run. */
  queue: PendingActivation[] = [];
  /** Receives `sendOutput` calls (not saved). */
  outputHandler: OutputHandler | null = null;
  /** The file last saved to or loaded from: resuming claims a lease beside it. */
  file: string | null = null;

  /**
   * Makes the book of a new job.
   *
   * @param history The job's history.
   * @param now Its creation time.
   */
  constructor(history: JobHistory, now: number) {
    this.history = history;
    this.updatedAt = now;
  }

  /** What is saved besides the header (see `JobState.toJSON`). */
  content(): JobStateContent {
    return {
      routineStates: this.routineStates,
      routineStatus: this.routineStatus,
      history: this.history.records().map((r) => ({ ...r })),
      sharedData: this.sharedData,
      sharedLog: this.sharedLog,
      pausePoints: this.pausePoints,
      deferredEvents: this.deferred,
      pendingActivations: this.queue,
    };
  }

  /** Takes over what a saved job holds (a job being loaded). */
  restore(content: JobStateContent): void {
    this.routineStates = content.routineStates;
    this.routineStatus = content.routineStatus;
    this.history.replace(
      content.history.map((r) =>
        new ExecutionRecord(r.routineId, r.eventName, r.data, r.timestamp, r.kind)
      ),
    );
    this.sharedData = content.sharedData;
    this.sharedLog = content.sharedLog;
    this.pausePoints = content.pausePoints;
    this.deferred = content.deferredEvents;
    this.queue = content.pendingActivations;
  }

  /** Notes a change now. */
  touch(): void {
    this.updatedAt = Date.now();
  }

  /** Sets the job's status (and the error that failed it). */
  setStatus(status: JobStateStatus, error?: unknown): void {
    this.status = status;
    if (error !== undefined) this.error = errorSummary(error);
    this.touch();
  }

  /** Sets where a routine's latest activation stands. */
  setRoutineStatus(
    routineId: string,
    status: RoutineStatusName,
    attempts: number,
    error?: unknown,
  ): void {
    // Updated in place, not remade at each transition.
    const current = this.routineStatus.get(routineId);
    const lastError = error === undefined
      ? current?.lastError ?? null
      : errorSummary(error).message;
    if (current === undefined) {
      this.routineStatus.set(routineId, { status, attempts, lastError });
    } else {
      current.status = status;
      current.attempts = attempts;
      current.lastError = lastError;
    }
    this.touch();
  }

  /** Records an emit in the history. */
  recordEmit(record: ExecutionRecord): void {
    this.history.push(record);
    this.updatedAt = record.timestamp;
  }

  /** Records a failure in the history, with what was decided about it. */
  recordError(routineId: string, data: Record<string, unknown>): void {
    this.history.push(new ExecutionRecord(routineId, "error", data, Date.now(), "error"));
    this.touch();
  }

  /** Adds a pause point. */
  addPausePoint(point: PausePoint): void {
    this.pausePoints.push(point);
    this.touch();
  }

  /** Hands an output to the output handler; its failure is logged. */
  output(output: RoutineOutput): void {
    const handler = this.outputHandler;
    if (!handler) return;
    const failed = (error: unknown) =>
      log.warn(
        "Output handler of job {jobId} failed on {type} from {routineId}: {error}",
        { ...output, error },
      );
    try {
      Promise.resolve(handler(output)).catch(failed);
    } catch (error) {
      failed(error);
    }
  }
}
