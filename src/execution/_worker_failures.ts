/**
 * Small helpers for describing how worker tasks end.
 *
 * @module
 */
import { GlobalTimeoutError, NodeTimeoutError } from "../core/errors.ts";
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
