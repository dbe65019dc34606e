/**
 * Execution strategies: where a task's work actually happens.
 *
 * @module
 */
import type { Task } from "./task.ts";

/**
 * Runs tasks somewhere: on the event loop, in workers, or (later) on
 * another machine. A strategy resolves with the node's result or rejects
 * with its error, and watches `task.signal` to stop work that was
 * cancelled.
 */
export interface TaskExecutionStrategy {
  /**
   * Runs a task.
   *
   * @param task The task.
   * @returns What the node returned.
   */
  execute(task: Task): Promise<unknown>;
  /** Releases the strategy's resources; further tasks may be refused. */
  shutdown(): void | Promise<void>;
}

/**
 * Runs each task on the event loop, inside its node's scope.
 *
 * @example Running a task
 * ```ts
 * import { AsyncExecutionStrategy, Task } from "@switchyard/core/engine";
 * import { node } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const strategy = new AsyncExecutionStrategy();
 * const task = new Task("r1", node(async () => "done", { name: "work" }), []);
 * assert.equal(await strategy.execute(task), "done");
 * ```
 */
export class AsyncExecutionStrategy implements TaskExecutionStrategy {
  /**
   * Awaits the task.
   *
   * @param task The task.
   * @returns What the node returned.
   */
  execute(task: Task): Promise<unknown> {
    return task.invoke();
  }

  /** Nothing to release. */
  shutdown(): void {}
}
