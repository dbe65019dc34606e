/**
 * Calling nodes from nodes (and from anywhere else).
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { isLoggingConfigured } from "../core/logging.ts";
import { Runner } from "../run/runner.ts";
import type { Node } from "../core/node.ts";
import { currentScope } from "../execution/scope.ts";
import { workerBridge } from "../execution/worker_bridge.ts";

/**
 * Calls a node. Inside a running node this creates a child request of the
 * caller, tracked in the run; outside any run it starts a run of its own
 * with the default configuration and returns its answer.
 *
 * @param target The node to call.
 * @param args Its arguments.
 * @returns What the node returns.
 * @throws {TypeError} (as a rejection) If `target` is not a node.
 * @throws What the node throws; `RequestCancelledError` if the request is cancelled.
 *
 * @example Fan-out from a node
 * ```ts
 * import { call, node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const double = node(async (x: number) => x * 2, { name: "double" });
 * const total = node(async function total(xs: number[]) {
 *   const ys = await Promise.all(xs.map((x) => call(double, x)));
 *   return ys.reduce((a, b) => a + b, 0);
 * });
 * await using runner = new Runner();
 * const info = await runner.run(total, [1, 2, 3]);
 * assert.equal(info.answer, 12);
 * assert.equal(info.requestHeap.size, 4);
 * ```
 */
export function call<A extends unknown[], R>(
  target: Node<A, R>,
  ...args: A
): Promise<R> {
  const scope = currentScope();
  if (scope) {
    return scope.owner.callFromScope(scope, target, args) as Promise<R>;
  }
  const bridge = workerBridge();
  if (bridge) return bridge.call(target, args) as Promise<R>;
  return runDetached(target, args);
}

async function runDetached<A extends unknown[], R>(
  target: Node<A, R>,
  args: A,
): Promise<R> {
  // Leaves logging as the application (or an earlier runner) set it; a
  // one-off call in a program that set nothing stays quiet.
  await using runner = new Runner(isLoggingConfigured() ? {} : { loggingSetting: "QUIET" });
  const info = await runner.run(target, ...args);
  return info.answer as R;
}

/** Options of {@linkcode callBatch}. */
export interface CallBatchOptions {
  /**
   * Return a failed call's error in its place instead of rejecting the
   * whole batch (default `false`).
   */
  returnExceptions?: boolean;
}

/**
 * Calls a node once per argument list, concurrently; results come back in
 * order.
 *
 * @param target The node.
 * @param argsList One argument list per call.
 * @param options `returnExceptions` to get errors in place of results.
 * @returns The results in the order of `argsList`.
 * @throws {TypeError} (as a rejection) If `argsList` is not an array of arrays.
 * @throws The first error, unless `returnExceptions` is set.
 *
 * @example Errors in place of results
 * ```ts
 * import { callBatch, node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const inverse = node(async (x: number) => {
 *   if (x === 0) throw new RangeError("zero");
 *   return 1 / x;
 * }, { name: "inverse" });
 * const batch = node(async () => await callBatch(inverse, [[1], [0], [4]], { returnExceptions: true }), { name: "batch" });
 * await using runner = new Runner();
 * const [one, zero, quarter] = (await runner.run(batch)).answer as unknown[];
 * assert.equal(one, 1);
 * assert.ok(zero instanceof RangeError);
 * assert.equal(quarter, 0.25);
 * ```
 */
export function callBatch<A extends unknown[], R>(
  target: Node<A, R>,
  argsList: readonly A[],
  options: CallBatchOptions & { returnExceptions: true },
): Promise<(R | Error)[]>;
/**
 * Calls a node once per argument list, concurrently; results come back in
 * order, and the first failure rejects the batch.
 *
 * @param target The node.
 * @param argsList One argument list per call.
 * @param options Without `returnExceptions`.
 * @returns The results in the order of `argsList`.
 * @throws The first error.
 */
export function callBatch<A extends unknown[], R>(
  target: Node<A, R>,
  argsList: readonly A[],
  options?: CallBatchOptions,
): Promise<R[]>;
export function callBatch<A extends unknown[], R>(
  target: Node<A, R>,
  argsList: readonly A[],
  options: CallBatchOptions = {},
): Promise<(R | Error)[]> {
  if (!Array.isArray(argsList) || !argsList.every(Array.isArray)) {
    return Promise.reject(
      new TypeError(
        `Cannot call a batch as 'argsList' must be an array of argument arrays: current value is ${
          Array.isArray(argsList) ? "an array with a non-array item" : describeValue(argsList)
        }`,
      ),
    );
  }
  const calls = argsList.map((args) => call(target, ...(args as A)));
  if (!options.returnExceptions) return Promise.all(calls);
  return Promise.allSettled(calls).then((settled) =>
    settled.map((s) =>
      s.status === "fulfilled"
        ? s.value
        : s.reason instanceof Error
        ? s.reason
        : new Error(String(s.reason), { cause: s.reason })
    )
  );
}
