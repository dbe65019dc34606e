/**
 * The per-request scope a running node sees through AsyncLocalStorage.
 *
 * @module
 */
import { Task } from "./task.ts";
import type { Job, JobStatus } from "./job.ts";
import type { AnyNode, Node } from "../core/node.ts";
import { scopeStorage } from "./_scope_storage.ts";
import { RequestCancelledError } from "../core/errors.ts";
import { WorkerTaskError } from "./worker_error.ts";

export { scopeStorage };

/**
 * The scope of the running node, if any (possibly made by another copy of
 * this module, which has the same shape).
 *
 * @returns The scope, or `undefined` outside any node.
 */
export function currentScope(): TaskScope | undefined {
  return scopeStorage.getStore() as TaskScope | undefined;
}

/** What a scope needs from the runtime that created it. */
export interface ScopeOwner {
  /** Runs a child call from inside the scope. */
  callFromScope(
    scope: TaskScope,
    target: unknown,
    args: unknown[],
  ): Promise<unknown>;
  /** Publishes a broadcast from inside the scope. */
  broadcastFromScope(scope: TaskScope, item: unknown): void;
  /**
   * Records how the scope's task settled, then closes its job and
   * publishes the outcome through the coordinator.
   */
  settle(scope: TaskScope, ok: boolean, value: unknown): void;
  /** The request id of a row. */
  requestIdOf(row: number): string;
  /** The node instance id of a row. */
  nodeIdOf(row: number): string;
  /** When a row's request was created (`end` false) or ended (`null` while open). */
  timeOf(row: number, end: boolean): number | null;

  /** The run context, shared by every node of the runtime. */
  readonly context: Map<string, unknown>;
}

/**
 * One running request: the task a strategy runs, the scope its node sees
 * and the coordinator's job for it, in one object. It knows its request by
 * row number; the ids are built only when asked for. Its AbortController is
 * created only when someone asks for the signal, since most nodes never do
 * and creating one costs more than the rest of a call.
 */
export class TaskScope extends Task implements Job {
  // Invariant: #abort is null until the signal is asked for or the scope is
  // aborted; once `aborted` is true it stays true, and the controller (if it
  // exists or is created later) is aborted with `reason`. Rare fields live
  // there so that the many scopes of a fan-out stay small.
  #abort: {
    controller?: AbortController;
    aborted: boolean;
    reason?: unknown;
    timer?: ReturnType<typeof setTimeout>;
    stopped?: boolean;
  } | null = null;
  /** Settles the caller's promise with the node's result (set by the runtime). */
  resolve: (value: unknown) => void = noop;
  /** Settles the caller's promise with an error (set by the runtime). */
  reject: (error: unknown) => void = noop;
  /** The job's status: `"opened"` until the task settles or is cancelled. */
  status: JobStatus = "opened";
  /** What the task returned or threw, once closed. */
  result: unknown = undefined;

  /**
   * Makes a scope.
   *
   * @param owner The runtime.
   * @param row The request's row.
   * @param node The node.
   * @param args Its arguments.
   * @param parentRow The caller's row, `-1` at top level.
   * @param rootRow The row of the run's top-level request.
   */
  constructor(
    readonly owner: ScopeOwner,
    readonly row: number,
    node: AnyNode,
    args: unknown[],
    readonly parentRow: number,
    readonly rootRow: number,
  ) {
    super("", node, args);
  }

  /** When the request was created (ms since the epoch), from its record. */
  get startTime(): number {
    return this.owner.timeOf(this.row, false)!;
  }

  /** When the request ended, from its record; `null` while open. */
  get endTime(): number | null {
    return this.owner.timeOf(this.row, true);
  }

  /** Ignored: the request record keeps the end time. */
  set endTime(_time: number | null) {}

  /** The node's name. */
  get nodeName(): string {
    return this.node.name;
  }

  override get requestId(): string {
    return this.owner.requestIdOf(this.row);
  }

  override get nodeId(): string {
    return this.owner.nodeIdOf(this.row);
  }

  override get parentNodeId(): string | null {
    return this.parentRow < 0 ? null : this.owner.nodeIdOf(this.parentRow);
  }

  /** The node instance running the task (the job's name for {@linkcode nodeId}). */
  get childNodeId(): string {
    return this.nodeId;
  }

  override ownJob(): Job {
    return this;
  }

  override settled(ok: boolean, value: unknown): void {
    this.owner.settle(this, ok, value);
  }

  override callChild(target: Node, args: unknown[]): Promise<unknown> {
    return this.owner.callFromScope(this, target, args);
  }

  override broadcast(item: unknown): void {
    this.owner.broadcastFromScope(this, item);
  }

  protected override run(): unknown {
    return scopeStorage.run(this, this.node.fn, ...this.args);
  }

  override get signal(): AbortSignal {
    const state = this.#abort ??= { aborted: false };
    if (!state.controller) {
      state.controller = new AbortController();
      if (state.aborted) state.controller.abort(state.reason);
    }
    return state.controller.signal;
  }

  /** The per-node timeout timer, if any. */
  get timer(): ReturnType<typeof setTimeout> | undefined {
    return this.#abort?.timer;
  }

  set timer(timer: ReturnType<typeof setTimeout> | undefined) {
    (this.#abort ??= { aborted: false }).timer = timer;
  }

  /** Whether the request was cancelled or timed out. */
  get aborted(): boolean {
    return this.#abort?.aborted === true;
  }

  /**
   * Fires the signal (once).
   *
   * @param reason Why.
   */
  abort(reason: unknown): void {
    const state = this.#abort ??= { aborted: false };
    if (state.aborted) return;
    state.aborted = true;
    state.reason = reason;
    state.controller?.abort(reason);
  }

  /**
   * Asks the request to stop (its signal aborts with `reason`) and leaves
   * its record open: how its node then ends is what is recorded, except
   * that ending by the stop itself counts as a cancellation. Nothing if it
   * was aborted already.
   *
   * @param reason Why.
   */
  stop(reason: unknown): void {
    if (this.aborted) return;
    (this.#abort ??= { aborted: false }).stopped = true;
    this.abort(reason);
  }

  /**
   * Whether the node, asked to stop, ended because of it: it threw the
   * stop's reason or a cancellation, or its worker was terminated for not
   * stopping in time.
   *
   * @param error What the node failed with.
   */
  endedByStop(error: unknown): boolean {
    const state = this.#abort;
    if (state?.stopped !== true) return false;
    return error === state.reason || error instanceof RequestCancelledError ||
      (error instanceof WorkerTaskError && error.reason === "cancelled");
  }
}

function noop(): void {}
