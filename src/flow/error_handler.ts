/**
 * What a flow does when a routine's slot handler throws.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { z } from "npm:zod@^4.1.0";
import { describeIssues } from "../core/validation.ts";

/**
 * How a failure is handled:
 * - `"stop"`: the job fails; nothing more is dispatched.
 * - `"continue"`: the failure is recorded and the job goes on.
 * - `"retry"`: the activation runs again after a delay, up to `maxRetries`
 *   times; once they are spent (or the error is not `retryable`) the
 *   failure is handled as `"stop"`, or as `"continue"` when the handler is
 *   not `critical`.
 * - `"skip"`: the activation is dropped, the routine marked `skipped`, and
 *   the job goes on.
 */
export type ErrorStrategy = "stop" | "continue" | "retry" | "skip";

/** Options of {@linkcode ErrorHandler}. */
export interface ErrorHandlerOptions {
  /**
   * What to do.
   *
   * @default {"stop"}
   */
  strategy?: ErrorStrategy;
  /**
   * Retries after the first failure (`"retry"` only).
   *
   * @default {3}
   */
  maxRetries?: number;
  /**
   * Delay before the first retry, in ms.
   *
   * @default {100}
   */
  retryDelay?: number;
  /**
   * Factor applied to the delay after each retry.
   *
   * @default {2}
   */
  retryBackoff?: number;
  /**
   * Which errors are worth retrying: a predicate or a list of error
   * classes; every error by default.
   *
   * @default {undefined}
   */
  retryable?:
    | ((error: unknown) => boolean)
    | (abstract new (...args: never[]) => Error)[];
  /**
   * Whether a failure that is not recovered (retries spent, or not
   * retryable) fails the job.
   *
   * @default {true}
   */
  critical?: boolean;
}

/** What the flow does about one failure, as {@linkcode ErrorHandler.decide} says. */
export type ErrorDecision =
  | { action: "stop" }
  | { action: "continue" }
  | { action: "skip" }
  | { action: "retry"; delay: number };

const optionsSchema = z.object({
  strategy: z.enum(["stop", "continue", "retry", "skip"]).optional(),
  maxRetries: z.number().int().nonnegative().optional(),
  retryDelay: z.number().nonnegative().finite().optional(),
  retryBackoff: z.number().min(1).finite().optional(),
  retryable: z.union([z.function(), z.array(z.function())]).optional(),
  critical: z.boolean().optional(),
}).strict();

/**
 * A failure policy for routines: set it on a routine
 * (`routine.setErrorHandler`) or on a whole flow (`flow.setErrorHandler`);
 * the routine's wins. Retries are scheduled with timers, so the event loop
 * (and every other routine) keeps going while one waits.
 *
 * @example Backoff
 * ```ts
 * import { ErrorHandler } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const handler = new ErrorHandler({ strategy: "retry", maxRetries: 3, retryDelay: 10, retryBackoff: 3 });
 * assert.deepEqual(handler.decide(new Error("x"), 1), { action: "retry", delay: 10 });
 * assert.deepEqual(handler.decide(new Error("x"), 3), { action: "retry", delay: 90 });
 * assert.deepEqual(handler.decide(new Error("x"), 4), { action: "stop" });
 * ```
 */
export class ErrorHandler {
  /** What to do. */
  readonly strategy: ErrorStrategy;
  /** Retries after the first failure. */
  readonly maxRetries: number;
  /** Delay before the first retry, in ms. */
  readonly retryDelay: number;
  /** Factor applied to the delay after each retry. */
  readonly retryBackoff: number;
  /** Whether an unrecovered failure fails the job. */
  readonly critical: boolean;
  readonly #retryable: (error: unknown) => boolean;

  /**
   * Makes an ErrorHandler.
   *
   * @param options Strategy, retry limits and filter.
   * @throws {TypeError} Naming an invalid option and its value.
   */
  constructor(options: ErrorHandlerOptions = {}) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new TypeError(
        `Cannot create an ErrorHandler as ${describeIssues(parsed.error, options)}`,
      );
    }
    this.strategy = options.strategy ?? "stop";
    this.maxRetries = options.maxRetries ?? 3;
    this.retryDelay = options.retryDelay ?? 100;
    this.retryBackoff = options.retryBackoff ?? 2;
    this.critical = options.critical ?? true;
    const { retryable } = options;
    this.#retryable = retryable === undefined
      ? () => true
      : Array.isArray(retryable)
      ? (error) => retryable.some((kind) => error instanceof kind)
      : retryable;
  }

  /**
   * The delay before a retry.
   *
   * @param attempt The attempt that failed (1 for the first run).
   * @returns `retryDelay * retryBackoff ** (attempt - 1)` ms.
   */
  delayFor(attempt: number): number {
    return this.retryDelay * this.retryBackoff ** (attempt - 1);
  }

  /**
   * Decides what to do about a failure.
   *
   * @param error What the slot handler threw.
   * @param attempt The attempt that failed (1 for the first run).
   * @returns The action, with the delay for a retry.
   */
  decide(error: unknown, attempt: number): ErrorDecision {
    if (this.strategy !== "retry") return { action: this.strategy };
    if (attempt <= this.maxRetries && this.#retryable(error)) {
      return { action: "retry", delay: this.delayFor(attempt) };
    }
    return { action: this.critical ? "stop" : "continue" };
  }
}

/**
 * Checks a value given as an error handler (internal to flows and routines).
 *
 * @param owner What the handler is for, e.g. `flow 'f'`.
 * @param handler The value.
 * @returns The handler, or `null` to clear it.
 * @throws {TypeError} If it is neither an ErrorHandler nor `null`.
 */
export function requireErrorHandler(owner: string, handler: unknown): ErrorHandler | null {
  if (handler !== null && !(handler instanceof ErrorHandler)) {
    throw new TypeError(
      `Cannot set the error handler of ${owner} as 'handler' must be an ErrorHandler or null: current value is ${
        describeValue(handler, 80)
      }`,
    );
  }
  return handler;
}
