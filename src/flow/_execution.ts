/**
 * One execution of a flow: dispatches slot activations as tracked requests
 * on the core engine and keeps its JobState up to date.
 *
 * @module
 */
import { AsyncExecutionStrategy } from "../execution/strategy.ts";
import { logger } from "../core/logging.ts";
import { describeValue } from "../core/describe.ts";
import { Node } from "../core/node.ts";
import { scopeStorage } from "../execution/scope.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import { parseExecutorConfig } from "../execution/config.ts";
import type { ExecutionInfo, ExecutionStatus } from "../state/execution_info.ts";
import type { RTState } from "../execution/rt_state.ts";
import { RunSession } from "../run/run_session.ts";
import { RunIdInUseError } from "../run/errors.ts";
import type { Activation, ActivationSink } from "./_context.ts";
import { activationStorage } from "./_context.ts";
import { errorSummary } from "./_error_summary.ts";
import type { ErrorHandler } from "./error_handler.ts";
import type { Flow } from "./flow.ts";
import {
  type JobState,
  jobStateInternals,
  type JobStateStatus,
  type PendingActivation,
  type RoutineStatusName,
} from "./job_state.ts";

const log = logger("flow");
const internals = jobStateInternals();

interface InFlight {
  activation: PendingActivation;
  parentNodeId: string | null;
}

/** Options of {@linkcode FlowExecution}. */
export interface FlowExecutionOptions {
  /** Most activations running at once. */
  maxWorkers: number;
  /** Fails the job when it runs longer, in ms. */
  executionTimeout: number | undefined;
  /** The flow's error handler, when a routine has none. */
  errorHandler: () => ErrorHandler | null;
  /** Save the job's record as a run (id: the job id) under `stateDir`. */
  saveState: boolean;
  /** Where saved runs go. */
  stateDir: string;
  /**
   * Whether the job may have been saved before (a resumed job): its record
   * then goes to a new run id when the job id is taken.
   */
  resumed: boolean;
}

// How a job's end reads as a saved run's status.
const RUN_STATUS: Record<"failed" | "cancelled" | "completed", ExecutionStatus> = {
  failed: "Failed",
  cancelled: "Cancelled",
  completed: "Completed",
};

/** The most run ids tried for a resumed job whose id is taken. */
const MAX_RESUMED_IDS = 1000;

/**
 * Runs one job of a flow. Every slot activation becomes a request of this
 * execution's own {@linkcode ExecutionInfo} (routines as nodes of type
 * `"routine"`); an activation triggered by an emit inside another is that
 * activation's child request.
 */
export class FlowExecution implements ActivationSink {
  readonly jobState: JobState;
  readonly #flow: Flow;
  readonly #options: FlowExecutionOptions;
  // The job's engine and record: publisher, coordinator, RTState, event log
  // and saves, wired once by the session.
  readonly #session: RunSession;
  readonly #rt: RTState;
  // Invariant: every activation of the job is in exactly one place: the
  // JobState's queue, #inFlight (by request id), #retries (by activation
  // id), or done. #parents remembers callers of queued ones (not saved).
  readonly #inFlight = new Map<string, InFlight>();
  readonly #retries = new Map<
    string,
    { timer: ReturnType<typeof setTimeout>; activation: PendingActivation }
  >();
  readonly #parents = new Map<string, string | null>();
  #waiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #disarmTimeout: (() => void) | undefined;
  #closed = false;
  #pumpScheduled = false;
  // Settles once the job's record is written for its latest stop (pause or
  // end); rejects with RunNotSavedError when it could not be.
  #persisted: Promise<void> = Promise.resolve();

  constructor(flow: Flow, jobState: JobState, options: FlowExecutionOptions) {
    this.#flow = flow;
    this.jobState = jobState;
    this.#options = options;
    this.#session = openSession(jobState.jobId, options);
    this.#rt = this.#session.rtState;
  }

  /** Every activation of the job as a request. */
  get info(): ExecutionInfo {
    return this.#session.info;
  }

  /** The publisher of this execution's engine. */
  get publisher(): RTPublisher {
    return this.#session.publisher;
  }

