/**
 * One run session: the wiring every run shares, written once. A session
 * owns the publisher, the coordinator and its strategies, the runtime state
 * (RTState), the event-log writer and the snapshot saves, the configured
 * subscriber, the timers that cancel requests that run too long, and the
 * close sequence. `Runner`, the `StateManager`, each flow job and the
 * `switchyard run` targets are built on it; extra strategies and observers
 * plug in through {@linkcode registerStrategies} and
 * {@linkcode registerRunObserver}.
 *
 * @module
 */
import { Coordinator } from "../execution/coordinator.ts";
import type { ExecutorConfig } from "../execution/config.ts";
import type { CallNodesOptions } from "../execution/rt_state.ts";
import { RTState } from "../execution/rt_state.ts";
import type { TaskExecutionStrategy } from "../execution/strategy.ts";
import { applyLoggingSetting, logger } from "../core/logging.ts";
import { describeValue } from "../core/describe.ts";
import { GlobalTimeoutError, RequestCancelledError } from "../core/errors.ts";
import { EventLogWriter } from "../persistence/event_log.ts";
import { saveRunSnapshot } from "../persistence/run_store.ts";
import type { RuntimeMessage } from "../pubsub/messages.ts";
import { RTPublisher, type Subscriber } from "../pubsub/publisher.ts";
import { ExecutionInfo, type ExecutionStatus } from "../state/execution_info.ts";
import { traceRequests } from "../tracing/run_tracing.ts";
import { claimRunId, type RunClaim } from "./_run_claim.ts";
import { removeQuietly, requireWritableLogFile } from "./_run_files.ts";
import { RunNotSavedError } from "./errors.ts";
import {
  type ObservedRun,
  type RunObservation,
  type RunObserver,
  runObservers,
  strategiesFor,
} from "./extensions.ts";

const log = logger("run");

/**
 * How long closing waits for async subscriber work by default (ms).
 *
 * @example
 * ```ts
 * import { DEFAULT_DRAIN_TIMEOUT } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_DRAIN_TIMEOUT, 5_000);
 * ```
 */
export const DEFAULT_DRAIN_TIMEOUT = 5_000;

/** Options of {@linkcode RunSession}. */
export interface RunSessionOptions {
  /**
   * What runs in the session, for logs and observers.
   *
   * @default {"runner"}
   */
  kind?: string;
  /**
   * What is being made, as its construction errors name it (e.g.
   * `"Runner"`), like the configuration's own errors.
   *
   * @default {"RunSession"}
   */
  made?: string;
  /**
   * The execution strategies by mode.
   *
   * @default {strategiesFor(config)}
   */
  strategies?: Record<string, TaskExecutionStrategy>;
  /**
   * Configure logging from `config.loggingSetting` and `config.logFile`:
   * `"explicit"` (the caller chose them: the last explicit one wins),
   * `"default"` (only when nothing configured logging yet), or `"off"`.
   *
   * @default {"explicit"}
   */
  logging?: "explicit" | "default" | "off";
  /**
   * Observers attached to this session only, after the registered ones.
   *
   * @default {[]}
   */
  observers?: readonly RunObserver[];
  /**
   * How long {@linkcode RunSession.close} waits for promises that
   * subscribers returned and that have not settled (ms).
   *
   * @default {5000}
   */
  drainTimeout?: number;
}

/** Options of {@linkcode RunSession.request}. */
export interface SessionRequestOptions {
  /** Cancels the request (and its subtree) after this many ms. */
  timeout?: number;
  /**
   * When the timeout cancels the request, reject with the
   * `GlobalTimeoutError` itself instead of the request's
   * `RequestCancelledError` (whose `cause` it is).
   *
   * @default {false}
   */
  rethrowTimeout?: boolean;
}

/**
 * The engine of one run, wired once. Open it with a validated
 * configuration, make requests with {@linkcode RunSession.request}, save
 * with {@linkcode RunSession.save} and end with {@linkcode RunSession.close}.
 *
 * Saving (with `config.saveState`): the run id is claimed when the session
 * opens (a saved or running run of the same id is refused with
 * `RunIdInUseError`, and a state folder that cannot be written with
 * `RunNotSavedError`), the event log is appended while the run goes (in
 * batches, or each event before the engine goes on with
 * `config.durability: "event"`), and
 * each save writes the snapshot; a save that fails rejects with
 * `RunNotSavedError`.
 *
 * @example A session by hand
 * ```ts
 * import { RunSession } from "@switchyard/core/engine";
 * import { node, parseExecutorConfig } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const session = new RunSession(parseExecutorConfig({ loggingSetting: "NONE" }));
 * const answer = await session.request({
 *   parentNodeId: null,
 *   node: node((x: number) => x + 1, { name: "inc" }),
 *   args: [1],
 * });
 * assert.equal(answer, 2);
 * await session.close();
 * assert.equal(session.info.status, "Completed");
 * ```
 */
