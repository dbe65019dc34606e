/**
 * The StateManager: the application's queue of states, drained through the
 * tracked runtime.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { Coordinator } from "../execution/coordinator.ts";
import { applyLoggingSetting, logger } from "../core/logging.ts";
import { Node } from "../core/node.ts";
import { scopeStorage } from "../execution/scope.ts";
import { EventLogWriter } from "../persistence/event_log.ts";
import { saveRunSnapshot } from "../persistence/run_store.ts";
import type { RuntimeMessage } from "../pubsub/messages.ts";
import { RTPublisher } from "../pubsub/publisher.ts";
import {
  type ExecutorConfig,
  type ExecutorConfigInput,
  parseExecutorConfig,
} from "../execution/config.ts";
import { GlobalTimeoutError, RequestCancelledError } from "../core/errors.ts";
import { ExecutionInfo } from "../state/execution_info.ts";
import { RTState } from "../execution/rt_state.ts";
import type { Stamp } from "../state/stamp.ts";
import { StateFailedError } from "./errors.ts";
import { describeSetting } from "./_describe.ts";
import { Fifo } from "./_fifo.ts";
import { LONG_RUNNING_MODE, stateStrategies } from "./_modes.ts";
import { State, stateOutcomes } from "./state.ts";
import type { StateFunction, StateResult } from "./state_types.ts";
import { round } from "./_timing.ts";

const log = logger("states");

const outcomes = stateOutcomes();

/** A running state, as {@linkcode StateManager.activeTasks} lists it. */
export interface ActiveState {
  /** The state. */
  readonly state: State;
  /** Its top-level request in {@linkcode StateManager.info}. */
  readonly requestId: string;
  /** When it started: its request's creation stamp (ms since the epoch). */
  readonly startedAt: number;
}

interface Active {
  readonly state: State;
  readonly requestId: string;
  /**
   * The request whose task doing the work settles last: the worker call of
   * a blocking state, the state's own request otherwise.
   */
  readonly workRequestId: string;
}

/** Default time a cancelled non-blocking state gets to settle (ms). */
const DEFAULT_GRACE_PERIOD = 100;

/**
 * Drains a queue of {@linkcode State}s through one tracked runtime: every
 * state becomes a top-level request of {@linkcode StateManager.info}, named
 * after it, and the calls it makes are its children. Non-blocking states run
 * on the event loop one after the other; blocking states run in Web Workers
 * while the queue moves on. Get the manager with
 * {@linkcode StateManager.instance}.
 *
 * @example Draining states until stopped
 * ```ts
 * import { Gate, State, StateManager } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const done = new Gate();
 * const order: string[] = [];
 * const manager = StateManager.instance({ loggingSetting: "NONE" });
 * manager.putStates([
 *   new State("Migrate", async () => order.push("migrate")),
 *   new State("Seed", (rows: number) => order.push(`seed ${rows}`), { args: [3] }),
 *   new State("Done", () => done.set()),
 * ]);
 * const loop = manager.processStates();
 * await done.wait();
 * await manager.signalStopping();
 * await loop;
 * assert.deepEqual(order, ["migrate", "seed 3"]);
 * assert.equal(manager.info.requestHeap.insertionRequests.length, 3);
 * await StateManager.reset();
 * ```
 */
export class StateManager {
  static #instance: StateManager | null = null;

  /** The validated configuration. */
  readonly config: ExecutorConfig;
  readonly #info: ExecutionInfo = ExecutionInfo.createNew();
  readonly #publisher: RTPublisher = new RTPublisher();
  readonly #coordinator: Coordinator;
  readonly #rt: RTState;
  readonly #queue: Fifo<State> = new Fifo();
  // Invariant: #active holds exactly the blocking states whose request was
  // created and has not settled, in start order (Map keeps insertion order);
  // the running non-blocking state, if any, is #current.
  readonly #active: Map<string, Active> = new Map();
  // Aborts once stopping starts: states waiting at a gate or evaluating lazy
  // args give up, and none starts afterwards.
  readonly #stopController: AbortController = new AbortController();
  #wake: (() => void) | null = null;
  // The non-blocking state the queue awaits, once it started.
  #current: Active | null = null;
  #processing: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #failure: StateFailedError | null = null;
  // Invariant: #inProgress counts the states taken from the queue whose
  // enterState() has not settled (waiting at a gate, evaluating lazy args or
  // running); the manager is idle when it is 0 and the queue is empty.
  #inProgress = 0;
  // Appends the run's events while it goes, with saveState.
  readonly #events: EventLogWriter | null = null;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];
  // The resultOf() promises of states that have not ended yet (settled when
  // they end, or at stop); the outcome of each state's latest run is kept
  // on the state (stateOutcomes()).
  readonly #asked: Map<State, PromiseWithResolvers<unknown>> = new Map();

