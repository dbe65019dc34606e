/**
 * The attempt number a node runs under: delivery to worker processes is at
 * least once, so a node with side effects can guard them.
 *
 * @module
 */
import { type Node, node } from "../core/node.ts";
import { currentScope } from "../execution/scope.ts";
import { workerBridge } from "../execution/worker_bridge.ts";
import { ATTEMPT_PROBE } from "./protocol.ts";

/**
 * What a worker node asks its host for; a remote worker answers it with
 * the job's attempt, a local pool runs it (the local pool makes one
 * attempt per request).
 */
export const attemptProbe: Node<[], number> = node(function attempt() {
  return 1;
}, { name: ATTEMPT_PROBE, worker: import.meta.url });

/**
 * The attempt number of the running node, from 1: on a worker process it
 * is the job's attempt (2 after a retry or after the first worker died);
 * on the event loop, the retry loop's; in a local Web Worker, 1.
 *
 * @returns The attempt number.
 * @throws {Error} (as a rejection) If no node is running in this context.
 *
 * @example Reading the attempt
 * ```ts
 * import { currentAttempt, node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const work = node(async () => {
 *   const attempt = await currentAttempt();
 *   if (attempt === 1) throw new Error("first attempt fails");
 *   return attempt;
 * }, { name: "work", retries: 1, retryDelay: 0 });
 * await using runner = new Runner({ loggingSetting: "NONE" });
 * assert.equal((await runner.run(work)).answer, 2);
 * ```
 */
export function currentAttempt(): Promise<number> {
  const scope = currentScope();
  // On the event loop the retry loop keeps the attempts made so far.
  if (scope) return Promise.resolve((scope.attempts?.length ?? 0) + 1);
  const bridge = workerBridge();
  if (bridge?.nodeName) return bridge.call(attemptProbe, []) as Promise<number>;
  return Promise.reject(
    new Error("Cannot read the attempt number as no node is running in this context"),
  );
}
