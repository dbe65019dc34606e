/**
 * Small helpers for describing how worker tasks end.
 *
 * @module
 */
import { GlobalTimeoutError, NodeTimeoutError } from "../core/errors.ts";
import type { WorkerFailureReason } from "./worker_error.ts";

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
