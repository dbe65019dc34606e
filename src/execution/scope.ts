/**
 * The per-request scope a running node sees through AsyncLocalStorage.
 *
 * @module
 */
import { Task } from "./task.ts";
import type { AnyNode, Node } from "../core/node.ts";
import { scopeStorage } from "./_scope_storage.ts";

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
  /** The run context, shared by every node of the runtime. */
  readonly context: Map<string, unknown>;
}

/**
 * One running request: the task a strategy runs and the scope its node
 * sees, in one object. Its AbortController is created only when someone
 * asks for the signal, since most nodes never do and creating one costs
 * more than the rest of a call.
 */
export class TaskScope extends Task {
  // Invariant: once #aborted is true it stays true, and #controller (if it
  // exists or is created later) is aborted with #reason.
  #controller: AbortController | undefined;
  /** Settles the caller's promise with the node's result (set by the runtime). */
  resolve: (value: unknown) => void = noop;
  /** Settles the caller's promise with an error (set by the runtime). */
  reject: (error: unknown) => void = noop;
  /** The per-node timeout timer, if any. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #aborted = false;
  #reason: unknown;

  readonly #nodeId: string;
  readonly #parentNodeId: string | null;

  constructor(
    readonly owner: ScopeOwner,
    requestId: string,
    nodeId: string,
    node: AnyNode,
    args: unknown[],
    parentNodeId: string | null,
    readonly rootId: string,
  ) {
    super(requestId, node, args);
    this.#nodeId = nodeId;
    this.#parentNodeId = parentNodeId;
  }

  get nodeName(): string {
    return this.node.name;
  }

  override get nodeId(): string {
    return this.#nodeId;
  }

  override get parentNodeId(): string | null {
    return this.#parentNodeId;
  }

  override callChild(target: Node, args: unknown[]): Promise<unknown> {
    return this.owner.callFromScope(this, target, args);
  }

  override broadcast(item: unknown): void {
    this.owner.broadcastFromScope(this, item);
  }

  protected override run(): unknown {
    // A traced request's node runs with its span active.
    if (this.trace !== undefined) return this.trace.run(runInScope, this);
    return scopeStorage.run(this, this.node.fn, ...this.args);
  }

  override get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

function noop(): void {}

function runInScope(scope: TaskScope): unknown {
  return scopeStorage.run(scope, scope.node.fn, ...scope.args);
}
