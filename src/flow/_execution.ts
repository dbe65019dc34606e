/**
 * One execution of a flow: the job's lifecycle (start, pause, end), the
 * events its routines emit, and its record. The activations themselves run
 * in `_activations.ts`; the job's run session is opened in
 * `_job_session.ts`.
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import { describeValue } from "../core/describe.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import type { ExecutionInfo, ExecutionStatus } from "../state/execution_info.ts";
import type { RTState } from "../execution/rt_state.ts";
import type { Durability } from "../execution/config.ts";
import type { RunSession } from "../run/run_session.ts";
import type { ActivationSink } from "./_context.ts";
import { Activations } from "./_activations.ts";
import { openJobSession } from "./_job_session.ts";
import type { ErrorHandler } from "./error_handler.ts";
import type { Flow } from "./flow.ts";
import { jobBook, type JobState, type JobStateStatus } from "./job_state.ts";

const log = logger("flow");

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
  /** How the saved job's event log reaches its file. */
  durability: Durability;
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
  readonly #activations: Activations;
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
    this.#session = openJobSession(jobState.jobId, options);
    const rt: RTState = this.#session.rtState;
    this.#activations = new Activations({
      flow,
      jobState,
      sink: this,
      rt,
      errorHandler: options.errorHandler,
      fail: (error) => this.fail(error),
      settled: () => this.#settle(),
      engineError: (error) => this.#engineError(error),
    });
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
    jobBook(this.jobState).setStatus("running");
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
    this.#activations.enqueue(routineId, slot, data, parentNodeId);
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
    jobBook(this.jobState).deferred.push({
      routineId,
      eventName: event,
      data,
      timestamp: Date.now(),
    });
  }

  output(routineId: string, type: string, data: unknown): void {
    jobBook(this.jobState).output({
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
    jobBook(this.jobState).setStatus("paused");
    this.#disarm();
    this.#activations.requeueRetries();
    jobBook(this.jobState).addPausePoint({
      timestamp: Date.now(),
      reason,
      checkpoint,
      pendingActivations: this.jobState.pendingActivations.length +
        this.#activations.running,
    });
    const idle = this.#idle();
    this.#persist(idle.then(() => {
      const releasing = this.#releaseWorkers();
      return this.#session.save().finally(() => releasing);
    }));
    this.#notify();
    return idle;
  }

  // A paused job keeps its engine, to be resumed in this process, but not
  // its idle workers: they would keep the process alive while the job is
  // resumed elsewhere, or never. An activation after a resume starts new
  // ones. Checked and detached in one turn, so no task of a resume is lost.
  #releaseWorkers(): Promise<void> {
    if (this.status !== "paused" || this.#activations.running > 0) return Promise.resolve();
    return this.#session.coordinator.release().catch((error) => {
      log.warn("Could not end the workers of paused job {jobId}: {error}", {
        jobId: this.jobState.jobId,
        error,
      });
    });
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
    jobBook(this.jobState).setStatus(status, error);
    this.#disarm();
    this.#activations.requeueRetries();
    this.#activations.cancelAll(error);
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
    const queue = jobBook(this.jobState).queue;
    const activations = this.#activations;
    const most = this.#options.maxWorkers;
    while (this.status === "running" && queue.length > 0 && activations.running < most) {
      activations.dispatch(queue.shift()!);
    }
    if (
      this.status === "running" && queue.length === 0 &&
      activations.running === 0 && activations.retrying === 0
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
    const deferred = jobBook(this.jobState).deferred;
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

  #settle(): void {
    if (this.#activations.running === 0) this.#resolveIdle();
    this.#pump();
  }

  #idle(): Promise<void> {
    if (this.#activations.running === 0) return Promise.resolve();
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

function requirePayload(routineId: string, event: string, data: unknown): void {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new TypeError(
      `Cannot emit event '${event}' of routine '${routineId}' as 'payload' must be a plain object: current value is ${
        describeValue(data)
      }`,
    );
  }
}
