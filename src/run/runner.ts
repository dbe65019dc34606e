/**
 * The Runner: runs nodes and keeps the story of every run.
 *
 * @module
 */
import { Coordinator } from "../execution/coordinator.ts";
import { defaultStrategies } from "../execution/strategies.ts";
// Registers the "remote" mode's strategy (BullMQ loads only when used).
import "../remote/remote_strategy.ts";
import { applyLoggingSetting, logger } from "../core/logging.ts";
import { describeValue } from "../core/describe.ts";
import type { Node } from "../core/node.ts";
import { EventLogWriter } from "../persistence/event_log.ts";
import { saveRunSnapshot } from "../persistence/run_store.ts";
import { RTPublisher } from "../pubsub/publisher.ts";
import { ExecutionInfo } from "../state/execution_info.ts";
import { RTState } from "../execution/rt_state.ts";
import {
  type ExecutorConfig,
  type ExecutorConfigInput,
  parseExecutorConfig,
} from "../execution/config.ts";
import { GlobalTimeoutError, RequestCancelledError } from "../core/errors.ts";

const log = logger("runner");

/**
 * Runs nodes and records every request they make. A runner may run several
 * times; each run is one more top-level request of {@linkcode Runner.info}.
 * Dispose it with `await using` or {@linkcode Runner.shutdown}.
 *
 * @example Running, then reading the story
 * ```ts
 * import { call, node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const square = node(async (x: number) => x * x, { name: "square" });
 * await using runner = new Runner({ timeout: 30_000 });
 * await runner.run(square, 3);
 * const info = await runner.run(square, 4);
 * assert.deepEqual(info.answer, [9, 16]);
 * ```
 */
export class Runner {
  /** The validated configuration. */
  readonly config: ExecutorConfig;
  readonly #info: ExecutionInfo = ExecutionInfo.createNew();
  readonly #publisher: RTPublisher = new RTPublisher();
  readonly #coordinator: Coordinator;
  readonly #rt: RTState;
  #shutdown: Promise<void> | null = null;
  #saving: Promise<void> = Promise.resolve();
  readonly #events: EventLogWriter | null = null;
  // The stamp step at the last save: nothing to save again while unchanged.
  #savedStep = -1;

  /**

   * Makes a Runner.

   *
   * @param config The configuration (see {@linkcode ExecutorConfig}).
   * @param context The initial run context, read by nodes with `getContext`.
   * @throws {TypeError} Naming the field and value of an invalid setting.
   */
  constructor(
    config: ExecutorConfigInput = {},
    context: Record<string, unknown> = {},
  ) {
    this.config = parseExecutorConfig(config);
    if (typeof context !== "object" || context === null) {
      throw new TypeError(
        `Cannot create a Runner as 'context' must be an object: current value is ${
          String(context)
        }`,
      );
    }
    applyLoggingSetting(
      this.config.loggingSetting,
      this.config.logFile,
      config.loggingSetting !== undefined || config.logFile !== undefined,
    );
    this.#publisher.start();
    this.#coordinator = new Coordinator(defaultStrategies(this.config));
    this.#coordinator.start(this.#publisher);
    this.#rt = new RTState(
      this.#info,
      this.config,
      this.#coordinator,
      this.#publisher,
    );
    for (const [key, value] of Object.entries(context)) {
      this.#rt.context.set(key, value);
    }
    if (this.config.saveState) {
      const events = new EventLogWriter(
        this.config.stateDir,
        this.config.runIdentifier,
        this.#info,
      );
      this.#publisher.subscribe((m) => events.handle(m), "event-log");
      this.#events = events;
    }
    if (this.config.subscriber) {
      this.#publisher.subscribe(this.config.subscriber, "config.subscriber");
    }
  }

  /** Everything recorded so far, also while a run goes on. */
  get info(): ExecutionInfo {
    return this.#info;
  }

  /** The runtime state, for cancelling requests and reading sub-forests. */
  get rtState(): RTState {
    return this.#rt;
  }

  /** The publisher every runtime message goes through. */
  get publisher(): RTPublisher {
    return this.#publisher;
  }

  /** The coordinator that runs the tasks. */
  get coordinator(): Coordinator {
    return this.#coordinator;
  }

  /**
   * Runs a node as a new top-level request.
   *
   * @param startNode The node.
   * @param args Its arguments.
   * @returns {@linkcode Runner.info}, once the node has returned.
   * @throws {GlobalTimeoutError} If the run passes `config.timeout`.
   * @throws What the node threw (or, with `endOnError`, the first failure).
   */
  async run<A extends unknown[], R>(
    startNode: Node<A, R>,
    ...args: A
  ): Promise<ExecutionInfo> {
    if (this.#shutdown) {
      throw new Error(
        `Cannot run node '${startNode?.name}' as the runner has shut down`,
      );
    }
    const requestId = crypto.randomUUID();
    const started = performance.now();
    // The run id is what `switchyard inspect` takes; the request id names this call in it.
    log.info("Run of {node} started (run {runId}, request {requestId})", {
      node: startNode?.name,
      runId: this.config.runIdentifier,
      requestId,
    });
    const { timeout } = this.config;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut: GlobalTimeoutError | null = null;
    try {
      const result = this.#rt.callNodes({
        parentNodeId: null,
        requestId,
        node: startNode,
        args,
      });
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          timedOut = new GlobalTimeoutError(timeout);
          this.#rt.cancel(requestId, timedOut);
        }, timeout);
      }
      await result;
      log.info("Run of {node} completed in {ms} ms", {
        node: startNode.name,
        ms: Number((performance.now() - started).toFixed(3)),
      });
      return this.#info;
    } catch (error) {
      const thrown = timedOut && error instanceof RequestCancelledError ? timedOut : error;
      // The caller gets the error: one line here, the stack only in debug.
      log.info("Run of {node} failed after {ms} ms: {error}", {
        node: startNode?.name,
        ms: Number((performance.now() - started).toFixed(3)),
        error: describeValue(thrown, 300),
      });
      log.debug("Run of {node} failed with {error}", { node: startNode?.name, error: thrown });
      throw thrown;
    } finally {
      clearTimeout(timer);
      await this.#save();
    }
  }

  /** Saves a snapshot when `saveState` is on; a failure is logged, not thrown. */
  #save(): Promise<void> {
    if (!this.config.saveState || this.#info.requestHeap.size === 0) {
      return Promise.resolve();
    }
    if (this.#info.stamper.currentStep === this.#savedStep) return this.#saving;
    this.#savedStep = this.#info.stamper.currentStep;
    this.#events?.reconcile();
    this.#saving = this.#saving.then(() =>
      saveRunSnapshot(
        this.config.stateDir,
        this.config.runIdentifier,
        this.#info,
      ).then(
        (path) => {
          this.#events?.markSaved(this.#info.status);
          log.debug("Saved run to {path}", { path });
        },
        (error) =>
          log.error("Could not save run {runId}: {error}", {
            runId: this.config.runIdentifier,
            error,
          }),
      )
    );
    return this.#saving;
  }

  /**
   * Cancels whatever is still running, shuts the strategies down and saves
   * the final snapshot. Safe to call more than once.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      await this.#rt.shutdown(new Error("The runner shut down"));
      await this.#coordinator.shutdown();
      await this.#save();
      this.#events?.close();
      this.#publisher.shutdown();
    })();
    return this.#shutdown;
  }

  /** Same as {@linkcode Runner.shutdown}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
