/**
 * Jobs: the coordinator's record of each task it handed out.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import type { Task } from "./task.ts";

/** Whether a job is still running. */
export type JobStatus = "opened" | "closed";

/** One task the coordinator handed to a strategy. */
export interface Job {
  /** The request the task serves. */
  readonly requestId: string;
  /** The calling node, `null` at top level. */
  readonly parentNodeId: string | null;
  /** The node instance running it. */
  readonly childNodeId: string;
  /** `"opened"` until it ends. */
  status: JobStatus;
  /** What it returned or threw, `undefined` while open. */
  result: unknown;
  /** When it was handed out (ms since the epoch). */
  readonly startTime: number;
  /** When it ended, `null` while open. */
  endTime: number | null;
}

/** A runtime whose tasks are their own jobs. */
export interface JobSource {
  /** The open job of a request id, if the runtime has one. */
  find(requestId: string): Job | undefined;
  /** The runtime's open jobs. */
  openJobs(): Iterable<Job>;
}

/**
 * The jobs of a coordinator: open ones, and closed ones of tasks made by
 * hand. A runtime's task is its own job and is dropped once closed, since
 * its request record keeps the outcome.
 *
 * @example Opening and closing a job
 * ```ts
 * import { CoordinatorState, Task } from "@switchyard/core/engine";
 * import { node } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const state = CoordinatorState.empty();
 * state.addJob(new Task("r1", node(() => 1, { name: "one" }), []));
 * state.endJob("r1", 1);
 * assert.equal(state.jobList[0].status, "closed");
 * assert.throws(() => state.endJob("r1", 1), /closed/);
 * ```
 */
export class CoordinatorState {
  // Invariant: #jobs holds every job ever added for a task that is not its
  // own job, keyed by request id; a closed job is never reopened. Tasks that
  // are their own job (the runtime's, whose request records keep the
  // outcome) are held by their runtime only while open, and found by id
  // and listed through #sources.
  #jobs = new Map<string, Job>();
  #sources: JobSource[] = [];
  #open = 0;
  #added = 0;

  /**
   * A state with no jobs.
   *
   * @returns The new state.
   */
  static empty(): CoordinatorState {
    return new CoordinatorState();
  }

  /**
   * Opens a job for a task.
   *
   * @param task The task.
   * @returns The new job.
   * @throws {Error} If a job exists for that request already.
   */
  addJob(task: Task): Job {
    const own = task.ownJob();
    if (own !== null) {
      // A task that is its own job is held by its runtime (a JobSource).
      this.#open++;
      this.#added++;
      return own;
    }
    if (this.#jobs.has(task.requestId)) {
      throw new Error(
        `Cannot add a job as request '${task.requestId}' has one already`,
      );
    }
    const job: Job = {
      requestId: task.requestId,
      parentNodeId: task.parentNodeId,
      childNodeId: task.nodeId,
      status: "opened",
      result: undefined,
      startTime: Date.now(),
      endTime: null,
    };
    this.#jobs.set(task.requestId, job);
    this.#open++;
    this.#added++;
    return job;
  }

  /**
   * Adds a runtime whose tasks are their own jobs, so that its open jobs
   * can be found by request id and listed.
   *
   * @param source Finds and lists the runtime's open jobs.
   */
  addSource(source: JobSource): void {
    this.#sources.push(source);
  }

  #find(requestId: string): Job | undefined {
    const job = this.#jobs.get(requestId);
    if (job !== undefined) return job;
    for (const source of this.#sources) {
      const found = source.find(requestId);
      if (found !== undefined && found.status === "opened") return found;
    }
    return undefined;
  }

  /**
   * Closes a job.
   *
   * @param requestId The job's request.
   * @param result What the task returned or threw.
   * @returns The closed job.
   * @throws {RangeError} If no job has that id, or it is closed already.
   */
  endJob(requestId: string, result: unknown): Job {
    const job = this.#find(requestId);
    if (!job) {
      throw new RangeError(
        `Cannot end a job as 'requestId' must name a known job: current value is ${
          describeValue(requestId)
        }`,
      );
    }
    if (job.status === "closed") {
      throw new RangeError(
        `Cannot end a job as 'requestId' must name an open job: job '${requestId}' is closed`,
      );
    }
    this.#close(job, result);
    return job;
  }

  /**
   * Closes a job the caller holds (as returned by
   * {@linkcode CoordinatorState.addJob}), without looking it up.
   *
   * @param job The job.
   * @param result What the task returned or threw.
   * @returns Whether it was open (a closed job stays as it was).
   */
  closeJob(job: Job, result: unknown): boolean {
    if (job.status !== "opened") return false;
    this.#close(job, result);
    return true;
  }

  /**
   * Closes a job if it is open; does nothing otherwise.
   *
   * @param requestId The job's request.
   * @param result What the task returned or threw.
   * @returns Whether a job was closed.
   */
  tryEndJob(requestId: string, result: unknown): boolean {
    const job = this.#find(requestId);
    if (job?.status !== "opened") return false;
    this.#close(job, result);
    return true;
  }

  #close(job: Job, result: unknown): void {
    job.status = "closed";
    job.result = result;
    // A runtime's task reads its end time from its request record.
    if (job.endTime === null) job.endTime = Date.now();
    this.#open--;
  }

  /** How many jobs were ever added. */
  get size(): number {
    return this.#added;
  }

  /**
   * The job of a request.
   *
   * @param requestId The request.
   * @returns The job, or `undefined`.
   */
  getJob(requestId: string): Job | undefined {
    return this.#find(requestId);
  }

  /** How many jobs are open. */
  get openCount(): number {
    return this.#open;
  }

  /**
   * Every job kept, in the order they were added: all jobs of tasks made by
   * hand, and the open ones of the runtime's tasks (whose request records
   * keep the outcome once they close).
   */
  get jobList(): Job[] {
    const jobs = [...this.#jobs.values()];
    for (const source of this.#sources) jobs.push(...source.openJobs());
    return jobs;
  }
}
