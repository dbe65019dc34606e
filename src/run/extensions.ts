/**
 * Where new behaviour plugs into every run: execution strategies made from
 * the configuration (remote queues, say), and observers attached to each
 * run session (tracing, metrics). Runners, the StateManager and flows all
 * open their runs through a {@linkcode RunSession}, so what is registered
 * here applies to all of them.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import type { ExecutorConfig } from "../execution/config.ts";
import { defaultStrategies } from "../execution/strategies.ts";
// Registers the "remote" mode's strategy (BullMQ loads only when used).
import "../remote/remote_strategy.ts";
import type { TaskExecutionStrategy } from "../execution/strategy.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import type { RTState } from "../execution/rt_state.ts";
import type { Coordinator } from "../execution/coordinator.ts";

/**
 * Makes extra execution strategies for a run from its configuration, by
 * mode; returns nothing (or `{}`) when the configuration does not ask for
 * them. A strategy for a mode already present replaces it.
 */
export type StrategyFactory = (
  config: ExecutorConfig,
) => Record<string, TaskExecutionStrategy> | undefined;

/** What an observer sees of a run session: its engine and its record. */
export interface ObservedRun {
  /** The run's validated configuration. */
  readonly config: ExecutorConfig;
  /** The run identifier (the saved run's id). */
  readonly runId: string;
  /** What the session runs: `"runner"`, `"states"` or `"flow"`. */
  readonly kind: string;
  /** The record, as it grows. */
  readonly info: ExecutionInfo;
  /** Every runtime message of the run. */
  readonly publisher: RTPublisher;
  /** The run's runtime state. */
  readonly rtState: RTState;
  /** The run's coordinator. */
  readonly coordinator: Coordinator;
}

/** What an observer may hand back: work to do when the session closes. */
export interface RunObservation {
  /** Called once when the session closes, after the last message. */
  close?(): void | Promise<void>;
}

/**
 * Attaches to a run session as it opens, before its first request:
 * subscribe to `publisher`, read `info`. Its `close` runs when the session
 * closes; a throwing observer is logged and never fails the run.
 */
export type RunObserver = (run: ObservedRun) => RunObservation | void;

// Invariant: both lists keep registration order; a factory registered
// later wins for a mode both make.
const factories: StrategyFactory[] = [];
const observers: RunObserver[] = [];

/**
 * Registers a factory of execution strategies used by every run session
 * opened from now on (runners, the StateManager, `switchyard run`).
 *
 * @param factory Makes strategies from a run's configuration.
 * @returns A function that removes it again.
 * @throws {TypeError} If `factory` is not a function.
 *
 * @example A mode of one's own
 * ```ts
 * import { registerStrategies } from "@switchyard/core/engine";
 * import { AsyncExecutionStrategy } from "@switchyard/core/engine";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const remove = registerStrategies(() => ({ inline: new AsyncExecutionStrategy() }));
 * await using runner = new Runner({ loggingSetting: "NONE" });
 * assert.ok(runner.coordinator.systemDetail().modes.includes("inline"));
 * remove();
 * ```
 */
export function registerStrategies(factory: StrategyFactory): () => void {
  return register(factories, factory, "registerStrategies", "factory");
}

/**
 * Registers an observer attached to every run session opened from now on.
 *
 * @param observer Called with each new session.
 * @returns A function that removes it again.
 * @throws {TypeError} If `observer` is not a function.
 *
 * @example Counting messages
 * ```ts
 * import { registerRunObserver } from "@switchyard/core/engine";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * let messages = 0;
 * let closed = false;
 * const remove = registerRunObserver((run) => {
 *   run.publisher.subscribe(() => void messages++, "counter");
 *   return { close: () => void (closed = true) };
 * });
 * {
 *   await using runner = new Runner({ loggingSetting: "NONE" });
 *   await runner.run(node(() => 1, { name: "one" }));
 * }
 * remove();
 * assert.ok(messages >= 2);
 * assert.ok(closed);
 * ```
 */
export function registerRunObserver(observer: RunObserver): () => void {
  return register(observers, observer, "registerRunObserver", "observer");
}

/**
 * The strategies of a run: the built-in ones (`"async"`, `"worker"`) and
 * those every registered factory makes from the configuration.
 *
 * @param config The run's configuration.
 * @returns The strategies by mode.
 *
 * @example The built-in modes
 * ```ts
 * import { strategiesFor } from "@switchyard/core/engine";
 * import { parseExecutorConfig } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const strategies = strategiesFor(parseExecutorConfig());
 * assert.deepEqual(Object.keys(strategies).sort(), ["async", "remote", "worker"]);
 * await Promise.all(Object.values(strategies).map((s) => s.shutdown()));
 * ```
 */
export function strategiesFor(
  config: ExecutorConfig,
): Record<string, TaskExecutionStrategy> {
  const strategies = defaultStrategies(config);
  for (const factory of factories) Object.assign(strategies, factory(config) ?? {});
  return strategies;
}

/**
 * The observers registered now, in registration order.
 *
 * @returns A copy of the list.
 */
export function runObservers(): RunObserver[] {
  return [...observers];
}

function register<T>(list: T[], item: T, method: string, what: string): () => void {
  if (typeof item !== "function") {
    throw new TypeError(
      `Cannot ${method} as '${what}' must be a function: current value is ${describeValue(item)}`,
    );
  }
  list.push(item);
  return () => {
    const index = list.indexOf(item);
    if (index >= 0) list.splice(index, 1);
  };
}
