/**
 * The strategies a runner registers by default.
 *
 * @module
 */
import type { ExecutorConfig } from "../run/config.ts";
import { AsyncExecutionStrategy, type TaskExecutionStrategy } from "./strategy.ts";

/**
 * One strategy per built-in execution mode.
 *
 * @param _config The runner's configuration.
 * @returns The strategies by mode.
 */
export function defaultStrategies(
  _config: ExecutorConfig,
): Record<string, TaskExecutionStrategy> {
  return { async: new AsyncExecutionStrategy() };
}
