/**
 * JobState: everything one execution of a flow knows and keeps.
 *
 * @module
 */
import { z } from "npm:zod@^4.1.0";
import { describeValue } from "../core/describe.ts";
import { describeIssues } from "../core/validation.ts";
import { logger } from "../core/logging.ts";
import { writeFileAtomic } from "../persistence/run_store.ts";
import { encodeJobData, JobStateSaveError } from "./_job_state_codec.ts";
import { JobClaimedError, type LeaseHolder } from "./_job_lease.ts";
import { ExecutionRecord } from "./execution_record.ts";
import { errorSummary } from "./_error_summary.ts";
import {
  type DeferredEvent,
  type JobStateContent,
  type JobStateFile,
  JobStateLoadError,
  type JobStateStatus,
  type OutputHandler,
  type PausePoint,
  type PendingActivation,
  readJobState,
  readJobStateFile,
  type RoutineOutput,
  type RoutineStatus,
  type RoutineStatusName,
  type SharedLogEntry,
} from "./_job_state_file.ts";

export { JobClaimedError, JobStateLoadError, JobStateSaveError };
export type { LeaseHolder };
export type {
  DeferredEvent,
  JobStateFile,
  JobStateStatus,
  OutputHandler,
  PausePoint,
  PendingActivation,
  RoutineOutput,
  RoutineStatus,
  RoutineStatusName,
  SharedLogEntry,
};

const log = logger("flow");

/** Options of {@linkcode JobState}. */
export interface JobStateOptions {
  /**
   * The job's id (a non-empty string).
   *
   * @default crypto.randomUUID()
   */
  jobId?: string;
  /**
   * How many history records are kept (the oldest go first); a positive integer.
   *
   * @default 1000
   */
  maxHistorySize?: number;
  /**
   * How long history records are kept, in ms (a positive number).
   *
   * @default undefined (forever)
   */
  historyTtl?: number;
}

const optionsSchema = z.object({
  jobId: z.string().min(1).optional(),
  maxHistorySize: z.number().int().positive().optional(),
  historyTtl: z.number().positive().finite().optional(),
}).strict();

/** Flow-side access to a JobState's bookkeeping (not public API). */
export interface JobStateInternals {
  setStatus(job: JobState, status: JobStateStatus, error?: unknown): void;
  queue(job: JobState): PendingActivation[];
  deferred(job: JobState): DeferredEvent[];
  addPausePoint(job: JobState, point: PausePoint): void;
  output(job: JobState, output: RoutineOutput): void;
  setRoutineStatus(
    job: JobState,
    routineId: string,
    status: RoutineStatusName,
    attempts: number,
    error?: unknown,
  ): void;
  recordError(job: JobState, routineId: string, data: Record<string, unknown>): void;
  /** The file the job was last saved to or loaded from, if any. */
  file(job: JobState): string | null;
}

// Set by JobState's static block, which alone can reach its private fields.
let internals!: JobStateInternals;

/**
 * The state of one execution of a flow: its status, the history of every
 * emit, per-routine state, shared data, a shared log, pause points,
 * deferred events and the activations still to run. Every execution has its
 * own; routines reach it through `getExecutionContext().jobState`.
 *
 * @example Shared data and the shared log
 * ```ts
 * import { JobState } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const job = new JobState("demo");
 * job.updateSharedData("count", 2);
 * job.appendToSharedLog({ level: "info", message: "hello" });
 * assert.equal(job.getSharedData("count"), 2);
 * assert.equal(job.getSharedData("missing", 0), 0);
 * assert.equal(job.getSharedLog({ level: "info" })[0].message, "hello");
 * assert.equal(job.status, "pending");
 * ```
 */
export class JobState {
  /** The flow it belongs to. */
  readonly flowId: string;
  /** The job's id; stays the same across save, load and resume. */
  readonly jobId: string;
  /** When it was created, in ms since the epoch. */
  readonly createdAt: number;
  /** How many history records are kept. */
  readonly maxHistorySize: number;
  /** How long history records are kept, in ms (`null`: forever). */
  readonly historyTtl: number | null;
  #updatedAt: number;
  #status: JobStateStatus = "pending";
  #error: { name: string; message: string } | null = null;
  // Invariant: #routineStates holds only what routines stored; the
  // engine's bookkeeping (status, attempts, last error) is #routineStatus.
  #routineStates = new Map<string, Record<string, unknown>>();
  #routineStatus = new Map<string, RoutineStatus>();
  // Invariant: #history is in time order; it may hold up to twice
  // maxHistorySize records (trimmed in one go, not one splice per record),
  // so every reader prunes it first.
  #history: ExecutionRecord[] = [];
  #sharedData = new Map<string, unknown>();
  #sharedLog: SharedLogEntry[] = [];
  #pausePoints: PausePoint[] = [];
  #deferred: DeferredEvent[] = [];
  // Invariant: #queue holds, in dispatch order, every activation not yet
  // handed to the engine; the flow takes from its head.
  #queue: PendingActivation[] = [];
  #outputHandler: OutputHandler | null = null;
  // The file last saved to or loaded from: resuming claims a lease beside it.
  #file: string | null = null;

