/**
 * The StateManager: the application's queue of states, drained through the
 * tracked runtime. The queue loop lives in `_state_queue.ts`, the stop
 * sequence in `_stop_sequence.ts`; the run's wiring is a `RunSession`.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { z } from "npm:zod@^4.1.0";
import type { Coordinator } from "../execution/coordinator.ts";
import { describeValue } from "../core/describe.ts";
import { describeIssues } from "../core/validation.ts";
import {
  type ExecutorConfig,
  type ExecutorConfigInput,
  parseExecutorConfig,
} from "../execution/config.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import { RunSession } from "../run/run_session.ts";
import { StateManagerExistsError } from "./errors.ts";
import { stateStrategies } from "./_modes.ts";
import { State } from "./state.ts";
import type { StateFunction, StateResult } from "./state_types.ts";
import { StateQueue } from "./_state_queue.ts";
import { stopStates } from "./_stop_sequence.ts";

/** A running state, as {@linkcode StateManager.activeTasks} lists it. */
export interface ActiveState {
  /** The state. */
  readonly state: State;
  /** Its top-level request in {@linkcode StateManager.info}. */
  readonly requestId: string;
  /** When it started: its request's creation stamp (ms since the epoch). */
  readonly startedAt: number;
}

/** The configuration of a {@linkcode StateManager}: a runner's, and one more field. */
export interface StateManagerConfig extends ExecutorConfigInput {
  /**
   * Warn (naming the state and its gate) when a non-blocking state has
   * waited this many ms at its gate while states are queued behind it, as
   * happens when the state that would set the gate is one of them; `0`
   * never warns.
   *
   * @default {10000}
   */
  stalledGateWarning?: number;
}

