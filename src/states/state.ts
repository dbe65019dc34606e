/**
 * State: one step an application puts on the {@linkcode StateManager}'s queue.
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import { call } from "../nodes/call.ts";
import { isNode, type Node } from "../core/node.ts";
import { RequestCancelledError } from "../core/errors.ts";
import { Gate } from "./gate.ts";
import { z } from "npm:zod@^4.1.0";
import { describeValue } from "../core/describe.ts";
import { describeIssues } from "../core/validation.ts";
import { outcomeUnlessAborted } from "./_outcome.ts";
import { resolveNode } from "./_state_node.ts";
import { round } from "./_timing.ts";
import type { ArgumentSplit, StateFunction, StateParameters } from "./state_types.ts";

// Type-level only: which function a State runs (no value at run time).
declare const stateFunction: unique symbol;

const log = logger("states");

export type { StateFunction, StateParameters, StateResult } from "./state_types.ts";

/**
 * Options of {@linkcode State}: placement, gate, and the arguments, typed
 * against the function's parameters (`args` fills the leading ones,
 * `lazyArgs` the rest).
 *
 * `args` are fixed when the state is made and passed first; `lazyArgs` are
 * callables evaluated (and awaited, if they return promises) in order when
 * the state starts, after its gate opened; their values are passed after
 * `args`. They read the values of the moment the state starts.
 *
 * @typeParam F The state's function or node.
 */
export type StateOptions<F extends StateFunction = StateFunction> =
  & StatePlacement
  & ArgumentSplit<StateParameters<F>>;

/** Where and when a state runs: the options besides its arguments. */
export interface StatePlacement {
  /**
   * Run in a Web Worker and let the queue move on at once (default `false`:
   * run on the event loop, and the queue waits for the state to end). The
   * function must be a worker node or a self-contained function, which is
   * shipped to the worker as source.
   *
   * @default {false}
   */
  isBlocking?: boolean;
  /**
   * For a blocking state that runs until shutdown (a service): it gets a
   * dedicated worker of its own, outside the shared pool, so it never keeps
   * short blocking states waiting for a worker. Requires `isBlocking`.
   *
   * @default {false}
   */
  longRunning?: boolean;
  /**
   * A gate the state waits for before its lazy args are evaluated.
   *
   * @default {undefined}
   */
  event?: Gate;
}

const optionsSchema = z.object({
  args: z.array(z.unknown()).readonly().optional(),
  lazyArgs: z.array(
    z.custom<() => unknown>((v) => typeof v === "function", "a function"),
  ).readonly().optional(),
  isBlocking: z.boolean().optional(),
  longRunning: z.boolean().optional(),
  event: z.custom<Gate>((v) => v instanceof Gate, "a Gate").optional(),
}).strict();

function hasKeys(value: object): boolean {
  for (const _ in value) return true;
  return false;
}

/** Options of {@linkcode State.enterState}. */
export interface EnterStateOptions {
  /** Stops the wait for the gate and the start of the state when it aborts. */
  signal?: AbortSignal;
  /**
   * Runs the state's node with its final arguments; defaults to `call()`.
   * The {@linkcode StateManager} passes its own, which tracks the state as a
   * top-level request.
   */
  run?: (state: State, args: unknown[]) => Promise<unknown>;
  /**
   * Writes a line about how the state's request ended (completed, failed,
   * cancelled) in that request's context, so that it carries the request's
   * trace and span ids; by default the line is written as is. The
   * {@linkcode StateManager} passes its own.
   */
  inRequest?: (state: State, write: () => void) => void;
}

// Shared by every state made without args or lazy args; never mutated.
const NO_ARGS: readonly never[] = Object.freeze([]);
// The options of every state made without any; never mutated.
const NO_OPTIONS: StateOptions = Object.freeze({});

const defaultRun = (state: State, args: unknown[]): Promise<unknown> => call(state.node, ...args);
const writeNow = (_state: State, write: () => void): void => write();

/** How a state's latest run on a StateManager ended. */
export interface StateOutcome {
  /** Whether it returned (`value` is the result) or threw (`value` is the error). */
  ok: boolean;
  /** The result or the error. */
  value: unknown;
}

/** The StateManager's access to the outcome it keeps on each state (not public API). */
export interface StateOutcomes {
  get(state: State): StateOutcome | undefined;
  set(state: State, ok: boolean, value: unknown): void;
}

let outcomes: StateOutcomes;

/**
 * The accessors of the outcome kept on each state. Kept on the state (two
 * fields, no object per run), not in a WeakMap: a manager draining many
 * short states pays no ephemeron bookkeeping at each collection.
 *
 * @returns The accessors.
 */
export function stateOutcomes(): StateOutcomes {
  return outcomes;
}

