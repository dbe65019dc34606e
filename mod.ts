/**
 * Switchyard runs workflows and records everything they do.
 *
 * Write steps as {@linkcode node}s, call them from each other with
 * {@linkcode call}, run them with a {@linkcode Runner}, and read back an
 * {@linkcode ExecutionInfo}: a tree of requests that says who called whom,
 * with what, when, for how long, and what came back or failed.
 *
 * @example A fan-out, tracked
 * ```ts
 * import { call, node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const double = node(async (x: number) => x * 2, { name: "double" });
 * const total = node(async function total(xs: number[]) {
 *   const ys = await Promise.all(xs.map((x) => call(double, x)));
 *   return ys.reduce((a, b) => a + b, 0);
 * });
 *
 * await using runner = new Runner({ timeout: 30_000 });
 * const info = await runner.run(total, [1, 2, 3]);
 * assert.equal(info.answer, 12);
 * assert.equal(info.requestHeap.size, 4);
 * ```
 *
 * @module
 */

export { type Stamp, StampManager } from "./src/state/stamp.ts";
export { Forest, type ForestRecord } from "./src/state/forest.ts";
export {
  RequestForest,
  type RequestRecord,
  type RequestStatus,
} from "./src/state/request_forest.ts";
export { NodeForest, type NodeRecord } from "./src/state/node_forest.ts";
export {
  type Edge,
  ExecutionInfo,
  type ExecutionStatus,
  type SerializedRun,
  type Vertex,
} from "./src/state/execution_info.ts";
export { type CallNodesOptions, RTState } from "./src/state/rt_state.ts";

export { Task } from "./src/execution/task.ts";
export { CoordinatorState, type Job, type JobStatus } from "./src/execution/job.ts";
export { Coordinator, type CoordinatorDetail } from "./src/execution/coordinator.ts";
export { AsyncExecutionStrategy, type TaskExecutionStrategy } from "./src/execution/strategy.ts";

export {
  Publisher,
  type PublisherOptions,
  PublisherShutdownError,
  RTPublisher,
  type SubscribeOptions,
  type Subscriber,
} from "./src/pubsub/publisher.ts";
export {
  BroadcastEvent,
  FatalFailure,
  RequestCancellation,
  RequestCreation,
  RequestCreationFailure,
  RequestFailure,
  RequestMessage,
  RequestSuccess,
  type RuntimeMessage,
} from "./src/pubsub/messages.ts";

export {
  type AnyNode,
  type ExecutionConfigurations,
  isNode,
  Node,
  node,
  type NodeOptions,
  type WorkerPermissions,
} from "./src/nodes/node.ts";
export { call, callBatch, type CallBatchOptions } from "./src/nodes/call.ts";
export { broadcast, currentSignal, getContext, putContext } from "./src/nodes/context.ts";

export { Runner } from "./src/run/runner.ts";
export {
  type ExecutorConfig,
  type ExecutorConfigInput,
  parseExecutorConfig,
  type WorkerPoolConfig,
} from "./src/run/config.ts";
export { GlobalTimeoutError, NodeTimeoutError, RequestCancelledError } from "./src/run/errors.ts";
export type { LoggingSetting } from "./src/_logging.ts";

export {
  runsDir,
  type RunSnapshot,
  saveRunSnapshot,
  snapshotOf,
} from "./src/persistence/run_store.ts";

// Flow, Routine, JobState: event-wired routines with per-execution state.
export {
  type ErrorDecision,
  ErrorHandler,
  type ErrorHandlerOptions,
  type ErrorStrategy,
} from "./src/flow/error_handler.ts";
export { ExecutionRecord } from "./src/flow/execution_record.ts";
export {
  type DeferredEvent,
  JobState,
  type JobStateFile,
  JobStateLoadError,
  type JobStateOptions,
  type JobStateStatus,
  type OutputHandler,
  type PausePoint,
  type PendingActivation,
  type RoutineOutput,
  type SharedLogEntry,
} from "./src/flow/job_state.ts";
export {
  type CriticalOptions,
  type ExecutionContext,
  Routine,
  type SlotHandler,
} from "./src/flow/routine.ts";
export {
  type ExecuteOptions,
  Flow,
  type FlowOptions,
  type PauseOptions,
  type SlotTarget,
  type WaitOptions,
} from "./src/flow/flow.ts";
// Saved runs (event log, loader, request rows), the switchyard CLI and the
// visualizer.
export {
  type CreatedEvent,
  type EndedEvent,
  EVENT_LOG_FORMAT,
  eventLogPath,
  EventLogWriter,
  type RunEvent,
  type SavedEvent,
  type StartEvent,
} from "./src/persistence/event_log.ts";
export {
  isEventLogActive,
  type ParsedEventLog,
  parseEventLog,
  rebuildExecution,
} from "./src/persistence/event_log_reader.ts";
export {
  isRunId,
  listRuns,
  type ListRunsOptions,
  type LoadedRun,
  loadFromDir,
  loadRun,
  resolveRun,
  RunNotFoundError,
  type RunStatus,
  type RunSummary,
  type RunSummaryCache,
  summarize,
} from "./src/persistence/run_loader.ts";
export { type RequestRow, requestRows } from "./src/persistence/request_rows.ts";
export {
  findRunTarget,
  registerRunTarget,
  type RunOutcome,
  type RunTarget,
  type RunTargetContext,
  UnsupportedRunTargetError,
} from "./src/cli/run_targets.ts";
export { type FormatOptions, formatRunList, formatRunTree } from "./src/cli/inspect.ts";
export { serveViz, type VizOptions, type VizServer } from "./src/viz/server.ts";

// Worker execution: the worker pool strategy and its errors.
export {
  WorkerExecutionStrategy,
  type WorkerStrategyOptions,
} from "./src/execution/worker_strategy.ts";
export {
  type WorkerFailureReason,
  WorkerTaskError,
  type WorkerTaskErrorOptions,
} from "./src/execution/worker_error.ts";

// States: the application's queue of states (DESIGN §6).
export { Gate } from "./src/states/gate.ts";
export {
  type EnterStateOptions,
  State,
  type StateFunction,
  type StateOptions,
} from "./src/states/state.ts";
export { type ActiveState, StateManager } from "./src/states/state_manager.ts";
export { StateFailedError } from "./src/states/errors.ts";

// Running flows and states from the CLI: the flow job observer.
export type { ObservedJob } from "./src/flow/flow.ts";
