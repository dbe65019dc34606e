/**
 * The process pool: places tasks on warm child processes, kills and
 * replaces children that fail or must stop, and answers the calls their
 * nodes make.
 *
 * @module
 */
import type { FromWorker, NodeDefinition } from "../../workers/protocol.ts";
import { fromWire, toWire } from "../../workers/wire.ts";
import { logger } from "../core/logging.ts";
import { SignalWatch } from "./_signal_watch.ts";
import { answerCall, type ModuleCache } from "./_worker_calls.ts";
import {
  describe,
  fatalDetail,
  logTerminated,
  moduleFailure,
  noteTimeout,
  PROCESS_HOST,
  stopReason,
  workerSideReason,
} from "./_worker_failures.ts";
import { type ChildSettings, ProcessChild } from "./_process_child.ts";
import type { Task } from "./task.ts";
import { type WorkerFailureReason, WorkerTaskError } from "./worker_error.ts";

const log = logger("workers");

/** What every task of a node shares: how its child starts, how the node is found. */
export interface ProcessPlan {
  readonly settings: ChildSettings;
  readonly fnKey: number;
  readonly def: NodeDefinition;
}

/** Settings of a {@linkcode ProcessPool}. */
export interface ProcessPoolSettings {
  readonly size: number;
  readonly gracePeriod: number;
  /** A fresh process per task, ended with it. */
  readonly dedicated: boolean;
}

interface Job {
  readonly task: Task;
  readonly plan: ProcessPlan;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  child: ProcessChild | null;
  wid: number;
  settled: boolean;
  aborted: boolean;
  /** Calls to the parent it waits on. */
  calls: number;
  graceTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Warm child processes, one task each at a time. */
export class ProcessPool {
  readonly #settings: ProcessPoolSettings;
  // Invariant: #children holds the live children, each running at most one
  // job (#running); #queue holds jobs not yet placed, in order.
  readonly #children: ProcessChild[] = [];
  readonly #running = new Map<ProcessChild, Job>();
  #queue: Job[] = [];
  readonly #signals: SignalWatch<Job> = new SignalWatch((job) => this.#abort(job));
  readonly #modules: ModuleCache = new Map();
  readonly #exits = new Set<Promise<void>>();
  #nextChild = 1;
  #closed = false;

  constructor(settings: ProcessPoolSettings) {
    this.#settings = settings;
  }

  /** Live child processes. */
  get processCount(): number {
    return this.#children.length;
  }

