/**
 * Jobs: the coordinator's record of each task it handed out.
 *
 * @module
 */
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
  // outcome) are held in #live only while open, and found by id through
  // #finders.
  #jobs = new Map<string, Job>();
  #live = new Set<Job>();
  #finders: ((requestId: string) => Job | undefined)[] = [];
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
      if (own.status !== "opened" || this.#live.has(own)) {
        throw new Error(
          `Cannot add a job as request '${task.requestId}' has one already`,
        );
      }
      this.#live.add(own);
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
   * Adds a way to find open jobs of tasks that are their own job by request
   * id (the runtime that made the tasks knows them by id).
   *
   * @param find Returns the open job of a request id, or `undefined`.
   */
  addFinder(find: (requestId: string) => Job | undefined): void {
    this.#finders.push(find);
  }

  #find(requestId: string): Job | undefined {
    const job = this.#jobs.get(requestId);
    if (job !== undefined) return job;
    for (const find of this.#finders) {
      const found = find(requestId);
      if (found !== undefined && this.#live.has(found)) return found;
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
        `Cannot end a job as 'requestId' must name a known job: current value is '${requestId}'`,
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
    job.endTime = Date.now();
    this.#open--;
    this.#live.delete(job);
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
    return [...this.#jobs.values(), ...this.#live];
  }
}
