/**
 * The engine behind `@switchyard/core`: the runtime state that creates and
 * finishes tracked requests ({@linkcode RTState}), the {@linkcode Coordinator}
 * and its execution strategies, the versioned record forests, stamps and the
 * publisher of completion messages. Application code rarely needs these; they
 * are for building a front door of your own (a custom strategy, a scheduler).
 *
 * @example A coordinator running a task on the event loop
 * ```ts
 * import { AsyncExecutionStrategy, Coordinator, RTPublisher, Task } from "@switchyard/core/engine";
 * import { node } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const publisher = new RTPublisher();
 * publisher.start();
 * const coordinator = new Coordinator({ async: new AsyncExecutionStrategy() });
 * coordinator.start(publisher);
 * const done = publisher.listener((m) => m.kind === "success");
 * coordinator.submit(new Task("r1", node(async () => 42, { name: "answer" }), []), "async");
 * assert.equal((await done).kind, "success");
 * await coordinator.shutdown();
 * await publisher.shutdown();
 * ```
 *
 * @module
 */

export { type Stamp, type StampDescriber, StampManager } from "./src/state/stamp.ts";
export { Forest, type ForestRecord, ForestVersionError } from "./src/state/forest.ts";
export {
  type AttemptRecord,
  RequestForest,
  type RequestRecord,
  type RequestStatus,
  type RowData,
} from "./src/state/request_forest.ts";
export { RequestRows } from "./src/state/request_rows.ts";
export { NodeForest, type NodeRecord } from "./src/state/node_forest.ts";
export { type CallNodesOptions, type RecordListener, RTState } from "./src/execution/rt_state.ts";
export { Task, type TaskTrace } from "./src/execution/task.ts";
export { RETRY_DEFAULTS, retryDelayFor, runAttempts } from "./src/execution/retry_policy.ts";
export { CoordinatorState, type Job, type JobSource, type JobStatus } from "./src/execution/job.ts";
export {
  Coordinator,
  type CoordinatorDetail,
  type SubmitWrapper,
} from "./src/execution/coordinator.ts";
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
  WorkerExecutionStrategy,
  type WorkerStrategyOptions,
} from "./src/execution/worker_strategy.ts";
export {
  ProcessExecutionStrategy,
  type ProcessStrategyOptions,
} from "./src/execution/process_strategy.ts";
export {
  DEFAULT_DRAIN_TIMEOUT,
  RunSession,
  type RunSessionOptions,
  type SessionRequestOptions,
} from "./src/run/run_session.ts";
export {
  type ObservedRun,
  registerRunObserver,
  registerStrategies,
  type RunObservation,
  type RunObserver,
  strategiesFor,
  type StrategyFactory,
} from "./src/run/extensions.ts";
export {
  ATTRIBUTES,
  hasTracerProvider,
  type RequestEnd,
  type RequestSpan,
  RequestTracing,
  type TracedRequest,
} from "./src/tracing/request_span.ts";
export { injectTraceContext, withTraceContext } from "./src/tracing/propagation.ts";
export { type TracedRun, traceRequests } from "./src/tracing/run_tracing.ts";
export {
  type CountInstrument,
  INSTRUMENTATION_SCOPE,
  type RecordInstrument,
  type RequestInstruments,
  requestInstruments,
} from "./src/tracing/metrics.ts";
export {
  observeRemoteJobs,
  observeStateQueue,
  observeWorkerPool,
  type RemoteJobsGauge,
  type WorkerPoolGauge,
} from "./src/execution/load_gauges.ts";
export { type RemoteAttemptRecord, RemoteExecutionStrategy } from "./src/remote/remote_strategy.ts";
export type { AttemptPlace } from "./src/remote/protocol.ts";
export { RemoteWorker, type RemoteWorkerOptions } from "./src/remote/remote_worker.ts";
export { decodeValue, encodeValue } from "./src/remote/codec.ts";
export { RemoteUnavailableError, RunnerGoneError } from "./src/remote/errors.ts";
