/**
 * The process strategy: runs worker nodes in child `deno` processes, each
 * with its own heap limit and permissions, for code that may exhaust memory
 * or never return to its event loop.
 *
 * @module
 */
import type { FromWorker, NodeDefinition } from "../../workers/protocol.ts";
import { fromWire, toWire } from "../../workers/wire.ts";
import type { Node, WorkerPermissions } from "../core/node.ts";
import { NodeTimeoutError } from "../core/errors.ts";
import { logger } from "../core/logging.ts";
import { SignalWatch } from "./_signal_watch.ts";
import { answerCall, type ModuleCache } from "./_worker_calls.ts";
import { describe, moduleFailure, stopReason, withRetries } from "./_worker_failures.ts";
import { permissionFlags } from "./_process_permissions.ts";
import { type ChildSettings, ProcessChild } from "./_process_child.ts";
import { refuseRunInWorker } from "./worker_bridge.ts";
import type { TaskExecutionStrategy } from "./strategy.ts";
import type { Task } from "./task.ts";
import { type WorkerFailureReason, WorkerTaskError } from "./worker_error.ts";

const log = logger("workers");
const WORKER_SIDE = new Set<string>(["threw", "clone", "load", "self-contained"]);
const FATAL = new Set<string>(["closed", "exited", "unhandledrejection", "uncaught"]);

/** Options of {@linkcode ProcessExecutionStrategy}. */
export interface ProcessStrategyOptions {
  /**
   * How many child processes at most are kept (warm, reused).
   * @default navigator.hardwareConcurrency
   */
  size?: number;
  /**
   * Deno permissions of the child processes; a node's own `permissions`
   * replaces them. `"inherit"` passes on each permission the host holds in
   * full; never wider than the host's.
   * @default "inherit"
   */
  permissions?: WorkerPermissions;
  /**
   * V8 heap limit of each child (`--max-old-space-size`, MB); a node's own
   * `heapLimit` replaces it.
   * @default 512
   */
  heapLimit?: number;
  /**
   * How long a stopped task's code may react to its `AbortSignal` before
   * its process is killed with SIGKILL (ms).
   * @default 100
   */
  gracePeriod?: number;
  /**
   * Give every task a fresh process, ended with the task.
   * @default false
   */
  dedicated?: boolean;
}

interface Plan {
  readonly settings: ChildSettings;
  readonly fnKey: number;
  readonly def: NodeDefinition;
}

interface Job {
  readonly task: Task;
  readonly plan: Plan;
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

/**
 * Runs tasks in child `deno` processes (`Deno.execPath()`): a warm pool,
 * started lazily, one task per process at a time, never more than `size`
 * processes (one more only while every process waits on a `call()`). Each
 * child has its own V8 heap (`heapLimit`) and its own Deno permissions, so
 * a node that runs out of memory or is stuck in a synchronous loop costs
 * only its own process: it fails with a {@linkcode WorkerTaskError}
 * (`reason` `"out-of-memory"`, or `"timeout"`/`"cancelled"` when stopped,
 * `"killed"` for a signal from elsewhere), the process is replaced, and the
 * run goes on. A stopped task gets `gracePeriod` to react to its signal;
 * then its process is killed with SIGKILL.
 *
 * Nodes are found as in a Web Worker (by module URL and name, or from a
 * self-contained function's source); arguments and results cross as
 * structured clones. Inside the child, `call()`, `currentSignal()` and
 * `broadcast()` work, and a call may only name nodes this process knows.
 * The Runner uses it for worker nodes with `isolation: "process"`; it can
 * also be registered as a mode of its own.
 *
 * @example A node that may run out of memory
 * ```ts
 * import { ProcessExecutionStrategy, Task } from "@switchyard/core/engine";
 * import { node, type WorkerTaskError } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const hog = node(function hog() {
 *   const keep: number[][] = [];
 *   while (true) keep.push(new Array(1e6).fill(1));
 * }, { worker: true });
 * const strategy = new ProcessExecutionStrategy({ size: 1, heapLimit: 64 });
 * const error = await strategy.execute(new Task("r1", hog, [])).catch((e: WorkerTaskError) => e);
 * assert.equal((error as WorkerTaskError).reason, "out-of-memory");
 * await strategy.shutdown();
 * ```
 */
export class ProcessExecutionStrategy implements TaskExecutionStrategy {
  readonly #size: number;
  readonly #permissions: WorkerPermissions;
  readonly #heapLimit: number;
  readonly #gracePeriod: number;
  readonly #dedicated: boolean;
  // Invariant: #children holds the live children, each running at most one
  // job (#running); #queue holds jobs not yet placed, in order.
  readonly #children: ProcessChild[] = [];
  readonly #running = new Map<ProcessChild, Job>();
  #queue: Job[] = [];
  readonly #signals: SignalWatch<Job> = new SignalWatch((job) => this.#abort(job));
  readonly #plans = new WeakMap<Node, Plan>();
  readonly #fnKeys = new Map<string, number>();
  readonly #modules: ModuleCache = new Map();
  readonly #exits = new Set<Promise<void>>();
  #nextChild = 1;
  #closed = false;

