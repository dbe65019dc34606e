/**
 * The strategies a runner registers by default.
 *
 * @module
 */
import type { ExecutorConfig } from "./config.ts";
import { AsyncExecutionStrategy, type TaskExecutionStrategy } from "./strategy.ts";
import { WorkerExecutionStrategy } from "./worker_strategy.ts";

/**
 * Makes the strategy of the `"remote"` mode from a configuration that has
 * `remote` set. Registered by the layer that implements it (the BullMQ
 * strategy), which sits above this one.
 */
export type RemoteStrategyFactory = (config: ExecutorConfig) => TaskExecutionStrategy;

const FACTORY = Symbol.for("switchyard.remoteStrategyFactory");
// One slot per process (not per copy of this module), like the scope storage.
const registry = globalThis as Record<symbol, RemoteStrategyFactory | undefined>;

/**
 * Registers how the `"remote"` mode is built when a configuration has
 * `remote` set.
 *
 * @param factory Makes the strategy.
 */
export function registerRemoteStrategy(factory: RemoteStrategyFactory): void {
  registry[FACTORY] = factory;
}

/**
 * One strategy per built-in execution mode. The worker pool starts lazily:
 * no worker exists until the first worker task. Nodes with a `queue` use
 * mode `"remote"`: the registered remote strategy when the configuration
 * has `remote`, otherwise the same local worker pool as `"worker"`.
 *
 * @param config The runner's configuration.
 * @returns The strategies by mode.
 * @throws {Error} If `config.remote` is set but no remote strategy is registered.
 */
export function defaultStrategies(
  config: ExecutorConfig,
): Record<string, TaskExecutionStrategy> {
  const worker = new WorkerExecutionStrategy({
    size: config.workers.size,
    permissions: config.workers.permissions,
    gracePeriod: config.workers.gracePeriod,
  });
  let remote: TaskExecutionStrategy = worker;
  if (config.remote) {
    const factory = registry[FACTORY];
    if (!factory) {
      throw new Error(
        "Cannot use the 'remote' configuration as no remote strategy is registered: import the library's entry point (mod.ts) or src/remote",
      );
    }
    remote = factory(config);
  }
  return { async: new AsyncExecutionStrategy(), worker, remote };
}
