/**
 * Flows: routines wired event → slot, executed as tracked jobs.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import type { Durability } from "../execution/config.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import { FlowExecution } from "./_execution.ts";
import { type ErrorHandler, requireErrorHandler } from "./error_handler.ts";
import { jobBook, JobState } from "./job_state.ts";
import { claimLease, type Lease } from "./_job_lease.ts";
import { listOf, type Routine } from "./routine.ts";
import { RoutineGraph } from "./_routine_graph.ts";
import {
  type ExecuteOptions,
  type FlowOptions,
  type FlowSaveOptions,
  parseFlowOptions,
  type PauseOptions,
  resolveSaveOptions,
  type SlotTarget,
  type WaitOptions,
} from "./flow_options.ts";

export type {
  ExecuteOptions,
  FlowOptions,
  FlowSaveOptions,
  ObservedJob,
  PauseOptions,
  SlotTarget,
  WaitOptions,
} from "./flow_options.ts";

/**
 * Routines wired together: each event a routine emits activates every slot
 * connected to it. Each {@linkcode Flow.execute} starts a job with its own
 * {@linkcode JobState} and its own `ExecutionInfo` (every activation a
 * tracked request), so concurrent jobs of one flow never share state.
 *
 * @example Pause, save, resume
 * ```ts
 * import { Flow, JobState, Routine } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * class Counter extends Routine {
 *   constructor() {
 *     super();
 *     this.defineSlot("trigger", ({ n }) => {
 *       const { flow, jobState } = this.getExecutionContext()!;
 *       jobState.updateSharedData("last", n);
 *       if (n === 2) void flow.pause(jobState, { reason: "halfway" });
 *       if ((n as number) < 4) this.emit("next", { n: (n as number) + 1 });
 *     });
 *     this.defineEvent("next", ["n"]);
 *   }
 * }
 * const flow = new Flow({ flowId: "counter" });
 * flow.addRoutine(new Counter(), "counter");
 * flow.connect("counter", "next", "counter", "trigger");
 * const job = await flow.execute("counter", { entryParams: { n: 0 } });
 * await flow.waitForCompletion({ jobState: job });
 * assert.equal(job.status, "paused");
 * assert.equal(job.getSharedData("last"), 2);
 *
 * const path = await Deno.makeTempFile();
 * await job.save(path);
 * const loaded = await JobState.load(path);
 * await flow.resume(loaded);
 * await flow.waitForCompletion({ jobState: loaded, timeout: 5000 });
 * assert.equal(loaded.status, "completed");
 * assert.equal(loaded.jobId, job.jobId);
 * assert.equal(loaded.getSharedData("last"), 4);
 * await Deno.remove(path);
 * ```
 */
export class Flow {
  /** The flow's id. */
  readonly flowId: string;
  /** Most activations running at once per execution. */
  readonly maxWorkers: number;
  /** Per-execution time limit in ms, if any. */
  readonly executionTimeout: number | undefined;
  /** Whether jobs are saved as runs by default. */
  readonly saveState: boolean;
  /** Where saved runs go. */
  readonly stateDir: string;
  /** How saved jobs' event logs reach their files. */
  readonly durability: Durability;
  // The routines and their connections.
  readonly #graph: RoutineGraph;
  readonly #executions = new WeakMap<JobState, FlowExecution>();
  readonly #active = new Set<FlowExecution>();
  #errorHandler: ErrorHandler | null = null;

  /**
   * Makes a Flow.
   *
   * @param options Id, concurrency, time limit and saving.
   * @throws {TypeError} Naming an invalid option and its value.
   */
  constructor(options: FlowOptions = {}) {
    const { flowId, maxWorkers, executionTimeout, saveState, stateDir, durability } =
      parseFlowOptions(options);
    this.flowId = flowId ?? crypto.randomUUID();
    this.#graph = new RoutineGraph(this.flowId);
    this.maxWorkers = maxWorkers ?? Infinity;
    this.executionTimeout = executionTimeout;
    this.saveState = saveState ?? false;
    this.stateDir = stateDir ?? ".switchyard";
    this.durability = durability ?? "batch";
  }

