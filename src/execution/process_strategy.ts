/**
 * The process strategy: runs worker nodes in child `deno` processes, each
 * with its own heap limit and permissions, for code that may exhaust memory
 * or never return to its event loop.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import type { NodeDefinition } from "../../workers/protocol.ts";
import type { Node, WorkerPermissions } from "../core/node.ts";
import { describe, executeOnPool } from "./_worker_failures.ts";
import { permissionFlags } from "./_process_permissions.ts";
import { type ProcessPlan, ProcessPool } from "./_process_pool.ts";
import { refuseRunInWorker } from "./worker_bridge.ts";
import type { TaskExecutionStrategy } from "./strategy.ts";
import type { Task } from "./task.ts";
import { WorkerTaskError } from "./worker_error.ts";

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
 */ export class ProcessExecutionStrategy implements TaskExecutionStrategy {
  readonly #size: number;
  readonly #permissions: WorkerPermissions;
  readonly #heapLimit: number;
  readonly #gracePeriod: number;
  readonly #dedicated: boolean;
  readonly #plans = new WeakMap<Node, ProcessPlan>();
  readonly #fnKeys = new Map<string, number>();
  // Invariant: null until the first task, and after shutdown().
  #pool: ProcessPool | null = null;
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
          `Cannot create ProcessExecutionStrategy as '${name}' must be ${what}: current value is ${
            describeValue(value)
          }`,
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
    return this.#pool?.processCount ?? 0;
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
    return executeOnPool(
      task,
      "process",
      this.#closed,
      () => this.#plan(task.node as Node),
      (plan) => this.#start().submit(task, plan),
    );
  }
  /**
   * Kills every child, after giving running tasks the grace period to
   * react to their aborted signal, and waits until they are gone. Later
   * tasks are refused.
   */
  async shutdown(): Promise<void> {
    this.#closed = true;
    const pool = this.#pool;
    this.#pool = null;
    await pool?.shutdown();
  }

  #start(): ProcessPool {
    this.#pool ??= new ProcessPool({
      size: this.#size,
      gracePeriod: this.#gracePeriod,
      dedicated: this.#dedicated,
    });
    return this.#pool;
  }

  #plan(node: Node): ProcessPlan {
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
}
