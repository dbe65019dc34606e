/**
 * What `switchyard run` can run, chosen by duck typing: a node, a flow (an
 * object with `execute` and `addRoutine`), or states (objects with
 * `enterState`, or a function returning them). Each kind is a {@linkcode RunTarget}; new kinds plug in
 * with {@linkcode registerRunTarget}.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { isNode } from "../core/node.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import { Runner } from "../run/runner.ts";
import { RunNotSavedError } from "../run/errors.ts";
import type { ExecutorConfigInput } from "../execution/config.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import { flowTarget } from "./flow_target.ts";
import { statesTarget } from "./states_target.ts";

/** What a run target gets from `switchyard run`. */
export interface RunTargetContext {
  /** The runner configuration the command line asked for. */
  config: ExecutorConfigInput;
  /** The positional arguments, parsed (JSON when valid JSON, else strings). */
  args: unknown[];
  /** The entry routine of a flow (`--entry`), if given. */
  entry?: string;
  /**
   * What is run, for messages: e.g. `export 'default' of 'app.ts'`.
   *
   * @default "states" or the flow's id, by target
   */
  label?: string;
  /**
   * Shows live progress of an execution; call it once the publisher and
   * execution exist, before the work starts.
   */
  observe(source: { publisher: RTPublisher; info: ExecutionInfo }): void;
  /**
   * Aborts when the user interrupts the command (Ctrl-C): stop the run,
   * cancelling what is open, and save what was recorded.
   */
  signal: AbortSignal;
}

/** How a run went. */
export interface RunOutcome {
  /** Everything recorded. */
  info: ExecutionInfo;
  /** What the run returned (when it did not fail). */
  answer?: unknown;
  /** Why it failed; absent on success. */
  error?: unknown;
  /** The run identifier its files are saved under, if saved. */
  runId: string;
  /**
   * How a run that did not fail stopped, when it did not complete: a flow's
   * job a routine paused is `"Paused"`.
   *
   * @default "Completed"
   */
  stopped?: "Completed" | "Paused";
}

/** One kind of thing `switchyard run` can run. */
export interface RunTarget {
  /** A short name, e.g. `"node"`. */
  kind: string;
  /** Whether a module export is of this kind. */
  matches(value: unknown): boolean;
  /**
   * Runs it. Resolves with the outcome also when the run failed; rejects
   * only when it could not be run at all.
   */
  run(value: unknown, context: RunTargetContext): Promise<RunOutcome>;
}

/** A kind of export that `switchyard run` recognises but cannot run yet. */
export class UnsupportedRunTargetError extends Error {
  /** Always `"UnsupportedRunTargetError"`. */
  override readonly name = "UnsupportedRunTargetError";
  /**
   * Makes an UnsupportedRunTargetError.
   *
   * @param kind The kind, e.g. `"flow"`.
   * @param options The cause, if any.
   */
  constructor(kind: string, options?: ErrorOptions) {
    super(
      `Cannot run a ${kind} as 'switchyard run' has no runner for ${kind}s yet: register one with registerRunTarget()`,
      options,
    );
  }
}

/** Runs a node with a {@linkcode Runner}. */
export const nodeTarget: RunTarget = {
  kind: "node",
  matches: isNode,
  async run(value, context) {
    const runner = new Runner(context.config);
    const runId = runner.config.runIdentifier;
    context.observe({ publisher: runner.publisher, info: runner.info });
    const stop = () => void runner.shutdown().catch(() => {});
    context.signal.addEventListener("abort", stop, { once: true });
    try {
      const info = await runner.run(
        value as Parameters<Runner["run"]>[0],
        ...context.args,
      );
      return { info, answer: info.answer, runId };
    } catch (error) {
      // A run that could not be saved is reported by `switchyard run`; the
      // outcome is the run's own.
      if (error instanceof RunNotSavedError && error.runError === undefined) {
        return { info: runner.info, answer: runner.info.answer, runId };
      }
      const runError = error instanceof RunNotSavedError ? error.runError : error;
      return { info: runner.info, error: runError, runId };
    } finally {
      context.signal.removeEventListener("abort", stop);
      await runner.shutdown().catch((error) => {
        if (!(error instanceof RunNotSavedError)) throw error;
      });
    }
  },
};

// Invariant: later registrations come first, so a registered kind replaces
// a built-in one that matches the same values.
const targets: RunTarget[] = [nodeTarget, flowTarget, statesTarget];

/**
 * Adds a kind of runnable export; it is tried before those already known.
 *
 * @param target The run target.
 * @returns A function that removes it again.
 * @throws {TypeError} If `target` lacks `kind`, `matches` or `run`.
 *
 * @example Teaching `switchyard run` a new kind
 * ```ts
 * import { ExecutionInfo } from "@switchyard/core";
 * import { findRunTarget, registerRunTarget } from "@switchyard/core/cli";
 * import assert from "node:assert/strict";
 *
 * const remove = registerRunTarget({
 *   kind: "greeting",
 *   matches: (v) => typeof v === "string",
 *   run: () => Promise.resolve({ info: ExecutionInfo.createNew(), answer: "hi", runId: "r" }),
 * });
 * assert.equal(findRunTarget("hello")?.kind, "greeting");
 * remove();
 * assert.equal(findRunTarget("hello"), undefined);
 * ```
 */
export function registerRunTarget(target: RunTarget): () => void {
  if (
    typeof target?.kind !== "string" || typeof target.matches !== "function" ||
    typeof target.run !== "function"
  ) {
    throw new TypeError(
      `Cannot register run target as 'target' must have kind, matches() and run(): current value is ${
        describeValue(target, 80)
      }`,
    );
  }
  targets.unshift(target);
  return () => {
    const index = targets.indexOf(target);
    if (index >= 0) targets.splice(index, 1);
  };
}

/**
 * The run target for a module export, if any kind matches it.
 *
 * @param value The export.
 * @returns The first matching target, or `undefined`.
 *
 * @example What a module exports
 * ```ts
 * import { findRunTarget } from "@switchyard/core/cli";
 * import { node } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(findRunTarget(node(() => 1, { name: "one" }))?.kind, "node");
 * assert.equal(findRunTarget({ execute() {}, addRoutine() {} })?.kind, "flow");
 * assert.equal(findRunTarget([{ enterState() {} }])?.kind, "state");
 * assert.equal(findRunTarget(42), undefined);
 * ```
 */
export function findRunTarget(value: unknown): RunTarget | undefined {
  return targets.find((target) => target.matches(value));
}