  /**
   * Kills every child, after giving running tasks the grace period to
   * react to their aborted signal, and waits until they are gone. Later
   * tasks are refused.
   */
  async shutdown(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) this.#fail(job, "shutdown", "the pool shut down");
    const running = [...this.#running.values()];
    for (const job of running) {
      if (!job.aborted) {
        job.aborted = true;
        job.child?.post({
          t: "abort",
          id: job.wid,
          reason: toWire(new Error("The process pool shut down")),
        });
      }
    }
    if (running.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ended = Promise.all(
        running.map((job) => new Promise<void>((resolve) => this.#onSettle(job, resolve))),
      );
      await Promise.race([
        ended,
        new Promise((r) => timer = setTimeout(r, this.#settings.gracePeriod)),
      ]);
      clearTimeout(timer);
    }
    for (const child of this.#children.splice(0)) {
      const job = this.#running.get(child);
      // A task its own timeout or cancellation was already stopping ends
      // as that stop would have ended it, and the line about it is written.
      if (job && !job.settled && job.task.signal.aborted) {
        clearTimeout(job.graceTimer);
        this.#killStopped(job, child, "it had not stopped when the pool shut down");
        continue;
      }
      if (job) this.#fail(job, "shutdown", "the pool shut down");
      this.#running.delete(child);
      if (job) child.kill();
      else child.retire();
    }
    await Promise.all(this.#exits);
  }

  readonly #settleWaiters = new WeakMap<Job, () => void>();

  #onSettle(job: Job, done: () => void): void {
    if (job.settled) done();
    else this.#settleWaiters.set(job, done);
  }

  /**
   * Queues a task and places what can be placed.
   *
   * @returns What the node returned; rejects with a WorkerTaskError.
   */
  submit(task: Task, plan: ProcessPlan): Promise<unknown> {
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const job: Job = {
      task,
      plan,
      resolve,
      reject,
      child: null,
      wid: -1,
      settled: false,
      aborted: false,
      calls: 0,
      graceTimer: undefined,
    };
    if (this.#closed) {
      this.#fail(job, "shutdown", "the process pool has shut down");
    } else if (task.signal.aborted) {
      job.aborted = true;
      this.#fail(
        job,
        stopReason(task.signal.reason),
        "stopped before it was queued",
        task.signal.reason,
      );
    } else {
      this.#signals.watch(task.signal, job);
      this.#queue.push(job);
      this.#pump();
    }
    return promise;
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const job = this.#queue[0];
      if (job.settled) {
        this.#queue.shift();
        continue;
      }
      const child = this.#place(job);
      if (!child) return;
      this.#queue.shift();
      this.#start(job, child);
    }
  }

  /** An idle child for a job: same settings, or new, or in place of another idle one. */
  #place(job: Job): ProcessChild | null {
    const idle = this.#children.filter((c) => !this.#running.has(c));
    if (!this.#settings.dedicated) {
      const same = idle.find((c) => c.poolKey === job.plan.settings.poolKey);
      if (same) return same;
    }
    if (this.#children.length < this.#settings.size) return this.#spawn(job);
    if (idle.length > 0) {
      this.#retire(idle[0]);
      return this.#spawn(job);
    }
    // Every child waits on a call to this process: one more, so a call
    // into another process-isolated node cannot deadlock a full pool.
    if ([...this.#running.values()].every((j) => j.calls > 0)) return this.#spawn(job);
    return null;
  }

  #spawn(job: Job): ProcessChild | null {
    const id = this.#nextChild++;
    let child: ProcessChild;
    try {
      child = new ProcessChild(id, job.plan.settings, {
        message: (c, m) => this.#onMessage(c, m),
        broken: (c, detail) => this.#kill(c, "protocol", detail),
        ended: (c, reason, detail) => this.#kill(c, reason, detail),
      });
    } catch (error) {
      this.#queue.shift();
      this.#fail(job, "spawn", `could not start a child process: ${describe(error)}`, error);
      queueMicrotask(() => this.#pump());
      return null;
    }
    const exit = child.closed.catch(() => {});
    this.#exits.add(exit);
    exit.then(() => this.#exits.delete(exit));
    this.#children.push(child);
    log.debug("Started child process #{id} (pid {pid})", { id, pid: child.pid });
    return child;
  }

  #start(job: Job, child: ProcessChild): void {
    try {
      ProcessChild.encodable(job.task.args);
    } catch (error) {
      const index = job.task.args.findIndex((arg) => {
        try {
          ProcessChild.encodable(arg);
          return false;
        } catch {
          return true;
        }
      });
      const what = index >= 0
        ? `argument ${index} could not be cloned`
        : "its arguments could not be cloned";
      this.#fail(job, "clone", `${what}: ${describe(error)}`, error);
      return;
    }
    job.child = child;
    this.#running.set(child, job);
    job.wid = child.run(
      job.plan.fnKey,
      job.plan.def,
      job.task.args,
      job.task.trace?.toWorker(child.id),
    );
  }

  #retire(child: ProcessChild): void {
    child.retire();
    const index = this.#children.indexOf(child);
    if (index >= 0) this.#children.splice(index, 1);
  }

  #onMessage(child: ProcessChild, message: FromWorker): void {
    const job = this.#running.get(child);
    if (Array.isArray(message)) {
      if (!job || message[0] !== job.wid) return;
      this.#succeed(job, message[1]);
      this.#afterEnd(child);
      return;
    }
    switch (message.t) {
      case "done": {
        const cause = fromWire(message.e);
        if (!job || message.id !== job.wid) return;
        const why = workerSideReason(message.why);
        this.#fail(job, why, why === "threw" ? `threw ${describe(cause)}` : describe(cause), cause);
        this.#afterEnd(child);
        return;
      }
      case "dropped": {
        if (!job || message.id !== job.wid) return;
        this.#fail(
          job,
          stopReason(job.task.signal.reason),
          "stopped before it started",
          job.task.signal.reason,
        );
        this.#afterEnd(child);
        return;
      }
      case "started":
        return;
      case "call": {
        if (!job || message.id !== job.wid) return;
        job.calls++;
        answerCall(child, job.task, message, this.#modules).finally(() => job.calls--);
        this.#pump();
        return;
      }
      case "broadcast":
        if (job && message.id === job.wid) job.task.broadcast(message.item);
        return;
      case "fatal": {
        const detail = fatalDetail(message, PROCESS_HOST);
        this.#kill(child, message.why, detail, message.e && fromWire(message.e));
        return;
      }
      default:
        throw new TypeError(`unknown message ${describe((message as { t: unknown }).t)}`);
    }
  }

  #afterEnd(child: ProcessChild): void {
    this.#running.delete(child);
    const over = this.#children.length > this.#settings.size;
    if (this.#settings.dedicated || over || this.#closed) this.#retire(child);
    this.#pump();
  }

  #abort(job: Job): void {
    if (job.settled || job.aborted) return;
    job.aborted = true;
    const reason = job.task.signal.reason;
    const child = job.child;
    if (!child) {
      this.#fail(job, stopReason(reason), "stopped while waiting for a process", reason);
      return;
    }
    noteTimeout(reason, job, PROCESS_HOST, child);
    child.post({ t: "abort", id: job.wid, reason: toWire(reason) });
    job.graceTimer = setTimeout(() => {
      if (job.settled || child.dead) return;
      this.#killStopped(
        job,
        child,
        `it did not stop within the ${this.#settings.gracePeriod} ms grace period`,
      );
    }, this.#settings.gracePeriod);
  }

  /** Kills the process of a task its own stop did not end. */
  #killStopped(job: Job, child: ProcessChild, why: string): void {
    const reason = job.task.signal.reason;
    this.#kill(
      child,
      stopReason(reason),
      `${why} after ${describe(reason)}, so its process was killed with SIGKILL`,
      reason,
    );
  }

