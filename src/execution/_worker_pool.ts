/**
 * The pool: places jobs on workers, replaces workers that fail, stops
 * cancelled tasks, and answers the calls worker nodes make.
 *
 * @module
 */
import type { FromWorker } from "../../workers/protocol.ts";
import { logger } from "../core/logging.ts";
import { SignalWatch } from "./_signal_watch.ts";
import { answerCall, type ModuleCache } from "./_worker_calls.ts";
import {
  cloneable,
  describe,
  fatalDetail,
  jobError,
  logTerminated,
  moduleFailure,
  noteTimeout,
  stopReason,
  WORKER_HOST,
  workerSideReason,
} from "./_worker_failures.ts";
import { isQuick, placeJob, type RunTimes } from "./_worker_placement.ts";
import { fromWire, toWire } from "../../workers/wire.ts";
import { type JobSpec, type PoolJob, transferables, WorkerHandle } from "./_worker_handle.ts";
import type { WorkerFailureReason } from "./worker_error.ts";
import { observeWorkerPool } from "./load_gauges.ts";

const log = logger("workers");

/** Settings of a {@linkcode WorkerPool}. */
export interface PoolSettings {
  size: number;
  gracePeriod: number;
  /** One fresh worker per task, terminated when the task ends. */
  dedicated: boolean;
}

/** A pool of workers, grouped by the permissions they run with. */
export class WorkerPool {
  readonly #settings: PoolSettings;
  // Invariant: #workers holds the live workers (never more than `size`
  // unless dedicated, or every worker waits on a call); #queue from #head on holds the jobs not yet sent, in
  // order, except settled ones (cancelled while queued), skipped lazily.
  readonly #workers: WorkerHandle[] = [];
  #queue: PoolJob[] = [];
  #head = 0;
  readonly #signals: SignalWatch<PoolJob> = new SignalWatch((job) => this.#abort(job));

  #nextWorker = 1;
  readonly #durations: RunTimes = new Map();
  #closed = false;
  readonly #modules: ModuleCache = new Map();
  // Removes the pool from the worker gauges (at shutdown).
  readonly #unobserve: () => void;

  constructor(settings: PoolSettings) {
    this.#settings = settings;
    this.#unobserve = observeWorkerPool(this);
  }

  /** Live workers. */
  get workerCount(): number {
    return this.#workers.length;
  }

