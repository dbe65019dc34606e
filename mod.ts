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

export {
  type Edge,
  ExecutionInfo,
  type ExecutionStatus,
  type SerializedRun,
  type Vertex,
} from "./src/state/execution_info.ts";
export type { NodeRecord } from "./src/state/node_forest.ts";
export type { AttemptRecord, RequestRecord, RequestStatus } from "./src/state/request_forest.ts";
export type { Stamp } from "./src/state/stamp.ts";
export {
  type AnyNode,
  type ExecutionConfigurations,
  isNode,
  Node,
  node,
  type NodeOptions,
  type WorkerPermissions,
} from "./src/core/node.ts";
export { call, callBatch, type CallBatchOptions } from "./src/nodes/call.ts";
export { broadcast, currentSignal, getContext, putContext } from "./src/nodes/context.ts";
export { Runner } from "./src/run/runner.ts";
export { RunIdInUseError, RunNotSavedError } from "./src/run/errors.ts";
export { currentAttempt } from "./src/remote/attempt.ts";
export { RemoteUnavailableError, RunnerGoneError } from "./src/remote/errors.ts";
export {
  DURABILITIES,
  type Durability,
  type ExecutorConfig,
  type ExecutorConfigInput,
  parseExecutorConfig,
  type RemoteConfig,
  type WorkerPoolConfig,
} from "./src/execution/config.ts";
export {
  GlobalTimeoutError,
  NodeTimeoutError,
  RequestCancelledError,
  UnknownParentError,
} from "./src/core/errors.ts";
export { canonicalLoggingSetting, type LoggingSetting } from "./src/core/logging.ts";
export {
  type ErrorDecision,
  ErrorHandler,
  type ErrorHandlerOptions,
  type ErrorStrategy,
} from "./src/flow/error_handler.ts";
export { ExecutionRecord, type ExecutionRecordKind } from "./src/flow/execution_record.ts";
export {
  type DeferredEvent,
  JobClaimedError,
  JobState,
  type JobStateFile,
  JobStateLoadError,
  type JobStateOptions,
  JobStateSaveError,
  type JobStateStatus,
  type LeaseHolder,
  type OutputHandler,
  type PausePoint,
  type PendingActivation,
  type RoutineOutput,
  type RoutineStatus,
  type RoutineStatusName,
  type SharedLogEntry,
} from "./src/flow/job_state.ts";
export {
  type CriticalOptions,
  type ExecutionContext,
  Routine,
  type SlotHandler,
} from "./src/flow/routine.ts";
export type {
  SlotOptions,
  SlotPayload,
  SlotSchema,
  TypedSlotHandler,
} from "./src/flow/slot_schema.ts";
export {
  type ExecuteOptions,
  Flow,
  type FlowOptions,
  type FlowSaveOptions,
  type PauseOptions,
  type SlotTarget,
  type WaitOptions,
} from "./src/flow/flow.ts";
export {
  WorkerCallRefusedError,
  type WorkerFailureReason,
  WorkerModuleError,
  WorkerTaskError,
  type WorkerTaskErrorOptions,
} from "./src/execution/worker_error.ts";
export { Gate } from "./src/states/gate.ts";
export {
  type EnterStateOptions,
  State,
  type StateFunction,
  type StateOptions,
  type StateParameters,
  type StatePlacement,
  type StateResult,
} from "./src/states/state.ts";
export type { ArgumentSplit, ArgumentSplits, LazyArgs } from "./src/states/state_types.ts";
export {
  type ActiveState,
  StateManager,
  type StateManagerConfig,
} from "./src/states/state_manager.ts";
export { StateFailedError, StateManagerExistsError } from "./src/states/errors.ts";
export type { ObservedJob } from "./src/flow/flow.ts";
