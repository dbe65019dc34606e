/**
 * A request sent to a queue and not settled yet, with the attempts worker
 * processes made at it.
 *
 * @module
 */
import type { AttemptRecord } from "../state/request_forest.ts";
import type { Task } from "../execution/task.ts";
import type { AttemptPlace } from "./protocol.ts";

/**
 * One attempt of a remote request, as kept in its record's `attempts`:
 * when it ran (the worker's clock), how it ended, and where.
 */
export interface RemoteAttemptRecord extends AttemptRecord {
  /** The worker process's host name. */
  readonly host: string;
  /** The worker process's id. */
  readonly pid: number;
  /** The worker's id (one per `switchyard worker` process). */
  readonly worker: string;
  /**
   * `"lost"`: the worker stopped answering (it died) and the job went to
   * another; `"cancelled"`: the request was cancelled or timed out.
   */
  readonly outcome: "completed" | "failed" | "lost" | "cancelled";
}

/** A sent request: its task, its caller's settlers, and the attempt running now. */
export class OpenRequest {
  readonly task: Task;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: unknown) => void;
  // Invariant: #attempt is the attempt a worker announced and whose end
  // is not recorded yet; at most one is open at a time.
  #attempt: AttemptPlace | null = null;
  // Invariant: the highest attempt number whose end is recorded. A start
  // notice (pub/sub) can arrive after its attempt's end (done stream), and
  // opens nothing then.
  #ended = 0;
  // Invariant: true once the caller's promise settled; an outcome heard
  // twice (a redelivered job reports again) is recorded once.
  settled = false;

  constructor(task: Task, resolve: (value: unknown) => void, reject: (error: unknown) => void) {
    this.task = task;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Settles the caller's promise with a value, once. */
  resolve(value: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.#resolve(value);
  }

  /** Settles the caller's promise with an error, once. */
  reject(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.#reject(error);
  }

  /** The attempt running now, if a worker announced one. */
  get attempt(): AttemptPlace | null {
    return this.#attempt;
  }

  /** Notes the attempt now running (the one before it, still open, was lost). */
  startAttempt(from: AttemptPlace): void {
    if (this.#attempt?.attempt === from.attempt && this.#attempt.worker === from.worker) return;
    if (from.attempt <= this.#ended) return;
    this.endAttempt("lost");
    this.#attempt = {
      attempt: from.attempt,
      host: from.host,
      pid: from.pid,
      worker: from.worker,
      start: from.start,
    };
  }

  /** Records how the running attempt ended, if one is running. */
  endAttempt(
    outcome: RemoteAttemptRecord["outcome"],
    error?: unknown,
    end: number = Date.now(),
  ): void {
    const place = this.#attempt;
    if (!place) return;
    this.#attempt = null;
    this.#ended = Math.max(this.#ended, place.attempt);
    if (outcome === "lost") {
      error = new Error(
        `Worker ${place.host}/${place.pid} stopped answering during attempt ${place.attempt}; the job went back to the queue`,
      );
      (error as Error).name = "WorkerLostError";
    }
    const record: RemoteAttemptRecord = {
      attempt: place.attempt,
      start: place.start,
      end,
      status: outcome === "completed" ? "Completed" : "Failed",
      ...(outcome === "completed" ? {} : { error }),
      host: place.host,
      pid: place.pid,
      worker: place.worker,
      outcome,
    };
    (this.task.attempts ??= []).push(record);
  }
}
