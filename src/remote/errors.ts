/**
 * The errors of remote execution.
 *
 * @module
 */

/**
 * Redis cannot be reached (or lost the work it held): the remote calls of
 * the run fail with this error instead of waiting forever.
 *
 * @example Telling the error apart
 * ```ts
 * import { RemoteUnavailableError } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const error = new RemoteUnavailableError("redis://127.0.0.1:1", "connect ECONNREFUSED");
 * assert.equal(error.name, "RemoteUnavailableError");
 * assert.match(error.message, /127\.0\.0\.1:1/);
 * ```
 */
export class RemoteUnavailableError extends Error {
  /** The Redis URL (without its password). */
  readonly redis: string;

  /**
   * Makes a RemoteUnavailableError.
   *
   * @param redis The Redis URL.
   * @param why What went wrong.
   * @param options The underlying error as `cause`.
   */
  constructor(redis: string, why: string, options?: ErrorOptions) {
    const shown = hidePassword(redis);
    super(`Cannot use Redis at ${shown} for remote nodes: ${why}`, options);
    this.name = "RemoteUnavailableError";
    this.redis = shown;
  }
}

/**
 * A worker process gave up a job because the runner that sent it is gone
 * (its liveness key expired), so nobody waits for the outcome.
 *
 * @example Telling the error apart
 * ```ts
 * import { RunnerGoneError } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new RunnerGoneError("r1", "analyse").name, "RunnerGoneError");
 * ```
 */
export class RunnerGoneError extends Error {
  /**
   * Makes a RunnerGoneError.
   *
   * @param runnerId The runner.
   * @param nodeName The node whose job was given up.
   */
  constructor(runnerId: string, nodeName: string) {
    super(
      `Stopped node '${nodeName}' as runner ${runnerId} that sent it is gone (no liveness from it in Redis)`,
    );
    this.name = "RunnerGoneError";
  }
}

/**
 * A Redis URL fit for logs and messages: its password replaced by `***`.
 *
 * @param url The URL.
 * @returns The URL without a password.
 */
export function hidePassword(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.href;
}