  /** Workers running at least one task. */
  get busyCount(): number {
    let busy = 0;
    for (const worker of this.#workers) if (worker.inflight.length > 0) busy++;
    return busy;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Queues a job and places what can be placed.
   *
   * @returns What the node returned; rejects with a WorkerTaskError.
   */
  submit(spec: JobSpec): Promise<unknown> {
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const job: PoolJob = {
      ...spec,
      promise,
      resolve,
      reject,
      worker: null,
      wid: -1,
      settled: false,
      started: false,
      quick: false,
      calls: 0,
      aborted: false,
      graceTimer: undefined,
    };
    const signal = spec.task.signal;
    if (this.#closed) {
      this.#settle(job, jobError(job, "shutdown", "the pool has shut down"));
    } else if (signal.aborted) {
      job.aborted = true;
      this.#settle(
        job,
        jobError(
          job,
          stopReason(signal.reason),
          "stopped before it was queued",
          signal.reason,
        ),
      );
    } else {
      this.#signals.watch(job.task.signal, job);
      this.#queue.push(job);
      this.#pump();
    }
    return promise;
  }

  /** Stops a job whose signal fired. */
  #abort(job: PoolJob): void {
    if (job.settled || job.aborted) return;
    job.aborted = true;
    const reason = job.task.signal.reason;
    const worker = job.worker;
    if (!worker) {
      // Still queued: settled, it is skipped when its turn comes.
      this.#settle(
        job,
        jobError(
          job,
          stopReason(reason),
          "stopped while waiting for a worker",
          reason,
        ),
      );
      return;
    }
    noteTimeout(reason, job, WORKER_HOST, worker);
    worker.abort(job, toWire(reason));
    if (worker.isStarted(job)) this.#startGrace(job);
  }

  /** Stops everything: queued jobs fail, running ones get the grace period. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    this.#unobserve();
    for (const job of this.#queue.splice(0).slice(this.#head)) {
      this.#settle(job, jobError(job, "shutdown", "the pool shut down"));
    }
    this.#head = 0;
    const running = this.#workers.flatMap((w) => w.inflight);
    if (running.length > 0) {
      for (const job of running) {
        if (!job.aborted) {
          job.aborted = true;
          job.worker?.abort(
            job,
            toWire(new Error("The worker pool shut down")),
          );
        }
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled(running.map((j) => j.promise)),
        new Promise((r) => timer = setTimeout(r, this.#settings.gracePeriod)),
      ]);
      clearTimeout(timer);
    }
    for (const worker of this.#workers.splice(0)) {
      // A task its own timeout or cancellation was already stopping ends
      // as that stop would have ended it, and the line about it is written.
      const stopping = worker.inflight.find((j) => !j.settled && j.task.signal.aborted);
      if (stopping) {
        clearTimeout(stopping.graceTimer);
        this.#killStopped(stopping, worker, "it had not stopped when the pool shut down");
        continue;
      }
      for (const job of worker.inflight.splice(0)) {
        this.#settle(job, jobError(job, "shutdown", "the pool shut down"));
      }
      worker.terminate();
    }
  }

  #pump(): void {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const job = queue[this.#head];
      if (!job.settled) {
        const worker = this.#place(job);
        if (!worker) break;
        this.#send(job, worker);
      }
      this.#head++;
    }
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** A worker for a job (see `_worker_placement.ts`), started if need be. */
  #place(job: PoolJob): WorkerHandle | null {
    const { size, dedicated } = this.#settings;
    if (dedicated) return this.#spawn(job);
    const placed = placeJob(this.#workers, job, isQuick(this.#durations, job), size);
    if (placed === "replace") {
      this.#retire(this.#workers.find((w) => w.inflight.length === 0)!);
    } else if (placed !== "spawn") return placed;
    return this.#spawn(job);
  }

  #spawn(job: PoolJob): WorkerHandle | null {
    const id = this.#nextWorker++;
    try {
      const worker = new WorkerHandle(id, job, {
        message: (w, m) => this.#onMessage(w, m),
        crashed: (w, detail, reason) => this.#kill(w, reason ?? "uncaught", detail),
        unsendable: (w, j, error) => this.#unsendable(w, j, error),
      });
      this.#workers.push(worker);
      log.debug("Started worker #{id} ({key})", { id, key: job.poolKey });
      return worker;
    } catch (error) {
      this.#settle(
        job,
        jobError(
          job,
          "spawn",
          `could not start a worker with permissions ${job.poolKey}: ${
            error instanceof Error ? error.message : String(error)
          }`,
          error,
        ),
      );
      queueMicrotask(() => this.#pump());
      return null;
    }
  }

  #retire(worker: WorkerHandle): void {
    worker.terminate();
    const index = this.#workers.indexOf(worker);
    if (index >= 0) this.#workers.splice(index, 1);
  }

  #send(job: PoolJob, worker: WorkerHandle): void {
    job.quick = isQuick(this.#durations, job);
    worker.send(job, job.transfer ? transferables(job.task.args) : []);
  }

  #unsendable(worker: WorkerHandle, job: PoolJob, error: unknown): void {
    if (!worker.take(job.wid)) return;
    const index = job.task.args.findIndex((arg) => !cloneable(arg));
    const what = index >= 0
      ? `argument ${index} could not be cloned`
      : "its arguments could not be cloned";
    this.#settle(
      job,
      jobError(job, "clone", `${what}: ${describe(error)}`, error),
    );
    this.#afterEnd(worker);
  }

  #onMessage(worker: WorkerHandle, message: FromWorker): void {
    if (Array.isArray(message)) {
      const [id, value, ms] = message;
      const job = worker.take(id);
      if (!job) return;
      this.#durations.set(job.fnKey, typeof ms === "number" ? ms : Infinity);
      this.#settle(job, undefined, value);
      this.#afterEnd(worker);
      return;
    }
    switch (message.t) {
      case "done": {
        // Read before taking the job: a malformed error kills the worker
        // with the job still on it, so the job fails too.
        const cause = fromWire(message.e);
        const job = worker.take(message.id);
        if (!job) break;
        const why = workerSideReason(message.why);
        const detail = why === "threw" ? `threw ${describe(cause)}` : describe(cause);
        this.#settle(job, jobError(job, why, detail, cause));
        this.#afterEnd(worker);
        break;
      }
      case "dropped": {
        const job = worker.take(message.id);
        if (job) {
          const reason = job.task.signal.reason;
          this.#settle(job, jobError(job, stopReason(reason), "stopped before it started", reason));
        }
        this.#afterEnd(worker);
        break;
      }
      case "started": {
        const job = worker.find(message.id);
        if (!job) break;
        job.started = true;
        if (job.aborted && job.graceTimer === undefined) this.#startGrace(job);
        break;
      }
      case "call": {
        const job = worker.find(message.id);
        if (!job) break;
        // A task waiting on a call leaves its worker free for others, the
        // callee included: no deadlock however small the pool.
        job.calls++;
        answerCall(worker, job.task, message, this.#modules).finally(() => {
          job.calls--;
        });
        this.#pump();
        break;
      }
      case "broadcast":
        worker.find(message.id)?.task.broadcast(message.item);
        break;
      case "fatal": {
        const detail = fatalDetail(message, WORKER_HOST);
        this.#kill(
          worker,
          message.why,
          detail,
          message.e && fromWire(message.e),
        );
        break;
      }
    }
  }

  /** After a task ended on a worker: the next one may have started. */
  #afterEnd(worker: WorkerHandle): void {
    if (this.#settings.dedicated && worker.load === 0) this.#retire(worker);
    else if (
      this.#workers.length > this.#settings.size && worker.inflight.length === 0 &&
      !worker.dead
    ) {
      // An extra worker started while every worker waited on calls.
      this.#retire(worker);
    }
    const head = worker.inflight[0];
    if (head?.aborted && head.graceTimer === undefined) this.#startGrace(head);
    this.#pump();
  }

  #startGrace(job: PoolJob): void {
    job.graceTimer = setTimeout(() => {
      const worker = job.worker;
      if (job.settled || !worker || worker.dead) return;
      this.#killStopped(
        job,
        worker,
        `it did not stop within the ${this.#settings.gracePeriod} ms grace period`,
      );
    }, this.#settings.gracePeriod);
  }

  /** Terminates the worker of a task its own stop did not end. */
  #killStopped(job: PoolJob, worker: WorkerHandle, why: string): void {
    const reason = job.task.signal.reason;
    this.#kill(worker, stopReason(reason), `${why} after ${describe(reason)}`, reason);
  }

  /** Terminates a worker: its running task fails, the rest go back in line. */
  #kill(
    worker: WorkerHandle,
    reason: WorkerFailureReason,
    detail: string,
    cause?: unknown,
  ): void {
    if (worker.dead) return;
    const loadFailure = moduleFailure(detail, cause);
    if (loadFailure) ({ reason, cause } = loadFailure);
    worker.terminate();
    const index = this.#workers.indexOf(worker);
    if (index >= 0) this.#workers.splice(index, 1);
    const running = worker.inflight.filter((j) => worker.isStarted(j));
    const waiting = worker.inflight.filter((j) => !worker.isStarted(j));
    worker.inflight.splice(0);
    // A stopped task is expected; a worker that broke is worth a warning.
    logTerminated(WORKER_HOST, worker, reason, detail, this.#closed, running);
    for (const job of running) {
      this.#settle(job, jobError(job, reason, detail, cause));
    }
    for (const job of waiting) {
      job.worker = null;
      if (this.#closed) {
        this.#settle(job, jobError(job, "shutdown", "the pool shut down"));
      } else if (job.aborted) {
        this.#settle(
          job,
          jobError(
            job,
            stopReason(job.task.signal.reason),
            "stopped before it started",
          ),
        );
      }
    }
    this.#queue = [
      ...waiting.filter((j) => !j.settled),
      ...this.#queue.slice(this.#head),
    ];
    this.#head = 0;
    if (!this.#closed) this.#pump();
  }

  #settle(job: PoolJob, error: unknown, value?: unknown): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.graceTimer);
    this.#signals.unwatch(job.task.signal, job);
    if (error === undefined) job.resolve(value);
    else job.reject(error);
  }
}
