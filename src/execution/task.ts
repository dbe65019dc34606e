/**
 * A unit of work handed to an execution strategy.
 *
 * @module
 */
import type { Node } from "../nodes/node.ts";
import { scopeStorage, type TaskScope } from "../nodes/_scope.ts";

const NEVER_ABORTED = new AbortController().signal;

/** Options of {@linkcode Task}. */
export interface TaskOptions {
  /** The scope the node runs in (set by the runtime). */
  scope?: TaskScope;
}

/**
 * A request to run one node with some arguments. Strategies either call
 * {@linkcode Task.invoke} (on this thread) or ship `node` (by name or
 * source) and `args` elsewhere.
 *
 * @example Invoking a task directly
 * ```ts
 * import { node, Task } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const task = new Task("r1", node(async (a: number, b: number) => a + b, { name: "add" }), [1, 2]);
 * assert.equal(await task.invoke(), 3);
 * ```
 */
export class Task {
  /** The request this task serves. */
  readonly requestId: string;
  /** The node to run. */
  readonly node: Node<unknown[], unknown>;
  /** Its arguments. */
  readonly args: unknown[];
  readonly #scope: TaskScope | undefined;

  /**
   * @param requestId The request.
   * @param node The node.
   * @param args The arguments.
   * @param options The scope, set by the runtime.
   */
  constructor(
    requestId: string,
    // deno-lint-ignore no-explicit-any
    node: Node<any, any>,
    args: unknown[],
    options?: TaskOptions,
  ) {
    this.requestId = requestId;
    this.node = node;
    this.args = args;
    this.#scope = options?.scope;
  }

  /** The calling node's id (`null` at top level or outside a runtime). */
  get parentNodeId(): string | null {
    return this.#scope?.parentNodeId ?? null;
  }

  /** The id of the node instance serving the request (`""` outside a runtime). */
  get nodeId(): string {
    return this.#scope?.nodeId ?? "";
  }

  /** Fires when the request is cancelled or times out. */
  get signal(): AbortSignal {
    return this.#scope?.signal ?? NEVER_ABORTED;
  }

  /**
   * Calls a node as a child of this task's request, as `call()` does inside
   * a node; for strategies that run the node's code elsewhere.
   *
   * @param target The node to call.
   * @param args Its arguments.
   * @returns What the child returns.
   * @throws {Error} (as a rejection) If the task runs outside a runtime.
   */
  callChild(target: Node, args: unknown[]): Promise<unknown> {
    const scope = this.#scope;
    if (!scope) {
      return Promise.reject(
        new Error(
          `Cannot call node '${target?.name}' from node '${this.node.name}' as its task runs outside a runtime`,
        ),
      );
    }
    return scope.owner.callFromScope(scope, target, args);
  }

  /**
   * Broadcasts a value for this task, as `broadcast()` does inside a node.
   *
   * @param item The value.
   */
  broadcast(item: unknown): void {
    const scope = this.#scope;
    scope?.owner.broadcastFromScope(scope, item);
  }

  /**
   * Runs the node on this thread, inside its scope, retrying after a
   * failure as many times as the node's `retries` allows (never after a
   * cancellation).
   *
   * @returns What the node returned.
   * @throws What the node threw on its last attempt.
   */
  async invoke(): Promise<unknown> {
    const { fn, options } = this.node;
    const scope = this.#scope;
    let retries = options.retries ?? 0;
    while (true) {
      try {
        return scope
          ? await scopeStorage.run(scope, fn, ...this.args)
          : await fn(...this.args);
      } catch (error) {
        if (retries-- <= 0 || scope?.aborted) throw error;
      }
    }
  }
}
