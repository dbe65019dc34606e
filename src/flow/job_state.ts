/**
 * JobState: everything one execution of a flow knows and keeps.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { describeIssues } from "../core/validation.ts";
import { writeFileAtomic } from "../persistence/run_store.ts";
import { encodeJobData, JobStateSaveError } from "./_job_state_codec.ts";
import { JobClaimedError, type LeaseHolder } from "./_job_lease.ts";
import { ExecutionRecord } from "./execution_record.ts";
import { JobBook, JobHistory } from "./_job_book.ts";
import { type JobStateOptions, jobStateOptionsSchema } from "./_job_state_options.ts";
import {
  type DeferredEvent,
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
export type { JobStateOptions, LeaseHolder };
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

// Set by JobState's static block, which alone can reach its private fields.
let bookOf!: (job: JobState) => JobBook;

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
  // Everything the job keeps (routine state, shared data and log, and the
  // flow engine's bookkeeping); see _job_book.ts.
  readonly #book: JobBook;

  static {
    bookOf = (job) => job.#book;
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
    const parsed = jobStateOptionsSchema.safeParse(options);
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
    this.#book = new JobBook(new JobHistory(maxHistorySize, this.historyTtl), this.createdAt);
  }

  /** Where the job stands. */
  get status(): JobStateStatus {
    return this.#book.status;
  }

  /** When anything last changed, in ms since the epoch. */
  get updatedAt(): number {
    return this.#book.updatedAt;
  }

  /** The error that failed the job, as `{ name, message }`, else `null`. */
  get error(): { name: string; message: string } | null {
    return this.#book.error;
  }

  /** Every pause so far, oldest first. */
  get pausePoints(): readonly PausePoint[] {
    return this.#book.pausePoints;
  }

  /** Events held back until the job resumes. */
  get deferredEvents(): readonly DeferredEvent[] {
    return this.#book.deferred;
  }

  /** Activations waiting to run (while paused: all the work left). */
  get pendingActivations(): readonly PendingActivation[] {
    return this.#book.queue;
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
    this.#book.routineStates.set(routineId, {
      ...this.#book.routineStates.get(routineId),
      ...state,
    });
    this.#book.touch();
  }

  /**
   * A routine's state.
   *
   * @param routineId The routine's id in the flow.
   * @returns A copy of its state, or `undefined` if it has none.
   */
  getRoutineState(routineId: string): Record<string, unknown> | undefined {
    const state = this.#book.routineStates.get(routineId);
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
    const status = this.#book.routineStatus.get(routineId);
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
    this.#book.recordEmit(record);
    return record;
  }

  /**
   * The execution history, in time order.
   *
   * @param routineId Only this routine's records, when given.
   * @returns The records still retained.
   */
  getExecutionHistory(routineId?: string): ExecutionRecord[] {
    const records = this.#book.history.records();
    return routineId === undefined
      ? [...records]
      : records.filter((r) => r.routineId === routineId);
  }

  /**
   * Sets a value every routine of the job can read.
   *
   * @param key The key.
   * @param value The value (keep it JSON-compatible if the job is saved).
   */
  updateSharedData(key: string, value: unknown): void {
    this.#book.sharedData.set(key, value);
    this.#book.touch();
  }

  /** All shared data, as an object (a copy; the values themselves are not copied). */
  get sharedData(): Record<string, unknown> {
    return Object.fromEntries(this.#book.sharedData);
  }

  /**
   * Reads shared data.
   *
   * @param key The key.
   * @param defaultValue Returned when the key is absent.
   * @returns The value, or `defaultValue`.
   */
  getSharedData<T = unknown>(key: string, defaultValue?: T): T {
    return (this.#book.sharedData.has(key) ? this.#book.sharedData.get(key) : defaultValue) as T;
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
    this.#book.sharedLog.push(stored);
    this.#book.touch();
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
    if (filter === undefined) return [...this.#book.sharedLog];
    const match = typeof filter === "function"
      ? filter
      : (entry: SharedLogEntry) => Object.entries(filter).every(([k, v]) => Object.is(entry[k], v));
    return this.#book.sharedLog.filter(match);
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
          describeValue(handler)
        }`,
      );
    }
    this.#book.outputHandler = handler;
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
    const book = this.#book;
    return {
      format: "switchyard.job/2",
      flowId: this.flowId,
      jobId: this.jobId,
      status: book.status,
      createdAt: this.createdAt,
      updatedAt: book.updatedAt,
      maxHistorySize: this.maxHistorySize,
      historyTtl: this.historyTtl,
      error: book.error && { ...book.error },
      data: encodeJobData(this.jobId, { ...book.content() }),
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
    this.#book.file = path;
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
    const book = job.#book;
    book.status = header.status;
    book.error = header.error;
    book.restore(content);
    book.updatedAt = header.updatedAt;
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
      job.#book.file = path;
      return job;
    } catch (error) {
      throw new JobStateLoadError(
        path,
        `Cannot load a JobState from '${path}': ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

/**
 * The flow engine's bookkeeping of a job (not public API).
 *
 * @param job The job.
 * @returns Its book.
 */
export function jobBook(job: JobState): JobBook {
  return bookOf(job);
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
        Array.isArray(value) ? "an array" : describeValue(value)
      }`,
    );
  }
}
