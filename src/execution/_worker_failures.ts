/**
 * Small helpers for describing how worker tasks end.
 *
 * @module
 */
import { GlobalTimeoutError, NodeTimeoutError } from "../core/errors.ts";
import { runAttempts } from "./retry_policy.ts";
import type { Task } from "./task.ts";
import { type WorkerFailureReason, WorkerTaskError } from "./worker_error.ts";

/**
 * Why a stopped task stopped: a node or run timeout, or a cancellation.
 *
 * @param reason The task signal's abort reason.
 * @returns `"timeout"` or `"cancelled"`.
 */
export function stopReason(reason: unknown): WorkerFailureReason {
  return reason instanceof NodeTimeoutError ||
      reason instanceof GlobalTimeoutError
    ? "timeout"
    : "cancelled";
}

/**
 * An error as `Name: message`, anything else as a string.
 *
 * @param error Anything thrown.
 * @returns A short description.
 */
export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Whether a value survives structured clone.
 *
 * @param value Anything.
 * @returns `false` if cloning it throws.
 */
export function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Worker failures a retry cannot fix: a stop (timeout, cancellation,
 * shutdown), or a task that could not start (spawn) or be sent (clone).
 *
 * @param error What an attempt failed with.
 * @returns `true` if no retry should follow.
 */
export function isFinalWorkerError(error: unknown): boolean {
  const reason = error instanceof WorkerTaskError ? error.reason : null;
  return reason === "timeout" || reason === "cancelled" || reason === "shutdown" ||
    reason === "spawn" || reason === "clone";
}

/**
 * A worker or child whose entry failed because the node's module started
 * a run at its top level (a `WorkerModuleError`) failed to load the node,
 * not to run it: the reason and cause to report instead.
 *
 * @param detail What the worker reported.
 * @param cause The error, when it came across.
 * @returns `{ reason: "load", cause }`, or `null` for any other failure.
 */
export function moduleFailure(
  detail: string,
  cause?: unknown,
): { reason: "load"; cause: unknown } | null {
  if (cause instanceof Error && cause.name === "WorkerModuleError") {
    return { reason: "load", cause };
  }
  const match = /WorkerModuleError: (.*)$/s.exec(detail);
  if (!match) return null;
  const error = new Error(match[1]);
  error.name = "WorkerModuleError";
  return { reason: "load", cause: error };
}

/**
 * How both pool strategies run a task: refused once the pool has shut
 * down, prepared (a bad node rejects, never throws), then submitted once or
 * retried as the node's `retries` allows, never after a final failure.
 *
 * @param task The task.
 * @param pool `"worker"` or `"process"`, for the refusal's message.
 * @param closed Whether the pool has shut down.
 * @param prepare Checks the node and builds what the pool needs to run it.
 * @param submit Runs one attempt.
 * @returns What the node returned.
 */
export function executeOnPool<P>(
  task: Task,
  pool: "worker" | "process",
  closed: boolean,
  prepare: () => P,
  submit: (prepared: P) => Promise<unknown>,
): Promise<unknown> {
  if (closed) {
    return Promise.reject(
      new WorkerTaskError(`the ${pool} pool has shut down`, {
        nodeName: task.node.name,
        workerId: null,
        reason: "shutdown",
      }),
    );
  }
  let prepared: P;
  try {
    prepared = prepare();
  } catch (error) {
    return Promise.reject(error);
  }
  if ((task.node.options.retries ?? 0) === 0) return submit(prepared);
  return runAttempts(task, () => submit(prepared), isFinalWorkerError);
}