export class RunSession {
  /** The validated configuration. */
  readonly config: ExecutorConfig;
  /** What runs in the session (`"runner"`, `"states"`, `"flow"`). */
  readonly kind: string;
  /** Everything recorded. */
  readonly info: ExecutionInfo = ExecutionInfo.createNew();
  /** Every runtime message of the run. */
  readonly publisher: RTPublisher = new RTPublisher();
  /** Runs the tasks. */
  readonly coordinator: Coordinator;
  /** The runtime state: creates, cancels and records requests. */
  readonly rtState: RTState;
  readonly #claim: RunClaim | null;
  readonly #events: EventLogWriter | null = null;
  readonly #drainTimeout: number;
  readonly #observations: RunObservation[] = [];
  // Invariant: holds every timer armed by request()/arm() that has neither
  // fired nor been cleared; close() clears them all.
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #saving: Promise<void> = Promise.resolve();
  // The stamp step and status at the last save that succeeded: saving
  // again while both are unchanged writes nothing.
  #savedAt = "";
  #closing: Promise<void> | null = null;
  // Whether the session's requests are traced (a span on each task).
  #traced = false;

  /**
   * Opens a session.
   *
   * @param config The validated configuration (`parseExecutorConfig`).
   * @param options What runs, its strategies, logging, observers.
   * @throws {TypeError} If `config.logFile` cannot be opened for appending.
   * @throws {RunIdInUseError} With `saveState`, if the run id is taken.
   * @throws {RunNotSavedError} With `saveState`, if the state folder
   *   cannot be written.
   */
  constructor(config: ExecutorConfig, options: RunSessionOptions = {}) {
    this.config = config;
    this.kind = options.kind ?? "runner";
    this.#drainTimeout = options.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT;
    if (config.logFile !== undefined) {
      requireWritableLogFile(options.made ?? "RunSession", config.logFile);
    }
    // Claimed first: a refused run builds nothing it would have to undo.
    this.#claim = config.saveState ? claimRunId(config.stateDir, config.runIdentifier) : null;
    try {
      const logging = options.logging ?? "explicit";
      if (logging !== "off") {
        applyLoggingSetting(config.loggingSetting, config.logFile, logging === "explicit");
      }
      this.publisher.start();
      this.coordinator = new Coordinator(options.strategies ?? strategiesFor(config));
      this.coordinator.start(this.publisher);
      const events = config.saveState
        ? new EventLogWriter(config.stateDir, config.runIdentifier, this.info, {
          durability: config.durability,
        })
        : null;
      const eachEvent = events !== null && config.durability === "event";
      // RTState subscribes first, so every later subscriber reads records that
      // are up to date when a message arrives. With durability "event" it
      // tells the event log of each record as it writes it.
      this.rtState = new RTState(
        this.info,
        config,
        this.coordinator,
        this.publisher,
        eachEvent ? events : null,
      );
      if (events !== null) {
        if (!eachEvent) {
          this.publisher.subscribe((m) => events.handle(m), "event-log", { passive: true });
        }
        // Opened (and locked) now: a reader sees a live run, not a crashed one.
        events.open();
        this.#events = events;
      }
      if (config.subscriber) this.subscribe(config.subscriber, "config.subscriber");
      const observed: ObservedRun = {
        config,
        runId: config.runIdentifier,
        kind: this.kind,
        info: this.info,
        publisher: this.publisher,
        rtState: this.rtState,
        coordinator: this.coordinator,
      };
      // Tracing is the built-in observer: first, so later observers'
      // requests are traced too.
      this.#traced = traceRequests(this);
      for (const observer of [...runObservers(), ...options.observers ?? []]) {
        try {
          const observation = observer(observed);
          if (observation) this.#observations.push(observation);
        } catch (error) {
          log.warn("Run observer {name} threw: {error}", {
            name: observer.name || "anonymous",
            error,
          });
        }
      }
    } catch (error) {
      // A session that failed to open frees its run id again.
      this.#claim?.release();
      throw error;
    }
  }

  /** The run identifier (the saved run's id). */
  get runId(): string {
    return this.config.runIdentifier;
  }

  /**
   * Whether the run's requests are traced: tracing is on in the
   * configuration and a tracer provider (or metric instruments) is set, so
   * each request's task carries its span.
   */
  get isTraced(): boolean {
    return this.#traced;
  }

  /** Whether {@linkcode RunSession.close} was called. */
  get isClosed(): boolean {
    return this.#closing !== null;
  }

