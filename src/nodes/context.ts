/**
 * What a running node can reach: the run context, its abort signal, and
 * broadcasts to subscribers.
 *
 * @module
 */
import { currentScope, type TaskScope } from "../execution/scope.ts";
import { workerBridge } from "../execution/worker_bridge.ts";

function requireScope(what: string): TaskScope {
  const scope = currentScope();
  if (!scope) {
    const bridge = workerBridge();
    if (bridge?.nodeName) {
      throw new Error(
        `Cannot ${what} in worker node '${bridge.nodeName}' as the run context stays on the main thread: pass the value as an argument instead`,
      );
    }
    throw new Error(`Cannot ${what} as no node is running in this context`);
  }
  return scope;
}

/**
 * Reads a value from the run context.
 *
 * @param key The key.
 * @param defaultValue Returned when the key is absent.
 * @returns The value, or `defaultValue`.
 * @throws {Error} If called outside a running node.
 *
 * @example Sharing a value between nodes
 * ```ts
 * import { call, getContext, node, putContext, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const write = node(async () => putContext("seen", 1 + getContext<number>("seen", 0)), { name: "write" });
 * const read = node(async () => { await call(write); return getContext("seen"); }, { name: "read" });
 * await using runner = new Runner({}, { seen: 41 });
 * assert.equal((await runner.run(read)).answer, 42);
 * ```
 */
export function getContext<T = unknown>(key: string, defaultValue?: T): T {
  const { context } = requireScope(`read context key '${key}'`).owner;
  return (context.has(key) ? context.get(key) : defaultValue) as T;
}

/**
 * Writes a value to the run context, for every node of the run to read.
 *
 * @param key The key.
 * @param value The value.
 * @throws {Error} If called outside a running node.
 */
export function putContext(key: string, value: unknown): void {
  requireScope(`write context key '${key}'`).owner.context.set(key, value);
}

/**
 * The abort signal of the running node: it fires when the request is
 * cancelled, times out, or its run ends.
 *
 * @returns The signal.
 * @throws {Error} If called outside a running node.
 *
 * @example Stopping work on cancellation
 * ```ts
 * import { currentSignal, node } from "@switchyard/core";
 *
 * const poll = node(async () => {
 *   const signal = currentSignal();
 *   while (!signal.aborted) await new Promise((r) => setTimeout(r, 10));
 * }, { name: "poll" });
 * ```
 */
export function currentSignal(): AbortSignal {
  const bridge = currentScope() ? undefined : workerBridge();
  if (bridge) return bridge.signal;
  return requireScope("get the current signal").signal;
}

/**
 * Sends a value to every subscriber of the run as a `BroadcastEvent`.
 *
 * @param item The value.
 * @throws {Error} If called outside a running node.
 *
 * @example Broadcasting progress
 * ```ts
 * import { broadcast, node, Runner } from "@switchyard/core";
 * import { BroadcastEvent } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const seen: unknown[] = [];
 * const work = node(async () => broadcast({ progress: 1 }), { name: "work" });
 * await using runner = new Runner({
 *   subscriber: (m) => { if (m instanceof BroadcastEvent) seen.push(m.item); },
 * });
 * await runner.run(work);
 * assert.deepEqual(seen, [{ progress: 1 }]);
 * ```
 */
export function broadcast(item: unknown): void {
  const bridge = currentScope() ? undefined : workerBridge();
  if (bridge) return bridge.broadcast(item);
  const scope = requireScope("broadcast");
  scope.owner.broadcastFromScope(scope, item);
}