/**
 * A named step: a function, its arguments (some evaluated lazily), an
 * optional gate to wait for, and where it runs. Put states on a
 * {@linkcode StateManager}, or run one with {@linkcode State.enterState}.
 *
 * @example A state with a gate and a lazy argument
 * ```ts
 * import { Gate, State } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const ready = new Gate();
 * let port = 0;
 * const serve = new State("Serve", (host: string, p: number) => `${host}:${p}`, {
 *   args: ["127.0.0.1"],
 *   lazyArgs: [() => port],
 *   event: ready,
 * });
 * const running = serve.enterState();
 * port = 8080;
 * ready.set();
 * assert.equal(await running, "127.0.0.1:8080");
 * ```
 */
export class State<F extends StateFunction = StateFunction> {
  /** The function type the state runs (types only; never set). */
  declare readonly [stateFunction]?: F;
  /** The state's name: its request, logs and errors are named after it. */
  readonly name: string;
  // The node, or (for a plain non-blocking function, whose node cannot fail
  // to be made) the function until the node is first read: a queue holding
  // many states keeps one object per state, not three, through collections.
  // deno-lint-ignore no-explicit-any
  #node: Node<any, any> | ((...args: unknown[]) => unknown);
  /** The function's resolved name (the node's, or the function's own). */
  readonly functionName: string;
  /** Arguments fixed when the state was made. */
  readonly args: readonly unknown[];
  /** Callables whose values are appended to `args` when the state starts. */
  readonly lazyArgs: readonly (() => unknown)[];
  /** Whether it runs in a worker while the queue moves on. */
  readonly isBlocking: boolean;
  /** Whether it gets a dedicated worker (a service running until shutdown). */
  readonly longRunning: boolean;
  /** The gate it waits for, if any. */
  readonly event: Gate | undefined;
  // The latest run's outcome: 0 none yet, 1 returned, 2 threw; #value
  // holds the result or the error.
  #ended = 0;
  #value: unknown = undefined;

  static {
    outcomes = {
      get: (state) =>
        state.#ended === 0 ? undefined : { ok: state.#ended === 1, value: state.#value },
      set: (state, ok, value) => {
        state.#ended = ok ? 1 : 2;
        state.#value = value;
      },
    };
  }

