/**
 * Retries of a failed node: how long to wait before each one (exponential
 * backoff with jitter and a cap), and the loop that runs the attempts and
 * records each of them.
 *
 * @module
 */
import type { NodeOptions } from "../core/node.ts";
import type { AttemptRecord } from "../state/request_forest.ts";
import type { Task } from "./task.ts";

/**
 * The node options that shape retries, with their defaults.
 *
 * @example The defaults
 * ```ts
 * import { RETRY_DEFAULTS } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * assert.equal(RETRY_DEFAULTS.retries, 0);
 * assert.equal(RETRY_DEFAULTS.retryDelay, 100);
 * ```
 */
export const RETRY_DEFAULTS: Readonly<
  Required<
    Pick<NodeOptions, "retries" | "retryDelay" | "retryBackoff" | "retryJitter" | "retryMaxDelay">
  >
> = Object.freeze({
  retries: 0,
  retryDelay: 100,
  retryBackoff: 2,
  retryJitter: 0.2,
  retryMaxDelay: 30_000,
});

/**
 * The wait before a retry: `retryDelay × retryBackoff^(attempt − 1)`, capped
 * at `retryMaxDelay`, then shortened by a random part of up to
 * `retryJitter` of it (so retries of many failed calls spread out).
 *
 * @param options The node's options.
 * @param attempt The attempt that just failed (1 for the first run).
 * @param random A number in [0, 1) (`Math.random()` by default).
 * @returns The delay in ms.
 *
 * @example Backoff with a cap, no jitter
 * ```ts
 * import { retryDelayFor } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const options = { retryDelay: 100, retryBackoff: 2, retryMaxDelay: 500, retryJitter: 0 };
 * assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayFor(options, n)), [100, 200, 400, 500]);
 * ```
 */
export function retryDelayFor(
  options: Readonly<NodeOptions>,
  attempt: number,
  random: number = Math.random(),
): number {
  const base = options.retryDelay ?? RETRY_DEFAULTS.retryDelay;
  const backoff = options.retryBackoff ?? RETRY_DEFAULTS.retryBackoff;
  const cap = options.retryMaxDelay ?? RETRY_DEFAULTS.retryMaxDelay;
  const jitter = options.retryJitter ?? RETRY_DEFAULTS.retryJitter;
  const delay = Math.min(cap, base * backoff ** (attempt - 1));
  return Math.round(delay * (1 - jitter * random));
}

/**
 * Runs a task's attempts until one succeeds, the retries are spent, the
 * error is final, or the task is cancelled; waits between attempts with
 * timers (never blocking the event loop) and stops waiting at once when the
 * task's signal aborts. Every attempt is pushed onto `task.attempts`.
 *
 * @param task The task (its node's options give the retries and delays).
 * @param once Runs one attempt.
 * @param isFinal Errors that must not be retried (default: none).
 * @returns What the successful attempt returned.
 * @throws What the last attempt threw.
 *
 * @example Two failures, then a success, each attempt recorded
 * ```ts
 * import { runAttempts, Task } from "@switchyard/core/engine";
 * import { node } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const flaky = node(async () => 1, { name: "flaky", retries: 2, retryDelay: 1 });
 * const task = new Task("r1", flaky);
 * let calls = 0;
 * const value = await runAttempts(task, async () => {
 *   if (++calls < 3) throw new Error(`try ${calls}`);
 *   return "ok";
 * });
 * assert.equal(value, "ok");
 * assert.equal(task.attempts?.length, 3);
 * ```
 */
export async function runAttempts(
  task: Task,
  once: () => unknown,
  isFinal: (error: unknown) => boolean = () => false,
): Promise<unknown> {
  const options = task.node.options;
  const retries = options.retries ?? RETRY_DEFAULTS.retries;
  const attempts: AttemptRecord[] = [];
  task.attempts = attempts;
  for (let attempt = 1;; attempt++) {
    const start = now();
    try {
      const value = await once();
      attempts.push({ attempt, start, end: now(), status: "Completed" });
      return value;
    } catch (error) {
      const end = now();
      if (attempt > retries || task.signal.aborted || isFinal(error)) {
        attempts.push({ attempt, start, end, status: "Failed", error });
        throw error;
      }
      const retryDelay = retryDelayFor(options, attempt);
      attempts.push({ attempt, start, end, status: "Failed", error, retryDelay });
      task.trace?.retry(error);
      if (!await wait(retryDelay, task.signal)) throw error;
    }
  }
}

/** Wall-clock ms since the epoch with sub-millisecond precision, as stamps have. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Waits `ms` or until `signal` aborts; resolves `true` when the time passed. */
function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
