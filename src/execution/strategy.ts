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
  /**
   * Ends what it keeps for later tasks (idle workers, child processes)
   * while no task runs; a later task starts them again. Optional.
   */
  release?(): Promise<void>;
}

/**
 * How many tasks may start inside one another on one stack before the next
 * is deferred to a microtask.
 */
export const MAX_SYNC_DEPTH = 64;

// Invariant: syncDepth counts the task starts on the current stack; it is 0
// whenever the stack is empty (every increment has a matching decrement in
// a finally block). Shared by every strategy of the thread, since nested
// starts may go through different runtimes.
let syncDepth = 0;

function startLater(task: Task): Promise<unknown> {
  syncDepth++;
  try {
    return task.invoke();
  } finally {
    syncDepth--;
  }
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
   * Starts the task. A node that calls another before its first `await`
   * starts that one on the same stack; past {@linkcode MAX_SYNC_DEPTH} such
   * nested starts the next one waits for a microtask instead, so a chain of
   * any depth runs on a stack of bounded size.
   *
   * @param task The task.
   * @returns What the node returned.
   */
  execute(task: Task): Promise<unknown> {
    if (syncDepth >= MAX_SYNC_DEPTH) return Promise.resolve(task).then(startLater);
    syncDepth++;
    try {
      return task.invoke();
    } finally {
      syncDepth--;
    }
  }

  /** Nothing to release. */
  shutdown(): void {}
}
