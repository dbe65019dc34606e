/**
 * The worker strategy: runs nodes in a warm pool of module Web Workers.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import type { NodeDefinition } from "../../workers/protocol.ts";
import type { Node, WorkerPermissions } from "../core/node.ts";
import type { JobSpec } from "./_worker_handle.ts";
import { permissionsKey } from "./_worker_handle.ts";
import { WorkerPool } from "./_worker_pool.ts";
import { workerOptionsEnabled } from "./_unstable.ts";
import type { TaskExecutionStrategy } from "./strategy.ts";
import type { Task } from "./task.ts";
import { WorkerTaskError } from "./worker_error.ts";
import { ProcessExecutionStrategy } from "./process_strategy.ts";
import { executeOnPool } from "./_worker_failures.ts";
import { refuseRunInWorker } from "./worker_bridge.ts";

/** Options of {@linkcode WorkerExecutionStrategy}. */
export interface WorkerStrategyOptions {
  /** How many workers at most; defaults to `navigator.hardwareConcurrency`. */
  size?: number;
  /**
   * Deno permissions of worker code (default `"inherit"`); a node's own
   * `permissions` option replaces them. Anything but `"inherit"` needs
   * `--unstable-worker-options`.
   */
  permissions?: WorkerPermissions;
  /**
   * How long a cancelled task's code may react to its `AbortSignal` before
   * its worker is terminated and replaced (ms, default 100).
   */
  gracePeriod?: number;
  /**
   * Give every task a fresh worker of its own, outside any pool, terminated
   * when the task ends (for long-running services that must not starve a
   * shared pool). Default `false`.
   */
  dedicated?: boolean;
  /**
   * Nodes with `isolation: "process"`: how many child processes are kept
   * warm and the default heap limit (MB).
   * @default { size: navigator.hardwareConcurrency, heapLimit: 512 }
   */
  processes?: { size?: number; heapLimit?: number };
}

/**
 * Runs tasks in module Web Workers: a pool started lazily (no worker exists
 * before the first task), kept warm and reused, never larger than `size`,
 * with a queue when every worker is busy.
 *
 * A node runs in a worker as it was defined: `node(fn, { worker:
 * import.meta.url })` is imported from its module and found among its
 * exports by name; any other node (`worker: true`) is shipped as source and
 * must be self-contained. Arguments and results cross by structured clone
 * (`transfer: true` moves `ArrayBuffer`s instead). Inside a worker node,
 * `call()` reaches the main thread, so the child request is tracked under
 * the worker node's request. The worker only names the child: the main
 * thread finds it among the module worker nodes the program made (by module
 * URL and name) or the exports of the calling node's own module, and never
 * loads a module URL or source a worker sends (the call fails with a
 * `WorkerCallRefusedError`). Nodes with `isolation: "process"` run in child
 * processes instead (see {@linkcode ProcessExecutionStrategy}). `currentSignal()` and `broadcast()` work too;
 * `getContext()`/`putContext()` do not (the context stays on the main
 * thread).
 *
 * A worker that throws, closes itself, exits, leaves a rejection unhandled,
 * or outlives its task's cancellation by more than `gracePeriod` fails only
 * its running task with a {@linkcode WorkerTaskError}; it is terminated and
 * a fresh one takes its place for the next task. (A worker runs one task at
 * a time, except that a task waiting on a `call()` lets the next one start,
 * so a nested worker call cannot deadlock the pool; if such a worker is
 * terminated, every task it had started fails with it.)
 *
 * @example Running a worker node
 * ```ts
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const fib = node(function fib(n: number): number {
 *   const f = (k: number): number => (k < 2 ? k : f(k - 1) + f(k - 2));
 *   return f(n);
 * }, { worker: true });
 * await using runner = new Runner({ workers: { size: 2 }, loggingSetting: "NONE" });
 * assert.equal((await runner.run(fib, 20)).answer, 6765);
 * ```
 */
export class WorkerExecutionStrategy implements TaskExecutionStrategy {
  readonly #size: number;
  readonly #permissions: WorkerPermissions;
  readonly #gracePeriod: number;
  readonly #dedicated: boolean;
  // Invariant: #pool is null until the first task, and after shutdown().
  #pool: WorkerPool | null = null;
  #closed = false;
  readonly #fnKeys = new Map<string, number>();
  readonly #plans = new WeakMap<Node, Omit<JobSpec, "task">>();
  readonly #processOptions: ConstructorParameters<typeof ProcessExecutionStrategy>[0];
  // Invariant: null until the first process-isolated task, and after shutdown().
  #processes: ProcessExecutionStrategy | null = null;