  private constructor(config: ExecutorConfig) {
    this.config = config;
    applyLoggingSetting(config.loggingSetting, config.logFile);
    this.#publisher.start();
    this.#coordinator = new Coordinator(stateStrategies(config));
    this.#coordinator.start(this.#publisher);
    this.#rt = new RTState(
      this.#info,
      config,
      this.#coordinator,
      this.#publisher,
    );
    if (config.saveState) {
      const events = new EventLogWriter(config.stateDir, config.runIdentifier, this.#info);
      this.#publisher.subscribe((m) => events.handle(m), "event-log");
      this.#events = events;
    }
    if (config.subscriber) {
      this.#publisher.subscribe(config.subscriber, "config.subscriber");
    }
  }

  /**
   * The manager of this process, made on first use.
   *
   * The configuration is a runner's ({@linkcode ExecutorConfig}), read for
   * states as follows: `timeout` limits each state's request (not a
   * long-running state's), which is cancelled when it passes; `endOnError`
   * stops the manager at the first failed state; `workers.size` is the size
   * of the pool short blocking states share (long-running ones get a
   * dedicated worker each); `workers.gracePeriod` (default 100 ms) is how
   * long a stopped state may take to end before its worker is terminated;
   * `saveState` appends the run's event log while it goes and saves its
   * snapshot when the manager stops; `loggingSetting`,
   * `logFile` and `subscriber` work as for a runner.
   *
   * @param config The configuration, on first use; later calls may omit it
   *   or pass an equivalent one.
   * @returns The manager.
   * @throws {TypeError} Naming the field and value of an invalid setting, or
   *   of a setting that differs from the existing manager's.
   */
  static instance(config?: ExecutorConfigInput): StateManager {
    const current = StateManager.#instance;
    if (!current) {
      const manager = new StateManager(parseExecutorConfig(config ?? {}));
      StateManager.#instance = manager;
      return manager;
    }
    if (config !== undefined) {
      const wanted = parseExecutorConfig({
        ...config,
        runIdentifier: config.runIdentifier ?? current.config.runIdentifier,
      });
      for (const key of Object.keys(wanted) as (keyof ExecutorConfig)[]) {
        if (!isDeepStrictEqual(wanted[key], current.config[key])) {
          throw new TypeError(
            `Cannot get the StateManager as 'config.${key}' must match the existing manager's (${
              describeSetting(current.config[key])
            }; call StateManager.reset() first to change it): current value is ${
              describeSetting(wanted[key])
            }`,
          );
        }
      }
    }
    return current;
  }

  /**
   * Stops the current manager (as {@linkcode StateManager.signalStopping})
   * and forgets it: the next {@linkcode StateManager.instance} makes a new
   * one. Does nothing when there is none.
   */
  static async reset(): Promise<void> {
    const current = StateManager.#instance;
    StateManager.#instance = null;
    if (!current) return;
    await current.signalStopping();
    await current.#processing?.catch(() => {});
  }

  /** Everything recorded: one top-level request per state, with its calls below it. */
  get info(): ExecutionInfo {
    return this.#info;
  }

  /** The coordinator that runs the states' tasks. */
  get coordinator(): Coordinator {
    return this.#coordinator;
  }