  static {
    internals = {
      setStatus(job, status, error) {
        job.#status = status;
        if (error !== undefined) job.#error = errorSummary(error);
        job.#touch();
      },
      queue: (job) => job.#queue,
      file: (job) => job.#file,
      setRoutineStatus(job, routineId, status, attempts, error) {
        // The records are the job's own (readers get copies): updated in
        // place, not remade at each transition.
        const current = job.#routineStatus.get(routineId);
        const lastError = error === undefined
          ? current?.lastError ?? null
          : errorSummary(error).message;
        if (current === undefined) {
          job.#routineStatus.set(routineId, { status, attempts, lastError });
        } else {
          current.status = status;
          current.attempts = attempts;
          current.lastError = lastError;
        }
        job.#touch();
      },
      recordError(job, routineId, data) {
        job.#history.push(new ExecutionRecord(routineId, "error", data, Date.now(), "error"));
        job.#trim();
        job.#touch();
      },
      deferred: (job) => job.#deferred,
      addPausePoint(job, point) {
        job.#pausePoints.push(point);
        job.#touch();
      },
      output(job, output) {
        const handler = job.#outputHandler;
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
      },
    };
  }

  /**
   * Makes a JobState.
   *
   * @param flowId The flow's id.
   * @param options Job id and history retention.
   * @throws {TypeError} If `flowId` is empty or an option is invalid (naming it and its value).
   */
  constructor(flowId: string, options: JobStateOptions = {}) {
    if (typeof flowId !== "string" || flowId === "") {
      throw new TypeError(
        `Cannot create a JobState as 'flowId' must be a non-empty string: current value is ${
          describeValue(flowId, 80)
        }`,
      );
    }
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new TypeError(
        `Cannot create a JobState as ${describeIssues(parsed.error, options)}`,
      );
    }
    const { jobId = crypto.randomUUID(), maxHistorySize = 1000, historyTtl } = parsed.data;
    this.flowId = flowId;
    this.jobId = jobId;
    this.maxHistorySize = maxHistorySize;
    this.historyTtl = historyTtl ?? null;
    this.createdAt = Date.now();
    this.#updatedAt = this.createdAt;
  }

  /** Where the job stands. */
  get status(): JobStateStatus {
    return this.#status;
  }

  /** When anything last changed, in ms since the epoch. */
  get updatedAt(): number {
    return this.#updatedAt;
  }

  /** The error that failed the job, as `{ name, message }`, else `null`. */
  get error(): { name: string; message: string } | null {
    return this.#error;
  }

  /** Every pause so far, oldest first. */
  get pausePoints(): readonly PausePoint[] {
    return this.#pausePoints;
  }

  /** Events held back until the job resumes. */
  get deferredEvents(): readonly DeferredEvent[] {
    return this.#deferred;
  }

  /** Activations waiting to run (while paused: all the work left). */
  get pendingActivations(): readonly PendingActivation[] {
    return this.#queue;
  }

  /**
   * Merges fields into a routine's state.
   *
   * @param routineId The routine's id in the flow.
   * @param state Fields to set.
   * @throws {TypeError} If `state` is not an object.
   */
  updateRoutineState(routineId: string, state: Record<string, unknown>): void {
    requireObject(state, "update the state of routine", routineId, "state");
    this.#routineStates.set(routineId, {
      ...this.#routineStates.get(routineId),
      ...state,
    });
    this.#touch();
  }

  /**
   * A routine's state.
   *
   * @param routineId The routine's id in the flow.
   * @returns A copy of its state, or `undefined` if it has none.
   */
  getRoutineState(routineId: string): Record<string, unknown> | undefined {
    const state = this.#routineStates.get(routineId);
    return state && { ...state };
  }

  /**
   * Where a routine's latest activation stands, as the flow engine keeps it
   * (never mixed into the routine's own state).
   *
   * @param routineId The routine's id in the flow.
   * @returns A copy of its status, or `undefined` if it never ran in this job.
   */
  getRoutineStatus(routineId: string): RoutineStatus | undefined {
    const status = this.#routineStatus.get(routineId);
    return status && { ...status };
  }

  /**
   * Adds a record to the execution history (the flow does so for every
   * emit), then drops records beyond `maxHistorySize` or older than
   * `historyTtl`.
   *
   * @param routineId The routine's id.
   * @param eventName The event.
   * @param data The payload.
   * @returns The record.
   */
  recordExecution(
    routineId: string,
    eventName: string,
    data: Record<string, unknown> = {},
  ): ExecutionRecord {
    const record = new ExecutionRecord(routineId, eventName, data);
    this.#history.push(record);
    this.#trim();
    this.#updatedAt = record.timestamp;
    return record;
  }

  /**
   * The execution history, in time order.
   *
   * @param routineId Only this routine's records, when given.
   * @returns The records still retained.
   */
  getExecutionHistory(routineId?: string): ExecutionRecord[] {
    this.#prune();
    return routineId === undefined
      ? [...this.#history]
      : this.#history.filter((r) => r.routineId === routineId);
  }

  /**
   * Sets a value every routine of the job can read.
   *
   * @param key The key.
   * @param value The value (keep it JSON-compatible if the job is saved).
   */
  updateSharedData(key: string, value: unknown): void {
    this.#sharedData.set(key, value);
    this.#touch();
  }

  /** All shared data, as an object (a copy; the values themselves are not copied). */
  get sharedData(): Record<string, unknown> {
    return Object.fromEntries(this.#sharedData);
  }

  /**
   * Reads shared data.
   *
   * @param key The key.
   * @param defaultValue Returned when the key is absent.
   * @returns The value, or `defaultValue`.
   */
  getSharedData<T = unknown>(key: string, defaultValue?: T): T {
    return (this.#sharedData.has(key) ? this.#sharedData.get(key) : defaultValue) as T;
  }

  /**
   * Appends an entry to the shared log, adding a `timestamp`.
   *
   * @param entry A plain object.
   * @returns The stored entry.
   * @throws {TypeError} If `entry` is not an object (the log is unchanged).
   */
  appendToSharedLog(entry: Record<string, unknown>): SharedLogEntry {
    requireObject(
      entry,
      "append to the shared log of job",
      this.jobId,
      "entry",
    );
    const stored = { ...entry, timestamp: Date.now() };
    this.#sharedLog.push(stored);
    this.#touch();
    return stored;
  }

  /**
   * The shared log, oldest first.
   *
   * @param filter A predicate, or fields every returned entry must equal.
   * @returns The matching entries.
   */
  getSharedLog(
    filter?:
      | ((entry: SharedLogEntry) => boolean)
      | Record<string, unknown>,
  ): SharedLogEntry[] {
    if (filter === undefined) return [...this.#sharedLog];
    const match = typeof filter === "function"
      ? filter
      : (entry: SharedLogEntry) => Object.entries(filter).every(([k, v]) => Object.is(entry[k], v));
    return this.#sharedLog.filter(match);
  }

  /**
   * Sets the receiver of `sendOutput` calls (not saved with the job).
   *
   * @param handler The handler, or `null` to remove it.
   */
  setOutputHandler(handler: OutputHandler | null): void {
    if (handler !== null && typeof handler !== "function") {
      throw new TypeError(
        `Cannot set the output handler as 'handler' must be a function or null: current value is ${
          String(handler)
        }`,
      );
    }
    this.#outputHandler = handler;
  }

  /**
   * The job as JSON data: ids, status and times as they are, everything
   * else encoded exactly in `data` (Map, Set, Date, BigInt, typed arrays,
   * `undefined`, deep nesting and shared references load back equal).
   *
   * @returns The saved form.
   * @throws {JobStateSaveError} Naming the path of a value the job cannot
   *   keep exactly (a function, a symbol, a class instance, an unreadable
   *   getter or proxy, …).
   */
  toJSON(): JobStateFile {
    this.#prune();
    return {
      format: "switchyard.job/2",
      flowId: this.flowId,
      jobId: this.jobId,
      status: this.#status,
      createdAt: this.createdAt,
      updatedAt: this.#updatedAt,
      maxHistorySize: this.maxHistorySize,
      historyTtl: this.historyTtl,
      error: this.#error && { ...this.#error },
      data: encodeJobData(
        this.jobId,
        {
          routineStates: this.#routineStates,
          routineStatus: this.#routineStatus,
          history: this.#history.map((r) => ({ ...r })),
          sharedData: this.#sharedData,
          sharedLog: this.#sharedLog,
          pausePoints: this.#pausePoints,
          deferredEvents: this.#deferred,
          pendingActivations: this.#queue,
        } satisfies JobStateContent,
      ),
    };
  }

  /**
   * Writes the job to a file atomically (readers see the old file or the
   * new one, never a torn one). A job that cannot be saved exactly leaves
   * the file as it was. From then on, `Flow.resume()` of this job claims
   * the lease `<path>.lock` (as it does for a job loaded from `path`).
   *
   * @param path The file.
   * @throws {JobStateSaveError} Naming the path of a value the job cannot keep exactly.
   * @throws {Deno.errors.PermissionDenied} And other file errors.
   */
  async save(path: string): Promise<void> {
    await writeFileAtomic(path, JSON.stringify(this.toJSON(), null, 2));
    this.#file = path;
  }

  /**
   * Rebuilds a job from its saved form. The job has no file: resuming it
   * claims no lease (use {@linkcode JobState.load} for jobs that another
   * resumer may also load).
   *
   * @param data What {@linkcode JobState.toJSON} returned.
   * @returns The job.
   * @throws {TypeError} Naming the first invalid fields.
   */
  static fromJSON(data: unknown): JobState {
    const { header, content } = readJobState(data);
    const job = new JobState(header.flowId, {
      jobId: header.jobId,
      maxHistorySize: header.maxHistorySize,
      historyTtl: header.historyTtl ?? undefined,
    });
    (job as { createdAt: number }).createdAt = header.createdAt;
    job.#status = header.status;
    job.#error = header.error;
    job.#routineStates = content.routineStates;
    job.#routineStatus = content.routineStatus;
    job.#history = content.history.map((r) =>
      new ExecutionRecord(r.routineId, r.eventName, r.data, r.timestamp, r.kind)
    );
    job.#sharedData = content.sharedData;
    job.#sharedLog = content.sharedLog;
    job.#pausePoints = content.pausePoints;
    job.#deferred = content.deferredEvents;
    job.#queue = content.pendingActivations;
    job.#updatedAt = header.updatedAt;
    return job;
  }

  /**
   * Reads a job written by {@linkcode JobState.save}.
   *
   * @param path The file.
   * @returns The job, with the status it had when saved; `Flow.resume()`
   *   of it claims the lease `<path>.lock`, so no two resumers run it at once.
   * @throws {JobStateLoadError} If the file is missing, is not JSON, or is
   *   not a saved JobState.
   */
  static async load(path: string): Promise<JobState> {
    const data = await readJobStateFile(path);
    try {
      const job = JobState.fromJSON(data);
      job.#file = path;
      return job;
    } catch (error) {
      throw new JobStateLoadError(
        path,
        `Cannot load a JobState from '${path}': ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  #touch(): void {
    this.#updatedAt = Date.now();
  }

  /** Drops the records beyond `maxHistorySize`, once they are as many again. */
  #trim(): void {
    if (this.#history.length >= 2 * this.maxHistorySize) this.#prune();
  }

  /** Drops the records beyond `maxHistorySize` or older than `historyTtl`. */
  #prune(): void {
    const excess = this.#history.length - this.maxHistorySize;
    if (excess > 0) this.#history.splice(0, excess);
    if (this.historyTtl !== null && this.#history.length > 0) {
      const oldest = Date.now() - this.historyTtl;
      const keep = this.#history.findIndex((r) => r.timestamp >= oldest);
      this.#history.splice(0, keep === -1 ? this.#history.length : keep);
    }
  }
}

/**
 * The flow's access to JobState bookkeeping.
 *
 * @returns The accessors.
 */
export function jobStateInternals(): JobStateInternals {
  return internals;
}

function requireObject(
  value: unknown,
  action: string,
  name: string,
  param: string,
): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Cannot ${action} '${name}' as '${param}' must be a plain object: current value is ${
        Array.isArray(value) ? "an array" : JSON.stringify(value) ?? String(value)
      }`,
    );
  }
}