  /**
   * Makes a State.
   *
   * @param name The state's name.
   * @param fn A node, or a function (for a blocking state: self-contained).
   * @param options Arguments, lazy arguments, placement and gate.
   * @throws {TypeError} If the name is empty, `fn` is not callable, a lazy
   *   arg is not callable, an option has the wrong type, or a blocking
   *   state's function cannot run in a worker.
   */
  constructor(name: string, fn: F, options: StateOptions<F> = NO_OPTIONS as StateOptions<F>) {
    if (typeof name !== "string" || name.length === 0) {
      throw new TypeError(
        `Cannot create a state as 'name' must be a non-empty string: current value is ${
          describeValue(name)
        }`,
      );
    }
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new TypeError(
        `Cannot create state '${name}' as 'options' must be an object: current value is ${
          describeValue(options)
        }`,
      );
    }
    // Most states are made without options: skip the parse for them.
    if (hasKeys(options)) {
      const parsed = optionsSchema.safeParse(options);
      if (!parsed.success) {
        throw new TypeError(
          `Cannot create state '${name}' as ${describeIssues(parsed.error, options)}`,
        );
      }
    }
    const { args = NO_ARGS, lazyArgs = NO_ARGS, isBlocking = false } = options;
    const { longRunning = false, event } = options;
    if (longRunning && !isBlocking) {
      throw new TypeError(
        `Cannot create state '${name}' as 'isBlocking' must be true for a long-running state: current value is false`,
      );
    }
    this.name = name;
    this.#node = !isBlocking && typeof fn === "function"
      ? fn as (...args: unknown[]) => unknown
      : resolveNode(name, fn, isBlocking);
    this.functionName = isNode(fn) ? fn.name : fn.name || "anonymous";
    this.args = args;
    // The schema checked it: an array of functions.
    this.lazyArgs = lazyArgs as readonly (() => unknown)[];
    this.isBlocking = isBlocking;
    this.longRunning = longRunning;
    this.event = event;
  }

  /**
   * The node that runs the function: the given node, or one made from the
   * given function (named after the state when non-blocking, a
   * self-contained worker node when blocking). The same node at every read.
   */
  // deno-lint-ignore no-explicit-any
  get node(): Node<any, any> {
    const held = this.#node;
    if (typeof held !== "function") return held;
    return this.#node = resolveNode(this.name, held, false);
  }

  /**
   * Runs the state: waits for its gate (if any), then evaluates its lazy
   * args, then runs its node with `[...args, ...lazyValues]`. Each
   * transition is logged with the state's name, the function's name and
   * `performance.now()` timings.
   *
   * @param options A signal to stop waiting, and how to run the node.
   * @returns What the function returned.
   * @throws `signal.reason` if the signal aborts before the state started.
   * @throws {Error} Naming the state and the index if a lazy arg throws
   *   (the original error is the `cause`).
   * @throws What the function threw; `RequestCancelledError` if cancelled.
   */
  enterState(options: EnterStateOptions = {}): Promise<unknown> {
    const { signal, run = defaultRun, inRequest = writeNow } = options;
    if (this.event === undefined && this.lazyArgs.length === 0) {
      // Nothing to wait for: start in this turn of the event loop.
      if (signal?.aborted) {
        this.#log("warning", "cancelled before it started", performance.now());
        return Promise.reject(signal.reason);
      }
      return this.#start(run, inRequest, this.args as unknown[], -1);
    }
    return this.#enterAfterGate(signal, run, inRequest);
  }

  async #enterAfterGate(
    signal: AbortSignal | undefined,
    run: NonNullable<EnterStateOptions["run"]>,
    inRequest: NonNullable<EnterStateOptions["inRequest"]>,
  ): Promise<unknown> {
    const entered = performance.now();
    let args = this.args as unknown[];
    try {
      if (this.event && !this.event.isSet) {
        this.#log("info", "waiting for its gate", entered);
        await this.event.wait(signal);
      }
      if (this.lazyArgs.length > 0) {
        signal?.throwIfAborted();
        this.#log("debug", "evaluating its lazy args", entered);
        args = [...args, ...await this.#evaluateLazyArgs(signal)];
      }
      signal?.throwIfAborted();
    } catch (error) {
      if (signal?.aborted && error === signal.reason) {
        this.#log(
          "warning",
          "cancelled before it started",
          entered,
          reasonOf(error),
        );
      } else {
        this.#log("error", "failed before it started", entered, error);
      }
      throw error;
    }
    return await this.#start(run, inRequest, args, entered);
  }

  /** Runs the node; `entered` is when the state was entered (-1: just now). */
  #start(
    run: NonNullable<EnterStateOptions["run"]>,
    inRequest: NonNullable<EnterStateOptions["inRequest"]>,
    args: unknown[],
    entered: number,
  ): Promise<unknown> {
    let result: Promise<unknown>;
    // Every line from here on is at level "error" or below it: when even
    // errors are not logged, skip the bookkeeping (the common fast path).
    if (!log.isEnabledFor("error")) {
      try {
        return run(this, args);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const started = performance.now();
    this.#log("info", "started", entered < 0 ? started : entered);
    try {
      result = run(this, args);
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.then((value) => {
      inRequest(this, () => this.#log("info", "completed", started));
      return value;
    }, (error) => {
      inRequest(this, () => {
        if (error instanceof RequestCancelledError) {
          this.#log("warning", "cancelled", started, reasonOf(error));
        } else {
          this.#log("error", "failed", started, error);
        }
      });
      throw error;
    });
  }

  async #evaluateLazyArgs(signal?: AbortSignal): Promise<unknown[]> {
    const values: unknown[] = [];
    for (let i = 0; i < this.lazyArgs.length; i++) {
      let value: unknown;
      try {
        value = this.lazyArgs[i]();
      } catch (error) {
        throw lazyArgError(this.name, i, error);
      }
      if (typeof (value as PromiseLike<unknown>)?.then === "function") {
        // A stop does not wait for a lazy arg that never settles.
        const outcome = await outcomeUnlessAborted(
          value as PromiseLike<unknown>,
          signal,
        );
        if (!outcome.ok) throw lazyArgError(this.name, i, outcome.error);
        value = outcome.value;
      }
      values.push(value);
    }
    return values;
  }

  #log(
    level: "debug" | "info" | "warning" | "error",
    transition: string,
    since: number,
    error?: unknown,
  ): void {
    if (!log.isEnabledFor(level)) return;
    const at = performance.now();
    const suffix = error === undefined ? "" : ": {error}";
    // The function's name only when it says more than the state's name.
    const fn = this.functionName === "anonymous" || this.functionName === this.name
      ? ""
      : " ({fn})";
    log[level](
      `State {state}${fn} ${transition} at {at} ms (+{ms} ms)${suffix}`,
      {
        state: this.name,
        fn: this.functionName,
        at: round(at),
        ms: round(at - since),
        // One line at the usual levels; the whole error (stack, causes) in debug.
        error: error === undefined ? undefined : describeValue(error, 300),
      },
    );
    if (error instanceof Error && level !== "debug" && log.isEnabledFor("debug")) {
      log.debug("State {state} error in full: {error}", {
        state: this.name,
        fn: this.functionName,
        error,
      });
    }
  }
}

function lazyArgError(state: string, index: number, error: unknown): Error {
  return new Error(
    `Cannot start state '${state}' as 'lazyArgs[${index}]' threw: ${
      error instanceof Error ? error.message : String(error)
    }`,
    { cause: error },
  );
}

/** A cancellation's message: its stack says nothing useful. */
function reasonOf(error: unknown): unknown {
  return error instanceof Error ? error.message : error;
}