  /** The ids of its routines, in the order added. */
  get routineIds(): string[] {
    return [...this.#graph.ids()];
  }

  /** The flow's error handler (routines without one use it). */
  get errorHandler(): ErrorHandler | null {
    return this.#errorHandler;
  }

  /**
   * Adds a routine.
   *
   * @param routine The routine.
   * @param id Its id in this flow; its class name (made unique) by default.
   * @returns The id.
   * @throws {TypeError} If `routine` is not a Routine, is already in the
   *   flow, or the id is taken.
   */
  addRoutine(routine: Routine, id?: string): string {
    return this.#graph.add(routine, id);
  }

  /**
   * A routine by id.
   *
   * @param id The routine's id.
   * @returns The routine, or `undefined`.
   */
  getRoutine(id: string): Routine | undefined {
    return this.#graph.get(id);
  }

  /**
   * A routine's id in this flow.
   *
   * @param routine The routine.
   * @returns Its id, or `undefined` if it is not part of the flow.
   */
  idOf(routine: Routine): string | undefined {
    return this.#graph.idOf(routine);
  }

  /**
   * Connects an event of one routine to a slot of another (or the same).
   *
   * @param srcId The emitting routine's id.
   * @param event Its event.
   * @param dstId The receiving routine's id.
   * @param slot Its slot.
   * @throws {TypeError} If a name is not a string.
   * @throws {RangeError} If a routine, event or slot is unknown, or the
   *   connection exists already.
   */
  connect(srcId: string, event: string, dstId: string, slot: string): void {
    this.#graph.connect(srcId, event, dstId, slot);
  }

  /**
   * The slots an event is connected to.
   *
   * @param routineId The emitting routine's id.
   * @param event The event.
   * @returns The targets, in the order connected.
   */
  targetsOf(routineId: string, event: string): readonly SlotTarget[] {
    return this.#graph.targetsOf(routineId, event);
  }

  /**
   * Sets the error handler of routines that have none (default: stop).
   *
   * @param handler The handler, or `null`.
   * @throws {TypeError} If `handler` is not an ErrorHandler.
   */
  setErrorHandler(handler: ErrorHandler | null): void {
    this.#errorHandler = requireErrorHandler(`flow '${this.flowId}'`, handler);
  }

  /**
   * Starts a job: the entry routine's `trigger` slot receives `entryParams`.
   *
   * @param entryId The entry routine's id.
   * @param options `entryParams`, the JobState's id and history retention,
   *   an output handler, and an observer of the job's engine.
   * @returns The job's state, in status `"running"`.
   * @throws {RangeError} (as a rejection) If the routine is unknown or has no `trigger` slot.
   * @throws {TypeError} (as a rejection) If `entryParams` is not an object.
   * @throws {RunIdInUseError} (as a rejection) With `saveState`, if the job
   *   id names a saved or running run.
   * @throws {RunNotSavedError} (as a rejection) With `saveState`, if
   *   `stateDir` cannot be written.
   */
  // deno-lint-ignore require-await
  async execute(
    entryId: string,
    options: ExecuteOptions = {},
  ): Promise<JobState> {
    const {
      entryParams = {},
      outputHandler,
      observe,
      saveState,
      stateDir,
      durability,
      ...jobOptions
    } = options;
    const what = `execute flow '${this.flowId}'`;
    const entry = this.#requireRoutine(what, "entryId", entryId);
    if (entry.getSlotHandler("trigger") === undefined) {
      throw new RangeError(
        `Cannot ${what} as 'entryId' must name a routine with a 'trigger' slot: routine '${entryId}' has ${
          listOf(entry.slots)
        }`,
      );
    }
    if (
      typeof entryParams !== "object" || entryParams === null ||
      Array.isArray(entryParams)
    ) {
      throw new TypeError(
        `Cannot ${what} as 'entryParams' must be a plain object: current value is ${
          describeValue(entryParams)
        }`,
      );
    }
    const save = this.#saveOptions(what, { saveState, stateDir, durability });
    const jobState = new JobState(this.flowId, jobOptions);
    if (outputHandler !== undefined) jobState.setOutputHandler(outputHandler);
    const execution = this.#track(jobState, save, false);
    observe?.({ jobState, info: execution.info, publisher: execution.publisher });
    execution.enqueue(entryId, "trigger", entryParams, null);
    execution.start();
    this.#watch(execution);
    return jobState;
  }

  /**
   * Waits until a job (or every running job of the flow) has stopped
   * running: completed, failed, cancelled, or paused.
   *
   * With saving on, it also waits until their records are written.
   *
   * @param options `timeout` in ms, and `jobState` to wait for one job.
   * @returns `true` if they stopped in time, `false` on timeout (they keep running).
   * @throws {RunNotSavedError} (as a rejection) With saving on, if a job's
   *   record could not be written.
   */
  async waitForCompletion(options: WaitOptions = {}): Promise<boolean> {
    const { timeout, jobState } = options;
    const executions = jobState ? [this.#executionOf("wait for", jobState)] : [...this.#active];
    const done = Promise.all(executions.map((e) => e.settled()))
      .then(() => Promise.all(executions.map((e) => e.saved())));
    if (timeout === undefined) {
      await done;
      return true;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeout);
    });
    try {
      return await Promise.race([done.then(() => true as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Pauses a running job: nothing more is dispatched; pending activations,
   * pending retries and deferred events stay in its JobState, ready to
   * `save`. Called from inside a slot handler, do not await it (it waits
   * for that handler to end).
   *
   * @param jobState The job.
   * @param options `reason` and `checkpoint`, kept in `pausePoints`.
   * @returns Resolves once every running activation has ended.
   * @throws {Error} (as a rejection) If the job is not running in this flow.
   */
  async pause(jobState: JobState, options: PauseOptions = {}): Promise<void> {
    const execution = this.#executionOf("pause", jobState);
    if (execution.status !== "running") {
      throw new Error(
        `Cannot pause job '${jobState.jobId}' as its status must be "running": current value is ${
          describeValue(execution.status)
        }`,
      );
    }
    await execution.pause(options.reason ?? "paused", options.checkpoint);
  }

  /**
   * Resumes a paused job, also one loaded from a file in another process:
   * its pending activations, then its deferred events, run on this flow.
   *
   * @param jobState A paused job of this flow (same `flowId`, same routine ids).
   * @param options Whether and where to save its record, for a job this
   *   flow did not run yet (the flow's settings by default).
   * @returns The same JobState, running again.
   * @throws {Error} (as a rejection) If the job is not paused, belongs to another flow, or
   *   names routines or slots this flow lacks, or two pending activations with one id.
   * @throws {JobClaimedError} (as a rejection) If the job was saved to or loaded from a
   *   file whose lease (`<file>.lock`) a live resumer holds, in this process or another.
   */
  async resume(jobState: JobState, options: FlowSaveOptions = {}): Promise<JobState> {
    if (!(jobState instanceof JobState)) {
      throw new TypeError(
        `Cannot resume as 'jobState' must be a JobState: current value is ${
          describeValue(jobState)
        }`,
      );
    }
    if (jobState.flowId !== this.flowId) {
      throw new Error(
        `Cannot resume job '${jobState.jobId}' as its flowId must be '${this.flowId}': current value is ${
          describeValue(jobState.flowId)
        }`,
      );
    }
    if (jobState.status !== "paused") {
      throw new Error(
        `Cannot resume job '${jobState.jobId}' as its status must be "paused": current value is ${
          describeValue(jobState.status)
        }`,
      );
    }
    this.#graph.requireRunnable(jobState);
    const saveOptions = this.#saveOptions(`resume job '${jobState.jobId}'`, options);
    // A job saved to or loaded from a file is claimed first: a second
    // resumer (another process, another loaded copy) gets JobClaimedError.
    const file = jobBook(jobState).file;
    const lease = file === null ? null : await claimLease(file, jobState.jobId);
    const execution = this.#executions.get(jobState) ??
      this.#track(jobState, saveOptions, true);
    execution.start();
    this.#watch(execution, lease);
    return jobState;
  }

  /**
   * Cancels a job: running activations are aborted (their signals fire)
   * and recorded `Cancelled`; what was pending stays in the JobState.
   *
   * @param jobState The job.
   * @param reason Why; recorded as the job's error.
   * @throws {Error} If the job does not belong to this flow.
   */
  cancel(jobState: JobState, reason?: unknown): void {
    this.#executionOf("cancel", jobState).cancel(
      reason ?? new Error(`Job '${jobState.jobId}' was cancelled`),
    );
  }

  /**
   * The tracked story of a job in this process: every activation as a
   * request, every routine as a node of type `"routine"`.
   *
   * @param jobState The job.
   * @returns Its ExecutionInfo.
   * @throws {Error} If the job was not executed or resumed by this flow.
   */
  info(jobState: JobState): ExecutionInfo {
    return this.#executionOf("get the info of", jobState).info;
  }

  #track(
    jobState: JobState,
    save: Required<FlowSaveOptions>,
    resumed: boolean,
  ): FlowExecution {
    const execution = new FlowExecution(this, jobState, {
      maxWorkers: this.maxWorkers,
      executionTimeout: this.executionTimeout,
      errorHandler: () => this.#errorHandler,
      ...save,
      resumed,
    });
    this.#executions.set(jobState, execution);
    return execution;
  }

  /**
   * Keeps a running execution in #active until it stops running, then
   * releases its lease (paused, completed, failed or cancelled).
   */
  #watch(execution: FlowExecution, lease: Lease | null = null): void {
    this.#active.add(execution);
    void execution.settled().then(() => {
      if (execution.status === "running") return;
      this.#active.delete(execution);
      lease?.release();
    });
  }

  #saveOptions(action: string, options: FlowSaveOptions): Required<FlowSaveOptions> {
    return resolveSaveOptions(action, options, {
      saveState: this.saveState,
      stateDir: this.stateDir,
      durability: this.durability,
    });
  }

  #executionOf(action: string, jobState: JobState): FlowExecution {
    const execution = this.#executions.get(jobState);
    if (!execution) {
      throw new Error(
        `Cannot ${action} job '${jobState?.jobId}' as it was not executed by flow '${this.flowId}'`,
      );
    }
    return execution;
  }

  #requireRoutine(action: string, param: string, id: string): Routine {
    return this.#graph.require(action, param, id);
  }
}