const managerSchema = z.object({
  stalledGateWarning: z.number().nonnegative().finite().default(10_000),
});

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
  /** How long a state may wait at its gate before a warning (ms; 0: never). */
  readonly stalledGateWarning: number;
  // The run's wiring: publisher, coordinator, RTState, event log, saves.
  readonly #session: RunSession;
  readonly #queue: StateQueue;
  #processing: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;

  /**
   * Makes the manager of this process. There is one at a time: prefer
   * {@linkcode StateManager.instance}, which makes it on first use.
   *
   * @param config The configuration (see {@linkcode StateManager.instance}).
   * @throws {StateManagerExistsError} If a manager exists already.
   * @throws {TypeError} Naming the field and value of an invalid setting.
   */
  constructor(config: StateManagerConfig = {}) {
    if (StateManager.#instance !== null) throw new StateManagerExistsError();
    const { stalledGateWarning, ...rest } = config ?? {};
    const parsed = managerSchema.safeParse({ stalledGateWarning });
    if (!parsed.success) {
      throw new TypeError(
        `Cannot create the StateManager as ${describeIssues(parsed.error, config)}`,
      );
    }
    this.config = parseExecutorConfig(rest, "the StateManager");
    this.stalledGateWarning = parsed.data.stalledGateWarning;
    this.#session = new RunSession(this.config, {
      kind: "states",
      made: "the StateManager",
      strategies: stateStrategies(this.config),
    });
    this.#queue = new StateQueue(this.#session, {
      timeout: this.config.timeout,
      endOnError: this.config.endOnError,
      stalledGateWarning: this.stalledGateWarning,
      onFatal: () => void this.signalStopping().catch(() => {}),
    });
    StateManager.#instance = this;
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
   * snapshot when the manager stops, `durability` says how that log
   * reaches its file; `loggingSetting`,
   * `logFile` and `subscriber` work as for a runner;
   * `stalledGateWarning` (default 10 s) warns about a non-blocking state
   * that waits at its gate while states are queued behind it.
   *
   * @param config The configuration, on first use; later calls may omit it
   *   or pass an equivalent one.
   * @returns The manager.
   * @throws {TypeError} Naming the field and value of an invalid setting, or
   *   of a setting that differs from the existing manager's.
   */
  static instance(config?: StateManagerConfig): StateManager {
    const current = StateManager.#instance;
    if (!current) return new StateManager(config ?? {});
    if (config !== undefined) {
      const { stalledGateWarning, ...rest } = config;
      const wanted: Record<string, unknown> = {
        ...parseExecutorConfig({
          ...rest,
          runIdentifier: rest.runIdentifier ?? current.config.runIdentifier,
        }, "the StateManager"),
        stalledGateWarning: stalledGateWarning ?? current.stalledGateWarning,
      };
      const have: Record<string, unknown> = {
        ...current.config,
        stalledGateWarning: current.stalledGateWarning,
      };
      for (const key of Object.keys(wanted)) {
        if (!isDeepStrictEqual(wanted[key], have[key])) {
          throw new TypeError(
            `Cannot get the StateManager as 'config.${key}' must match the existing manager's (${
              describeValue(have[key])
            }; call StateManager.reset() first to change it): current value is ${
              describeValue(wanted[key])
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
   *
   * @throws {RunNotSavedError} With `saveState`, if the run could not be
   *   saved (the manager is stopped and forgotten all the same).
   */
  static async reset(): Promise<void> {
    const current = StateManager.#instance;
    StateManager.#instance = null;
    if (!current) return;
    const stopped = current.signalStopping();
    await current.#processing?.catch(() => {});
    await stopped;
  }

  /** Everything recorded: one top-level request per state, with its calls below it. */
  get info(): ExecutionInfo {
    return this.#session.info;
  }

  /** The coordinator that runs the states' tasks. */
  get coordinator(): Coordinator {
    return this.#session.coordinator;
  }

  /** The session that wires this manager's run (for extensions). */
  get session(): RunSession {
    return this.#session;
  }

  /** The states running now, in start order. */
  get activeTasks(): ActiveState[] {
    return this.#queue.running().map((active) => ({
      state: active.state,
      requestId: this.#queue.requestIdOf(active),
      startedAt: this.#queue.creationStamp(active).time,
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
    this.#checkPut(state, "state");
    this.#queue.enqueue([state]);
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
        `Cannot queue states as 'states' must be an iterable of State: current value is ${
          describeValue(states)
        }`,
      );
    }
    // An array is copied whole (a spread walks it through its iterator).
    const list = Array.isArray(states) ? states.slice() : [...states];
    // Indexed: this runs once per put, unoptimized, where a for-of loop
    // would make an iterator result per state.
    for (let i = 0; i < list.length; i++) this.#checkPut(list[i], `states[${i}]`);
    this.#queue.enqueue(list);
  }

  /** @param field The argument as the caller wrote it: `state` or `states[i]`. */
  #checkPut(state: unknown, field: string): asserts state is State {
    if (!(state instanceof State)) {
      throw new TypeError(
        `Cannot queue a state as '${field}' must be a State: current value is ${
          describeValue(state)
        }`,
      );
    }
    if (this.#stopping) {
      throw new Error(`Cannot queue state '${state.name}' as the state manager is stopping`);
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
   * @throws {RunNotSavedError} (as a rejection) With `saveState`, if the
   *   run could not be saved when the manager stopped.
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
    await this.#queue.drain();
    await this.#stopping;
    if (this.#queue.failure) throw this.#queue.failure;
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
    return this.#queue.onIdle();
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
          describeValue(state)
        }`,
      );
    }
    return this.#queue.resultOf(state) as Promise<StateResult<F>>;
  }

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
   * @throws {RunNotSavedError} (as a rejection) With `saveState`, if the
   *   run could not be saved.
   */
  signalStopping(): Promise<void> {
    if (this.#stopping === null) {
      this.#stopping = stopStates(this.#queue, this.#session);
      // The caller sees a save failure; the queue loop must not leave it unhandled.
      this.#stopping.catch(() => {});
    }
    return this.#stopping;
  }
}
