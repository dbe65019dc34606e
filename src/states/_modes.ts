/**
 * The execution modes a state manager registers.
 *
 * @module
 */
import { strategiesFor } from "../run/extensions.ts";
import type { TaskExecutionStrategy } from "../execution/strategy.ts";
import { WorkerExecutionStrategy } from "../execution/worker_strategy.ts";
import type { ExecutorConfig } from "../execution/config.ts";

/**
 * The coordinator mode of long-running blocking states: every task gets a
 * dedicated worker of its own, outside the shared pool.
 */
export const LONG_RUNNING_MODE = "worker:dedicated";

/**
 * The run's strategies (`"async"`, `"worker"`, the shared pool that
 * short blocking states use, and any registered ones) plus the dedicated workers of long-running
 * blocking states.
 *
 * @param config The manager's configuration.
 * @returns The strategies by mode.
 */
export function stateStrategies(
  config: ExecutorConfig,
): Record<string, TaskExecutionStrategy> {
  return {
    ...strategiesFor(config),
    [LONG_RUNNING_MODE]: new WorkerExecutionStrategy({
      dedicated: true,
      permissions: config.workers.permissions,
      gracePeriod: config.workers.gracePeriod,
    }),
  };
}