  /**
   * Makes a ProcessExecutionStrategy.
   *
   * @param options Size, permissions, heap limit, grace period.
   * @throws {RangeError} If a number is out of range.
   * @throws {WorkerModuleError} Inside a worker or child process of a pool.
   */
  constructor(options: ProcessStrategyOptions = {}) {
    refuseRunInWorker("create a ProcessExecutionStrategy");
    const size = options.size ?? navigator.hardwareConcurrency ?? 1;
    const heapLimit = options.heapLimit ?? 512;
    const grace = options.gracePeriod ?? 100;
    const check = (name: string, value: number, ok: boolean, what: string) => {
      if (!ok) {
        throw new RangeError(
          `Cannot create ProcessExecutionStrategy as '${name}' must be ${what}: current value is ${value}`,
        );
      }
    };
    check("size", size, Number.isInteger(size) && size >= 1, "a positive integer");
    check(
      "heapLimit",
      heapLimit,
      Number.isInteger(heapLimit) && heapLimit >= 16,
      "an integer >= 16 (MB)",
    );
    check(
      "gracePeriod",
      grace,
      Number.isFinite(grace) && grace >= 0,
      "a non-negative number of ms",
    );
    this.#size = size;
    this.#permissions = options.permissions ?? "inherit";
    this.#heapLimit = heapLimit;
    this.#gracePeriod = grace;
    this.#dedicated = options.dedicated ?? false;
  }

  /** How many child processes are alive (0 before the first task). */
  get processCount(): number {
    return this.#children.length;
  }

  /**
   * Runs a task in a child process, again after a failure as the node's
   * `retries` allows.
   *
   * @param task The task; its node must be a worker node.
   * @returns What the node returned.
   * @throws {WorkerTaskError} (as a rejection) Saying which node, which
   *   process and why.
   */
  execute(task: Task): Promise<unknown> {
    let plan: Plan;
    try {
      plan = this.#plan(task.node as Node);
    } catch (error) {
      return Promise.reject(error);
    }
    if ((task.node.options.retries ?? 0) === 0) return this.#submit(task, plan);
    return withRetries(task, () => this.#submit(task, plan));
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
      await Promise.race([ended, new Promise((r) => timer = setTimeout(r, this.#gracePeriod))]);
      clearTimeout(timer);
    }
    for (const child of this.#children.splice(0)) {
      const job = this.#running.get(child);
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

  #submit(task: Task, plan: Plan): Promise<unknown> {
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

  #plan(node: Node): Plan {
    let plan = this.#plans.get(node);
    if (plan) return plan;
    if (node.mode !== "worker") {
      throw new WorkerTaskError(
        "it must be a worker node (node(fn, { worker: true }) or { worker: import.meta.url }) to run in a child process",
        { nodeName: node.name, workerId: null, reason: "spawn" },
      );
    }
    const permissions = node.options.permissions ?? this.#permissions;
    let flags: string[];
    try {
      flags = permissionFlags(permissions);
    } catch (error) {
      throw new WorkerTaskError(describe(error), {
        nodeName: node.name,
        workerId: null,
        reason: "spawn",
        cause: error,
      });
    }
    const heapLimit = node.options.heapLimit ?? this.#heapLimit;
    const def: NodeDefinition = node.moduleUrl !== null
      ? { kind: "module", url: node.moduleUrl, name: node.name }
      : { kind: "source", source: node.fn.toString(), name: node.name };
    const defKey = def.kind === "module"
      ? `m\u0000${def.url}\u0000${def.name}`
      : `s\u0000${def.name}\u0000${def.source}`;
    let fnKey = this.#fnKeys.get(defKey);
    if (fnKey === undefined) this.#fnKeys.set(defKey, fnKey = this.#fnKeys.size);
    const preload = def.kind === "module" ? def.url : null;
    plan = {
      settings: {
        poolKey: `${flags.join(" ")} ${heapLimit}${preload ? ` ${preload}` : ""}`,
        flags,
        heapLimit,
        preload,
      },
      fnKey,
      def,
    };
    this.#plans.set(node, plan);
    return plan;
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
    if (!this.#dedicated) {
      const same = idle.find((c) => c.poolKey === job.plan.settings.poolKey);
      if (same) return same;
    }
    if (this.#children.length < this.#size) return this.#spawn(job);
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
    job.wid = child.run(job.plan.fnKey, job.plan.def, job.task.args);
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
        const why = WORKER_SIDE.has(message.why) ? message.why : "threw";
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
        if (!FATAL.has(message.why)) {
          throw new TypeError(`unknown fatal reason ${describe(message.why)}`);
        }
        const detail = message.why === "closed"
          ? "the process closed itself (close())"
          : message.why === "exited"
          ? `the process exited (Deno.exit(${message.code}))`
          : `${
            message.why === "uncaught"
              ? "an exception was not caught"
              : "a promise rejection was not handled"
          }: ${describe(fromWire(message.e!))}`;
        this.#kill(child, message.why, detail, message.e && fromWire(message.e));
        return;
      }
      default:
        throw new TypeError(`unknown message ${describe((message as { t: unknown }).t)}`);
    }
  }

  #afterEnd(child: ProcessChild): void {
    this.#running.delete(child);
    const over = this.#children.length > this.#size;
    if (this.#dedicated || over || this.#closed) this.#retire(child);
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
    if (reason instanceof NodeTimeoutError && reason.nodeName === job.task.node.name) {
      reason.message += ` in child process #${child.id} (pid ${child.pid})`;
    }
    child.post({ t: "abort", id: job.wid, reason: toWire(reason) });
    job.graceTimer = setTimeout(() => {
      if (job.settled || child.dead) return;
      this.#kill(
        child,
        stopReason(reason),
        `it did not stop within the ${this.#gracePeriod} ms grace period after ${
          describe(reason)
        }, so its process was killed with SIGKILL`,
        reason,
      );
    }, this.#gracePeriod);
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
    const properties = { id: child.id, pid: child.pid, detail };
    if (reason === "timeout" || reason === "cancelled") {
      log.info("Child process #{id} (pid {pid}) killed and replaced: {detail}", properties);
    } else {
      log.warn("Child process #{id} (pid {pid}) ended and is replaced: {detail}", properties);
    }
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