  /**
   * Subscribes to every message; a promise the callback returns is
   * waited for (a bounded time) when the session closes.
   *
   * @param callback The subscriber.
   * @param name A name for logs.
   * @returns The subscription id.
   */
  subscribe(callback: Subscriber<RuntimeMessage>, name?: string): string {
    return this.publisher.subscribe(callback, name);
  }

  /**
   * Makes a tracked request, optionally cancelled after a time limit.
   *
   * @param options The request (see `RTState.callNodes`).
   * @param limits `timeout` and how a timeout is reported.
   * @returns What the node returned.
   * @throws What the node threw; a `RequestCancelledError` when cancelled
   *   (or the `GlobalTimeoutError` with `rethrowTimeout`).
   */
  request(options: CallNodesOptions, limits: SessionRequestOptions = {}): Promise<unknown> {
    const { timeout } = limits;
    if (timeout === undefined) return this.rtState.callNodes(options);
    const requestId = options.requestId ?? crypto.randomUUID();
    const result = this.rtState.callNodes({ ...options, requestId });
    let timedOut: GlobalTimeoutError | null = null;
    const disarm = this.arm(timeout, () => {
      timedOut = new GlobalTimeoutError(timeout);
      this.rtState.cancel(requestId, timedOut);
    });
    return result.then((value) => {
      disarm();
      return value;
    }, (error) => {
      disarm();
      if (limits.rethrowTimeout && timedOut && error instanceof RequestCancelledError) {
        throw timedOut;
      }
      throw error;
    });
  }

  /**
   * Arms a timer owned by the session: cleared when the session closes.
   *
   * @param ms The delay.
   * @param fire What to do when it passes.
   * @returns A function that disarms it.
   */
  arm(ms: number, fire: () => void): () => void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fire();
    }, ms);
    this.#timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    };
  }

  /**
   * Saves the snapshot (with `saveState`; nothing otherwise, nor before the
   * first request, nor when nothing changed since the last save).
   *
   * @param status The status to record, when the caller knows better than
   *   the requests (a flow job that failed); `info.status` by default.
   * @throws {RunNotSavedError} If the snapshot could not be written.
   */
  save(status?: ExecutionStatus): Promise<void> {
    if (!this.config.saveState || this.info.requestHeap.size === 0) {
      return this.#saving;
    }
    const recorded = status ?? this.info.status;
    const at = `${this.info.stamper.currentStep}\u0000${recorded}`;
    if (at === this.#savedAt) return this.#saving;
    const { stateDir, runIdentifier } = this.config;
    this.#events?.reconcile();
    const save = this.#saving.catch(() => {}).then(() =>
      saveRunSnapshot(stateDir, runIdentifier, this.info, { status: recorded })
    ).then((path) => {
      this.#savedAt = at;
      this.#events?.markSaved(recorded);
      log.debug("Saved run to {path}", { path });
    }, (error) => {
      // The caller gets the error; one line here.
      log.warn("Could not save run {runId}: {error}", {
        runId: runIdentifier,
        error: describeValue(error, 300),
      });
      throw new RunNotSavedError(runIdentifier, stateDir, { cause: error });
    });
    this.#saving = save;
    return save;
  }

  /**
   * Closes the session: cancels what is still open (with `reason`), shuts
   * the strategies down, saves the final snapshot, waits (at most the
   * drain timeout) for async subscriber work, closes the observers and the
   * event log, and stops the publisher. Later calls return the same promise.
   *
   * @param reason Why open requests are cancelled.
   * @param status The status to save (see {@linkcode RunSession.save}).
   * @throws {RunNotSavedError} If the final snapshot could not be written
   *   (the session is closed all the same).
   */
  close(reason: unknown = new Error("The run closed"), status?: ExecutionStatus): Promise<void> {
    this.#closing ??= this.#close(reason, status);
    return this.#closing;
  }

  async #close(reason: unknown, status: ExecutionStatus | undefined): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    let failure: unknown = null;
    try {
      await this.rtState.shutdown(reason);
      await this.coordinator.shutdown();
      await this.save(status).catch((error) => failure = error);
      await this.#drain();
      for (const observation of this.#observations) {
        try {
          await observation.close?.();
        } catch (error) {
          log.warn("Run observer close threw: {error}", { error });
        }
      }
    } finally {
      this.#events?.close();
      // A run that recorded nothing leaves no files behind.
      if (this.#events && this.info.requestHeap.size === 0) removeQuietly(this.#events.path);
      this.#claim?.release();
      this.publisher.shutdown();
    }
    if (failure !== null) throw failure;
  }

  /** Waits for the subscribers' promises, at most the drain timeout. */
  async #drain(): Promise<void> {
    if (await this.publisher.drain(this.#drainTimeout)) return;
    log.warn("Closed run {runId} with subscriber work still pending after {ms} ms", {
      runId: this.runId,
      ms: this.#drainTimeout,
    });
  }
}