  /**
   * Makes a WorkerExecutionStrategy.
   *
   * @param options Size, permissions, grace period, dedicated workers.
   * @throws {RangeError} If `size` is not a positive integer or
   *   `gracePeriod` not a non-negative finite number.
   */
  constructor(options: WorkerStrategyOptions = {}) {
    refuseRunInWorker("create a worker pool");
    const size = options.size ?? navigator.hardwareConcurrency ?? 1;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(
        `Cannot create WorkerExecutionStrategy as 'size' must be a positive integer: current value is ${
          describeValue(size)
        }`,
      );
    }
    const grace = options.gracePeriod ?? 100;
    if (!Number.isFinite(grace) || grace < 0) {
      throw new RangeError(
        `Cannot create WorkerExecutionStrategy as 'gracePeriod' must be a non-negative number of ms: current value is ${
          describeValue(grace)
        }`,
      );
    }
    this.#size = size;
    this.#permissions = options.permissions ?? "inherit";
    this.#gracePeriod = grace;
    this.#dedicated = options.dedicated ?? false;
    this.#processOptions = {
      size: options.processes?.size,
      heapLimit: options.processes?.heapLimit,
      permissions: this.#permissions,
      gracePeriod: grace,
      dedicated: this.#dedicated,
    };
    // Checked now, so a bad value fails here rather than at the first task.
    new ProcessExecutionStrategy(this.#processOptions);
  }

  /** How many workers are alive (0 before the first task). */
  get workerCount(): number {
    return this.#pool?.workerCount ?? 0;
  }

  /**
   * Runs a task in a worker, retrying after a failure as many times as the
   * node's `retries` allows (never after a cancellation or timeout).
   *
   * @param task The task.
   * @returns What the node returned.
   * @throws {WorkerTaskError} (as a rejection) Saying which node, which
   *   worker and why.
   */
  execute(task: Task): Promise<unknown> {
    if (!this.#closed && task.node.options.isolation === "process") {
      this.#processes ??= new ProcessExecutionStrategy(this.#processOptions);
      return this.#processes.execute(task);
    }
    return executeOnPool(
      task,
      "worker",
      this.#closed,
      () => this.#spec(task),
      (spec) => this.#start().submit(spec),
    );
  }

  /** How many child processes of process-isolated nodes are alive. */
  get processCount(): number {
    return this.#processes?.processCount ?? 0;
  }

  /**
   * Terminates every worker, after giving running tasks the grace period
   * to react to their aborted signal. Later tasks are refused.
   */
  async shutdown(): Promise<void> {
    this.#closed = true;
    const pool = this.#pool;
    const processes = this.#processes;
    this.#pool = null;
    this.#processes = null;
    await Promise.all([pool?.shutdown(), processes?.shutdown()]);
  }

  /**
   * Terminates the workers and child processes kept for later tasks, while
   * no task runs (a running one is cancelled, as by shutdown()); a later
   * task starts new ones.
   */
  async release(): Promise<void> {
    const pool = this.#pool;
    const processes = this.#processes;
    this.#pool = null;
    this.#processes = null;
    await Promise.all([pool?.shutdown(), processes?.shutdown()]);
  }

  #start(): WorkerPool {
    this.#pool ??= new WorkerPool({
      size: this.#size,
      gracePeriod: this.#gracePeriod,
      dedicated: this.#dedicated,
    });
    return this.#pool;
  }

  #spec(task: Task): JobSpec {
    const node = task.node as Node;
    let plan = this.#plans.get(node);
    if (!plan) {
      plan = this.#plan(node);
      this.#plans.set(node, plan);
    }
    return { task, ...plan };
  }

  /** What every task of a node shares: where it runs and how it is found. */
  #plan(node: Node): Omit<JobSpec, "task"> {
    const permissions = node.options.permissions ?? this.#permissions;
    if (permissions !== "inherit" && !workerOptionsEnabled()) {
      throw new WorkerTaskError(
        `Cannot run it with permissions ${
          permissionsKey(permissions)
        } as Deno's --unstable-worker-options flag is not set: pass it to deno (or use permissions "inherit")`,
        { nodeName: node.name, workerId: null, reason: "spawn" },
      );
    }
    const def: NodeDefinition = node.moduleUrl !== null
      ? { kind: "module", url: node.moduleUrl, name: node.name }
      : { kind: "source", source: node.fn.toString(), name: node.name };
    const defKey = def.kind === "module"
      ? `m\u0000${def.url}\u0000${def.name}`
      : `s\u0000${def.name}\u0000${def.source}`;
    let fnKey = this.#fnKeys.get(defKey);
    if (fnKey === undefined) {
      fnKey = this.#fnKeys.size;
      this.#fnKeys.set(defKey, fnKey);
    }
    // Narrowed permissions forbid the worker a dynamic import of the
    // module, so such workers import it as they start, one module each.
    const preload = permissions !== "inherit" && def.kind === "module" ? def.url : null;
    return {
      poolKey: `${permissionsKey(permissions)}${preload ? ` ${preload}` : ""}`,
      permissions,
      preload,
      fnKey,
      def,
      transfer: node.options.transfer ?? false,
    };
  }
}
