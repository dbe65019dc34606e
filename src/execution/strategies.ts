/**
 * The strategies a runner registers by default.
 *
 * @module
 */
import type { ExecutorConfig } from "./config.ts";
import { AsyncExecutionStrategy, type TaskExecutionStrategy } from "./strategy.ts";
import { WorkerExecutionStrategy } from "./worker_strategy.ts";

/**
 * One strategy per built-in execution mode. The worker pool starts lazily:
 * no worker exists until the first worker task.
 *
 * @param config The runner's configuration.
 * @returns The strategies by mode.
 */
export function defaultStrategies(
  config: ExecutorConfig,
): Record<string, TaskExecutionStrategy> {
  return {
    async: new AsyncExecutionStrategy(),
    worker: new WorkerExecutionStrategy({
      size: config.workers.size,
      permissions: config.workers.permissions,
      gracePeriod: config.workers.gracePeriod,
    }),
  };
}
