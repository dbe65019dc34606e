/**
 * The per-request scope a running node sees through AsyncLocalStorage.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";

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
 * One running request. Its AbortController is created only when someone
 * asks for the signal, since most nodes never do and creating one costs
 * more than the rest of a call.
 */
export class TaskScope {
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

  constructor(
    readonly owner: ScopeOwner,
    readonly requestId: string,
    readonly nodeId: string,
    readonly nodeName: string,
    readonly parentNodeId: string | null,
    readonly rootId: string,
  ) {}

  get signal(): AbortSignal {
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

const STORAGE_KEY = Symbol.for("switchyard.scopeStorage");

/**
 * The scope of the node running in the current async context. It lives on
 * `globalThis` under a registered symbol, so every copy of this module in a
 * process (say the CLI's and one a user module imports by another URL)
 * sees the same scopes and `call()` finds its caller whichever copy it
 * comes from.
 */
export const scopeStorage: AsyncLocalStorage<TaskScope> =
  ((globalThis as Record<symbol, unknown>)[STORAGE_KEY] ??= new AsyncLocalStorage<
    TaskScope
  >()) as AsyncLocalStorage<
    TaskScope
  >;