  /** Kills a child; its task (if any) fails when it is gone; the queue moves on. */
  #kill(child: ProcessChild, reason: WorkerFailureReason, detail: string, cause?: unknown): void {
    const loadFailure = moduleFailure(detail, cause);
    if (loadFailure) ({ reason, cause } = loadFailure);
    child.kill();
    const index = this.#children.indexOf(child);
    if (index >= 0) this.#children.splice(index, 1);
    const job = this.#running.get(child);
    this.#running.delete(child);
    logTerminated(PROCESS_HOST, child, reason, detail, this.#closed, job ? [job] : []);
    // The task fails once its process is gone, so a caller never sees a
    // "killed" task whose code still runs.
    if (job) child.closed.then(() => this.#fail(job, reason, detail, cause));
    if (!this.#closed) this.#pump();
  }

  #succeed(job: Job, value: unknown): void {
    if (this.#settle(job)) job.resolve(value);
  }

  #fail(job: Job, reason: WorkerFailureReason, detail: string, cause?: unknown): void {
    if (!this.#settle(job)) return;
    job.reject(
      new WorkerTaskError(detail, {
        nodeName: job.task.node.name,
        workerId: job.child?.id ?? null,
        pid: job.child?.pid,
        reason,
        cause,
      }),
    );
  }

  #settle(job: Job): boolean {
    if (job.settled) return false;
    job.settled = true;
    clearTimeout(job.graceTimer);
    this.#signals.unwatch(job.task.signal, job);
    this.#settleWaiters.get(job)?.();
    return true;
  }
}