  /** The states running now, in start order. */
  get activeTasks(): ActiveState[] {
    return this.#running().map(({ state, requestId }) => ({
      state,
      requestId,
      startedAt: this.#creationStamp(requestId).time,
    }));
  }

  /** How many states are queued and not started. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Whether {@linkcode StateManager.signalStopping} was called. */
  get isStopping(): boolean {
    return this.#stopping !== null;
  }

  /**
   * Puts a state at the end of the queue. Synchronous; awaiting it is
   * harmless.
   *
   * @param state The state.
   * @throws {TypeError} If `state` is not a {@linkcode State}.
   * @throws {Error} If the manager is stopping.
   */
  putState(state: State): void {
    this.#checkPut(state, "putState");
    this.#enqueue([state]);
  }

  /**
   * Puts several states at the end of the queue, in order. Either all are
   * queued or, if one is invalid, none is.
   *
   * @param states The states.
   * @throws {TypeError} If `states` is not iterable or an item is not a
   *   {@linkcode State}.
   * @throws {Error} If the manager is stopping.
   */
  putStates(states: Iterable<State>): void {
    if (typeof (states as Iterable<State>)?.[Symbol.iterator] !== "function") {
      throw new TypeError(
        `Cannot put states as 'states' must be an iterable of State: current value is ${
          describeSetting(states)
        }`,
      );
    }
    const list = [...states];
    for (const state of list) this.#checkPut(state, "putStates");
    this.#enqueue(list);
  }

  #checkPut(state: unknown, method: string): asserts state is State {
    if (!(state instanceof State)) {
      throw new TypeError(
        `Cannot ${method} as 'state' must be a State: current value is ${describeSetting(state)}`,
      );
    }
    if (this.#stopping) {
      throw new Error(
        `Cannot ${method} state '${state.name}' as the state manager is stopping`,
      );
    }
  }

  #enqueue(states: readonly State[]): void {
    const logging = log.isEnabledFor("debug");
    for (const state of states) {
      this.#queue.push(state);
      if (logging) {
        log.debug("State {state} ({fn}) queued at {at} ms", {
          state: state.name,
          fn: state.functionName,
          at: round(performance.now()),
        });
      }
    }
    const wake = this.#wake;
    if (wake) {
      this.#wake = null;
      wake();
    }
  }

  /**
   * Drains the queue until {@linkcode StateManager.signalStopping}: each
   * non-blocking state is awaited before the next starts; each blocking
   * state is started and the queue moves on at once. A failed state is
   * recorded and logged and the queue goes on, unless `endOnError` is set.
   * Calling it again returns the same promise.
   *
   * @returns A promise that resolves once the manager has stopped and every
   *   running state has ended.
   * @throws {StateFailedError} (as a rejection) With `endOnError`, for the
   *   first state that failed.
   */
  processStates(): Promise<void> {
    if (this.#processing === null) {
      this.#processing = this.#drain();
      // Awaiting it still rejects; a rejection nobody awaited yet (say while
      // the application waits for something else) must not end the process.
      this.#processing.catch(() => {});
    }
    return this.#processing;
  }

  async #drain(): Promise<void> {
    const signal = this.#stopController.signal;
    const options = { signal, run: this.#run };
    while (!signal.aborted) {
      const state = this.#queue.shift();
      if (state === undefined) {
        this.#checkIdle();
        await new Promise<void>((resolve) => this.#wake = resolve);
        continue;
      }
      this.#inProgress++;
      if (state.isBlocking) {
        state.enterState(options)
          .then(
            (value) => this.#settle(state, true, value),
            (error) => this.#onFailure(state, error),
          )
          .finally(() => this.#leave());
        continue;
      }
      try {
        this.#settle(state, true, await state.enterState(options));
      } catch (error) {
        this.#onFailure(state, error);
      }
      this.#current = null;
      this.#leave();
    }
    await this.#stopping;
    if (this.#failure) throw this.#failure;
  }

  /**
   * Resolves once the queue is empty and no state taken from it is still in
   * progress (waiting at its gate, evaluating its lazy args, or running,
   * blocking states included), or once the manager stops. States put later
   * make it busy again; a long-running state keeps it busy until it ends.
   *
   * @returns A promise that resolves when the manager is idle (at once if it is).
   *
   * @example Stopping once everything queued has run
   * ```ts
   * import { State, StateManager } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * const manager = StateManager.instance({ loggingSetting: "NONE" });
   * manager.putStates([new State("One", () => 1), new State("Two", () => 2)]);
   * const loop = manager.processStates();
   * await manager.onIdle();
   * await manager.signalStopping();
   * await loop;
   * assert.deepEqual(manager.info.answer, [1, 2]);
   * await StateManager.reset();
   * ```
   */
  onIdle(): Promise<void> {
    if (this.#isIdle() || this.#stopping) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * What a state returned: its latest run's result, or its next run's if it
   * has not run yet (queued, waiting at its gate, or running). Useful as a
   * lazy arg of a later state, which then starts with that result.
   *
   * @param state A state put on this manager.
   * @returns A promise of its result; it rejects with the state's error if
   *   the state failed or was cancelled (also before it started), or with
   *   the stop reason if the manager stopped before the state ran.
   * @throws {TypeError} If `state` is not a {@linkcode State}.
   *
   * @example Passing a result to the next state
   * ```ts
   * import { State, StateManager } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * const manager = StateManager.instance({ loggingSetting: "NONE" });
   * const count = new State("Count", () => 3);
   * const double = new State("Double", (n: number) => n * 2, {
   *   lazyArgs: [() => manager.resultOf(count)],
   * });
   * manager.putStates([count, double]);
   * const loop = manager.processStates();
   * assert.equal(await manager.resultOf(double), 6);
   * await manager.signalStopping();
   * await loop;
   * await StateManager.reset();
   * ```
   */
  resultOf<F extends StateFunction>(state: State<F>): Promise<StateResult<F>> {
    if (!(state instanceof State)) {
      throw new TypeError(
        `Cannot get a state's result as 'state' must be a State: current value is ${
          describeSetting(state)
        }`,
      );
    }
    return this.#resultOf(state) as Promise<StateResult<F>>;
  }

  #resultOf(state: State): Promise<unknown> {
    const outcome = outcomes.get(state);
    if (outcome) return outcome.ok ? Promise.resolve(outcome.value) : Promise.reject(outcome.value);
    if (this.#stopped) {
      return Promise.reject(
        new Error(
          `Cannot get the result of state '${state.name}' as it did not run before the state manager stopped`,
        ),
      );
    }
    let asked = this.#asked.get(state);
    if (!asked) {
      asked = Promise.withResolvers<unknown>();
      // It may reject (say at stop) before the caller awaits it: not an
      // unhandled rejection. The caller still sees the rejection.
      asked.promise.catch(() => {});
      this.#asked.set(state, asked);
    }
    return asked.promise;
  }

  #settle(state: State, ok: boolean, value: unknown): void {
    outcomes.set(state, { ok, value });
    const asked = this.#asked.get(state);
    if (!asked) return;
    this.#asked.delete(state);
    if (ok) asked.resolve(value);
    else asked.reject(value);
  }

  #isIdle(): boolean {
    return this.#queue.size === 0 && this.#inProgress === 0;
  }

  #leave(): void {
    this.#inProgress--;
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (!this.#isIdle() && !this.#stopping) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #onFailure(state: State, error: unknown): void {
    this.#settle(state, false, error);
    const signal = this.#stopController.signal;
    if (signal.aborted && error === signal.reason) return;
    if (
      error instanceof RequestCancelledError && error.cause === signal.reason
    ) return;
    if (this.config.endOnError && this.#failure === null) {
      this.#failure = new StateFailedError(state.name, { cause: error });
      this.signalStopping();
    }
  }

  /** Every running state, in start order. */
  #running(): Active[] {
    const running = [...this.#active.values()];
    if (this.#current) running.push(this.#current);
    // A request the runtime refused (it had shut down) was never created.
    return running
      .filter((a) => this.#info.requestHeap.has(a.requestId))
      .sort((a, b) =>
        this.#creationStamp(a.requestId).step -
        this.#creationStamp(b.requestId).step
      );
  }

  #creationStamp(requestId: string): Stamp {
    let request = this.#info.requestHeap.get(requestId)!;
    while (request.parent) request = request.parent;
    return request.stamp;
  }

  /** Starts a state as a top-level request (the `run` of `enterState`). */
  #run = (state: State, args: unknown[]): Promise<unknown> => {
    const requestId = crypto.randomUUID();
    let node = state.node;
    let workRequestId = requestId;
    if (state.isBlocking || node.name !== state.name) {
      // The state's request runs on the event loop and makes one call: to the
      // worker node (in the pool, or on a dedicated worker for a long-running
      // state), or to a node of another name than the state's.
      const workId = workRequestId = crypto.randomUUID();
      // A node with a queue keeps its own mode: a worker process, or the pool without `remote`.
      const mode = !state.isBlocking || state.node.mode === "remote"
        ? undefined
        : state.longRunning
        ? LONG_RUNNING_MODE
        : "worker";
      node = new Node((...workArgs: unknown[]) =>
        this.#rt.callNodes({
          parentNodeId: scopeStorage.getStore()!.nodeId,
          requestId: workId,
          node: state.node,
          args: workArgs,
          mode,
        }), { name: state.name });
    }
    const active: Active = { state, requestId, workRequestId };
    if (state.isBlocking) this.#active.set(requestId, active);
    else this.#current = active;
    const result = this.#rt.callNodes({
      parentNodeId: null,
      requestId,
      node,
      args,
      nodeType: "state",
    });
    const { timeout } = this.config;
    if (timeout === undefined || state.longRunning) {
      // A non-blocking state stops being #current in #drain, without a promise.
      if (state.isBlocking) {
        const ended = () => this.#active.delete(requestId);
        result.then(ended, ended);
      }
      return result;
    }
    const timer = setTimeout(
      () => this.#rt.cancel(requestId, new GlobalTimeoutError(timeout)),
      timeout,
    );
    const ended = () => {
      clearTimeout(timer);
      this.#active.delete(requestId);
    };
    result.then(ended, ended);
    return result;
  };

  /**
   * Stops the manager. Idempotent: later calls return the same promise.
   * No state is taken from the queue any more (those left are dropped and
   * logged), states waiting at a gate stop waiting, and the running states
   * are cancelled one by one in reverse start order: each one's
   * `AbortSignal` aborts, and a blocking state's worker is terminated if it
   * has not ended within the grace period (`config.workers.gracePeriod`); a
   * non-blocking state is given that long to settle. Then the runtime shuts
   * down (and the run is saved with `saveState`).
   *
   * @returns A promise that resolves once every running state has ended.
   */
  signalStopping(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const reason = new Error("The state manager is stopping");
    const started = performance.now();
    const dropped = this.#queue.drain();
    log.info(
      "Stopping at {at} ms: {running} states running, {dropped} queued states dropped {names}",
      {
        at: round(started),
        running: this.#running().length,
        dropped: dropped.length,
        names: dropped.map((s) => s.name),
      },
    );
    this.#stopController.abort(reason);
    this.#checkIdle();
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
    for (const active of this.#running().reverse()) {
      await this.#end(active, reason);
    }
    await this.#rt.shutdown(reason);
    await this.#coordinator.shutdown();
    if (this.config.saveState && this.#info.requestHeap.size > 0) {
      this.#events?.reconcile();
      await saveRunSnapshot(
        this.config.stateDir,
        this.config.runIdentifier,
        this.#info,
      ).then(() => this.#events?.markSaved(this.#info.status)).catch((error) =>
        log.error("Could not save run {runId}: {error}", {
          runId: this.config.runIdentifier,
          error,
        })
      );
    }
    this.#events?.close();
    this.#publisher.shutdown();
    this.#stopped = true;
    for (const [state, asked] of this.#asked) {
      this.#asked.delete(state);
      asked.reject(reason);
    }
    this.#checkIdle();
    log.info("Stopped in {ms} ms", {
      ms: round(performance.now() - started),
    });
  }

  /** Cancels one running state and waits until its work has ended. */
  async #end(active: Active, reason: unknown): Promise<void> {
    const cancelledAt = performance.now();
    const cancelled = this.#rt.cancel(active.requestId, reason);
    if (!cancelled.includes(active.workRequestId)) return;
    const id = active.workRequestId;
    const settled = this.#publisher.listener((m: RuntimeMessage) =>
      (m.kind === "success" || m.kind === "failure") && m.requestId === id
    ).then(() => {}, () => {});
    if (active.state.isBlocking) {
      // The worker strategy terminates the worker after its grace period.
      await settled;
    } else {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        settled,
        new Promise<void>((resolve) => {
          timer = setTimeout(
            resolve,
            this.config.workers.gracePeriod ?? DEFAULT_GRACE_PERIOD,
          );
        }),
      ]);
      clearTimeout(timer);
    }
    log.debug("State {state} ({fn}) ended {ms} ms after its cancellation", {
      state: active.state.name,
      fn: active.state.functionName,
      ms: round(performance.now() - cancelledAt),
    });
  }
}