  /** The run id the job's record is saved under. */
  get runId(): string {
    return this.#session.runId;
  }

  /**
   * Resolves once the record of the job's latest stop is written (at once
   * without `saveState`).
   *
   * @throws {RunNotSavedError} (as a rejection) If it could not be.
   */
  saved(): Promise<void> {
    return this.#persisted;
  }

  get status(): JobStateStatus {
    return this.jobState.status;
  }

  /** Starts (or restarts after a pause) dispatching. */
  start(): void {
    internals.setStatus(this.jobState, "running");
    const { executionTimeout } = this.#options;
    if (executionTimeout !== undefined) {
      this.#disarmTimeout = this.#session.arm(executionTimeout, () => {
        this.#disarmTimeout = undefined;
        this.fail(
          new Error(
            `Flow '${this.#flow.flowId}' job '${this.jobState.jobId}' passed its executionTimeout of ${executionTimeout} ms`,
          ),
        );
      });
    }
    this.#releaseDeferred();
    this.#pump();
  }

  /** Queues an activation. */
  enqueue(
    routineId: string,
    slot: string,
    data: Record<string, unknown>,
    parentNodeId: string | null,
  ): void {
    const id = crypto.randomUUID();
    internals.queue(this.jobState).push({
      id,
      routineId,
      slot,
      data,
      attempt: 1,
    });
    if (parentNodeId !== null) this.#parents.set(id, parentNodeId);
  }

  emit(
    routineId: string,
    event: string,
    data: Record<string, unknown>,
    parentNodeId: string | null,
  ): void {
    requirePayload(routineId, event, data);
    if (!this.#accepting(`emit '${event}' from '${routineId}'`)) return;
    this.jobState.recordExecution(routineId, event, data);
    for (const target of this.#flow.targetsOf(routineId, event)) {
      this.enqueue(target.routineId, target.slot, data, parentNodeId);
    }
    this.#schedulePump();
  }

  defer(routineId: string, event: string, data: Record<string, unknown>): void {
    requirePayload(routineId, event, data);
    if (!this.#accepting(`defer '${event}' from '${routineId}'`)) return;
    internals.deferred(this.jobState).push({
      routineId,
      eventName: event,
      data,
      timestamp: Date.now(),
    });
  }

  output(routineId: string, type: string, data: unknown): void {
    internals.output(this.jobState, {
      jobId: this.jobState.jobId,
      routineId,
      type,
      data,
      timestamp: Date.now(),
    });
  }

  /** Resolves once the job is no longer running (done, failed, cancelled or paused). */
  settled(): Promise<void> {
    if (this.status !== "running") return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Stops dispatching; activations already running finish (their emits are
   * queued), pending retries are queued at once.
   *
   * @returns Resolves once nothing runs any more.
   */
  pause(reason: string, checkpoint: unknown): Promise<void> {
    // The status changes first: under `deno test`, clearTimeout() runs
    // queued microtasks, and a pump among them must already see "paused".
    internals.setStatus(this.jobState, "paused");
    this.#disarm();
    this.#requeueRetries();
    internals.addPausePoint(this.jobState, {
      timestamp: Date.now(),
      reason,
      checkpoint,
      pendingActivations: this.jobState.pendingActivations.length +
        this.#inFlight.size,
    });
    const idle = this.#idle();
    this.#persist(idle.then(() => this.#session.save()));
    this.#notify();
    return idle;
  }

  /** Fails the job: running activations are cancelled, nothing more runs. */
  fail(error: unknown): void {
    if (this.#closed) return;
    this.#end("failed", error);
  }

  /** Cancels the job: running activations are aborted and recorded cancelled. */
  cancel(reason: unknown): void {
    if (this.#closed) return;
    this.#end("cancelled", reason ?? new Error("Cancelled"));
  }

  #end(status: "failed" | "cancelled" | "completed", error?: unknown): void {
    this.#closed = true;
    internals.setStatus(this.jobState, status, error);
    this.#disarm();
    this.#requeueRetries();
    for (const requestId of [...this.#inFlight.keys()]) {
      this.#rt.cancel(requestId, error);
    }
    this.#inFlight.clear();
    this.#parents.clear();
    // The engine of this execution is no longer needed; closing saves the
    // job's record with the job's own status (a failed job is a failed run
    // even when each of its requests completed).
    this.#persist(
      this.#session.close(error ?? new Error("The job ended"), RUN_STATUS[status]),
    );
    this.#notify();
    this.#resolveIdle();
  }

  #disarm(): void {
    const disarm = this.#disarmTimeout;
    this.#disarmTimeout = undefined;
    disarm?.();
  }

  #persist(saving: Promise<void>): void {
    this.#persisted = saving;
    // Seen by saved() (and so waitForCompletion); never unhandled meanwhile.
    // The session logged the failure already.
    saving.catch(() => {});
  }

  #accepting(what: string): boolean {
    if (this.status === "running" || this.status === "paused") return true;
    log.debug("Ignored {what} in job {jobId}: it is {status}", {
      what,
      jobId: this.jobState.jobId,
      status: this.status,
    });
    return false;
  }

  /**
   * Dispatches from a microtask: an emit never runs a handler inside the
   * emitting one, so long chains of routines do not grow the stack.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /**
   * Dispatches what the queue allows. Runs from timers, microtasks and
   * promise callbacks: an error in the engine fails the job here, so none
   * ever escapes as an uncaught error or unhandled rejection.
   */
  #pump(): void {
    try {
      this.#pumpQueue();
    } catch (error) {
      this.#engineError(error);
    }
  }

  #engineError(error: unknown): void {
    log.error("Flow engine error in job {jobId}: {error}", { jobId: this.jobState.jobId, error });
    this.fail(error);
  }

  #pumpQueue(): void {
    const queue = internals.queue(this.jobState);
    while (
      this.status === "running" && queue.length > 0 &&
      this.#inFlight.size < this.#options.maxWorkers
    ) {
      this.#dispatch(queue.shift()!);
    }
    if (
      this.status === "running" && queue.length === 0 &&
      this.#inFlight.size === 0 && this.#retries.size === 0
    ) {
      if (this.jobState.deferredEvents.length > 0) {
        this.#releaseDeferred();
        this.#pump();
      } else {
        this.#end("completed");
      }
    }
  }

  #releaseDeferred(): void {
    const deferred = internals.deferred(this.jobState);
    for (const event of deferred.splice(0, deferred.length)) {
      this.jobState.recordExecution(
        event.routineId,
        event.eventName,
        event.data,
      );
      for (
        const target of this.#flow.targetsOf(event.routineId, event.eventName)
      ) {
        this.enqueue(target.routineId, target.slot, event.data, null);
      }
    }
  }

  #dispatch(activation: PendingActivation): void {
    const { routineId, slot } = activation;
    const routine = this.#flow.getRoutine(routineId);
    const handler = routine?.getSlotHandler(slot);
    const parentNodeId = this.#parents.get(activation.id) ?? null;
    this.#parents.delete(activation.id);
    if (!routine || !handler) {
      // Only reachable for a JobState edited by hand: resume() checks ids.
      this.fail(
        new RangeError(
          `Cannot run activation '${activation.id}' as routine '${routineId}' has no slot '${slot}'`,
        ),
      );
      return;
    }
    const requestId = activation.attempt === 1 ? activation.id : crypto.randomUUID();
    const context: Activation = {
      flow: this.#flow,
      jobState: this.jobState,
      routine,
      routineId,
      sink: this,
      nodeId: null,
    };
    const run = (data: Record<string, unknown>) => {
      context.nodeId = scopeStorage.getStore()?.nodeId ?? null;
      return activationStorage.run(context, () => handler.call(routine, data));
    };
    const slotNode = new Node(run, { name: `${routineId}.${slot}` });
    this.#inFlight.set(requestId, { activation, parentNodeId });
    internals.setRoutineStatus(this.jobState, routineId, "running", activation.attempt);
    this.#rt.callNodes({
      parentNodeId,
      requestId,
      node: slotNode,
      args: [activation.data],
      nodeType: "routine",
      attempt: activation.attempt,
    }).then(
      () => {
        if (!this.#inFlight.delete(requestId)) return;
        internals.setRoutineStatus(this.jobState, routineId, "completed", activation.attempt);
        this.#settle();
      },
      (error) => {
        const entry = this.#inFlight.get(requestId);
        if (!entry || !this.#inFlight.delete(requestId)) return;
        this.#onFailure(entry, error);
        this.#settle();
      },
    ).catch((error) => this.#engineError(error)); // e.g. a `retryable` predicate that throws
  }

  #settle(): void {
    if (this.#inFlight.size === 0) this.#resolveIdle();
    this.#pump();
  }

  #onFailure({ activation, parentNodeId }: InFlight, error: unknown): void {
    const { routineId } = activation;
    const handler = this.#flow.getRoutine(routineId)?.errorHandler ??
      this.#options.errorHandler();
    const decision = handler?.decide(error, activation.attempt) ??
      { action: "stop" } as const;
    log.info(
      "Routine {routineId} failed in job {jobId} (attempt {attempt}): {error}; {action}",
      {
        routineId,
        jobId: this.jobState.jobId,
        attempt: activation.attempt,
        error: describeValue(error, 300), // one line; the job state keeps the error
        action: decision.action,
      },
    );
    // Every failure is in the history, with what was decided about it.
    internals.recordError(this.jobState, routineId, {
      slot: activation.slot,
      attempt: activation.attempt,
      action: decision.action,
      error: errorSummary(error),
    });
    const status = (name: RoutineStatusName) =>
      internals.setRoutineStatus(this.jobState, routineId, name, activation.attempt, error);
    switch (decision.action) {
      case "retry": {
        status("retrying");
        const next = { ...activation, attempt: activation.attempt + 1 };
        if (parentNodeId !== null) this.#parents.set(next.id, parentNodeId);
        if (this.status !== "running") {
          internals.queue(this.jobState).push(next);
          return;
        }
        // A timer, never a blocking wait: other routines go on meanwhile.
        const timer = setTimeout(() => {
          this.#retries.delete(next.id);
          internals.queue(this.jobState).push(next);
          this.#pump();
        }, decision.delay);
        this.#retries.set(next.id, { timer, activation: next });
        return;
      }
      case "continue":
        status("continued");
        return;
      case "skip":
        status("skipped");
        return;
      case "stop":
        status("failed");
        this.fail(error);
    }
  }

  #requeueRetries(): void {
    const queue = internals.queue(this.jobState);
    for (const { timer, activation } of this.#retries.values()) {
      clearTimeout(timer);
      queue.push(activation);
    }
    this.#retries.clear();
  }

  #idle(): Promise<void> {
    if (this.#inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #resolveIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Opens the session of a job. A resumed job whose id names a saved run
 * (its earlier part) is saved under `<jobId>.resumed-<n>`, and says so.
 */
function openSession(jobId: string, options: FlowExecutionOptions): RunSession {
  const open = (runIdentifier: string) =>
    new RunSession(
      parseExecutorConfig({
        runIdentifier,
        saveState: options.saveState,
        stateDir: options.stateDir,
      }),
      { kind: "flow", strategies: { async: new AsyncExecutionStrategy() }, logging: "off" },
    );
  try {
    return open(jobId);
  } catch (error) {
    if (!options.resumed || !(error instanceof RunIdInUseError)) throw error;
  }
  for (let n = 2; n < MAX_RESUMED_IDS; n++) {
    try {
      const session = open(`${jobId}.resumed-${n}`);
      log.info("Job {jobId} resumed: its record is saved as run {runId}", {
        jobId,
        runId: session.runId,
      });
      return session;
    } catch (error) {
      if (!(error instanceof RunIdInUseError)) throw error;
    }
  }
  throw new RunIdInUseError(jobId, options.stateDir, "saved");
}

function requirePayload(routineId: string, event: string, data: unknown): void {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new TypeError(
      `Cannot emit event '${event}' of routine '${routineId}' as 'payload' must be a plain object: current value is ${
        describeValue(data)
      }`,
    );
  }
}
