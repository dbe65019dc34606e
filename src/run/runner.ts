/**
 * The Runner: runs nodes and keeps the story of every run.
 *
 * @module
 */
import type { Coordinator } from "../execution/coordinator.ts";
import { logger } from "../core/logging.ts";
import type { Node } from "../core/node.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import type { RTState } from "../execution/rt_state.ts";
import {
  type ExecutorConfig,
  type ExecutorConfigInput,
  parseExecutorConfig,
} from "../execution/config.ts";
import { describeValue } from "../core/describe.ts";
import { RunSession } from "./run_session.ts";
import { RunNotSavedError } from "./errors.ts";

const log = logger("runner");

/** How long shutdown waits for async subscriber work still in flight. */

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
 * const first = await runner.run(square, 3);
 * const info = await runner.run(square, 4);
 * assert.equal(first.answer, 9);
 * assert.equal(info.answer, 16);
 * assert.deepEqual(runner.info.answer, [9, 16]);
 * ```
 */
export class Runner {
  /** The validated configuration. */
  readonly config: ExecutorConfig;
  // Everything a run needs (publisher, coordinator, RTState, event log,
  // saves, timeouts) is the session's; the runner only runs and reports.
  readonly #session: RunSession;
  #shutdown: Promise<void> | null = null;

  /**
   * Makes a Runner.
   *
   * @param config The configuration (see {@linkcode ExecutorConfig}).
   * @param context The initial run context, read by nodes with `getContext`.
   * @throws {TypeError} Naming the field and value of an invalid setting,
   *   or a `logFile` that cannot be appended to.
   * @throws {RunIdInUseError} With `saveState`, if `runIdentifier` names a
   *   saved or running run in `stateDir`.
   * @throws {RunNotSavedError} With `saveState`, if `stateDir` cannot be
   *   written.
   */
  constructor(
    config: ExecutorConfigInput = {},
    context: Record<string, unknown> = {},
  ) {
    this.config = parseExecutorConfig(config, "Runner");
    if (typeof context !== "object" || context === null) {
      throw new TypeError(
        `Cannot create a Runner as 'context' must be an object: current value is ${
          describeValue(context)
        }`,
      );
    }
    this.#session = new RunSession(this.config, {
      kind: "runner",
      made: "Runner",
      logging: config.loggingSetting !== undefined || config.logFile !== undefined
        ? "explicit"
        : "default",
    });
    for (const [key, value] of Object.entries(context)) {
      this.#session.rtState.context.set(key, value);
    }
  }

  /** Everything recorded so far, also while a run goes on. */
  get info(): ExecutionInfo {
    return this.#session.info;
  }

  /** The runtime state, for cancelling requests and reading sub-forests. */
  get rtState(): RTState {
    return this.#session.rtState;
  }

  /** The publisher every runtime message goes through. */
  get publisher(): RTPublisher {
    return this.#session.publisher;
  }

  /** The coordinator that runs the tasks. */
  get coordinator(): Coordinator {
    return this.#session.coordinator;
  }

  /** The session that wires this runner's runs (for extensions). */
  get session(): RunSession {
    return this.#session;
  }

  /**
   * Runs a node as a new top-level request.
   *
   * With `saveState`, the snapshot is saved when the run ends, whether it
   * completed or failed; if it cannot be written, `run()` rejects with a
   * {@linkcode RunNotSavedError} (its `runError` holds what the run threw,
   * if it failed too), and the record is still in {@linkcode Runner.info}.
   *
   * @param startNode The node.
   * @param args Its arguments.
   * @returns The ExecutionInfo of this run alone (its `answer` is what the
   *   node returned), once the node has returned; {@linkcode Runner.info}
   *   keeps every run.
   * @throws {GlobalTimeoutError} If the run passes `config.timeout`.
   * @throws {RunNotSavedError} With `saveState`, if the run's record could
   *   not be written.
   * @throws What the node threw (or, with `endOnError`, the first failure).
   */
  async run<A extends unknown[], R>(
    startNode: Node<A, R>,
    ...args: A
  ): Promise<ExecutionInfo<R>> {
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
    let failure: { error: unknown } | null = null;
    try {
      await this.#session.request(
        { parentNodeId: null, requestId, node: startNode, args },
        { timeout: this.config.timeout, rethrowTimeout: true },
      );
      log.info("Run of {node} completed in {ms} ms", {
        node: startNode.name,
        ms: Number((performance.now() - started).toFixed(3)),
      });
    } catch (error) {
      // The caller gets the error: one line here, the stack only in debug.
      log.info("Run of {node} failed after {ms} ms: {error}", {
        node: startNode?.name,
        ms: Number((performance.now() - started).toFixed(3)),
        error: describeValue(error, 300),
      });
      log.debug("Run of {node} failed with {error}", { node: startNode?.name, error });
      failure = { error };
    }
    await this.#session.save().catch((error: RunNotSavedError) => {
      throw new RunNotSavedError(error.runId, error.stateDir, {
        cause: error.cause,
        runError: failure?.error,
      });
    });
    if (failure) throw failure.error;
    return this.#session.info.runInfo<R>(requestId);
  }

  /**
   * Cancels whatever is still running, shuts the strategies down, saves
   * the final snapshot and waits (a bounded time) for async subscriber
   * work. Safe to call more than once.
   *
   * @throws {RunNotSavedError} With `saveState`, if the final snapshot
   *   could not be written.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#session.close(new Error("The runner shut down"));
    return this.#shutdown;
  }

  /** Same as {@linkcode Runner.shutdown}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
