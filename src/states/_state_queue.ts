/**
 * The StateManager's queue loop: takes states from the queue in order,
 * starts each as a top-level request of the run session, awaits the
 * non-blocking ones, keeps track of what runs, and answers `onIdle()` and
 * `resultOf()`.
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import { Node } from "../core/node.ts";
import { RequestCancelledError } from "../core/errors.ts";
import { scopeStorage } from "../execution/scope.ts";
import type { Task, TaskTrace } from "../execution/task.ts";
import type { RunSession } from "../run/run_session.ts";
import type { Stamp } from "../state/stamp.ts";
import { StateFailedError } from "./errors.ts";
import { Fifo } from "./_fifo.ts";
import { observeStateQueue } from "../execution/load_gauges.ts";
import { LONG_RUNNING_MODE } from "./_modes.ts";
import { type State, stateOutcomes } from "./state.ts";
import { round } from "./_timing.ts";

const log = logger("states");

const outcomes = stateOutcomes();

/** A state whose request was created and has not settled. */
export interface ActiveEntry {
  readonly state: State;
  /**
   * The row of its top-level request in the run's request forest; `-1` when
   * the runtime refused to create it. Rows are numbered in creation order.
   * (A row, not an id: the runtime builds its ids only when read, and an id
   * given to it would cost a map entry per state.)
   */
  row: number;
  /**
   * The id of the request whose task doing the work settles last when it
   * is not the state's own request: the worker call of a blocking state, or
   * the call to a node named otherwise than the state; `null` otherwise.
   */
  readonly workRequestId: string | null;
}

/** What the queue needs from its manager. */
export interface StateQueueOptions {
  /** Cancels a state's request after this many ms (not a long-running one's). */
  timeout: number | undefined;
  /** Stop at the first failed state. */
  endOnError: boolean;
  /**
   * Warn when a non-blocking state has waited this long at its gate while
   * states are queued behind it; `0` never warns.
   */
  stalledGateWarning: number;
  /** Called once, with the failure, when `endOnError` asks to stop. */
  onFatal: () => void;
}

/**
 * The queue loop of one StateManager.
 */
export class StateQueue {
  readonly #session: RunSession;
  readonly #options: StateQueueOptions;
  readonly #queue: Fifo<State> = new Fifo();
  // Removes the queue from the `switchyard.states.queued` gauge (once stopped).
  readonly #unobserve: () => void = observeStateQueue(() => this.#queue.size);
  // Invariant: #active holds exactly the blocking states whose request was
  // created and has not settled, in start order (a Set keeps insertion order);
  // the running non-blocking state, if any, is #current.
  readonly #active: Set<ActiveEntry> = new Set();
  // Aborts once stopping starts: states waiting at a gate or evaluating lazy
  // args give up, and none starts afterwards.
  readonly #stopController: AbortController = new AbortController();
  #wake: (() => void) | null = null;
  // The non-blocking state the queue awaits, once it started.
  #current: ActiveEntry | null = null;
  #failure: StateFailedError | null = null;
  // Invariant: #inProgress counts the states taken from the queue whose
  // enterState() has not settled (waiting at a gate, evaluating lazy args or
  // running); the queue is idle when it is 0 and the queue is empty.
  #inProgress = 0;
  // The span of each state's latest request, when its run is traced: the
  // lines about how that request ended are written with it active.
  readonly #traces = new WeakMap<State, TaskTrace>();
  #stopped: unknown = undefined;
  #isStopped = false;
  #idleWaiters: (() => void)[] = [];
  // The resultOf() promises of states that have not ended yet (settled when
  // they end, or at stop); the outcome of each state's latest run is kept
  // on the state (stateOutcomes()).
  readonly #asked: Map<State, PromiseWithResolvers<unknown>> = new Map();

  /**
   * Makes the queue of a manager.
   *
   * @param session The run session states run in.
   * @param options Limits and the stop callback.
   */
  constructor(session: RunSession, options: StateQueueOptions) {
    this.#session = session;
    this.#options = options;
  }

  /** How many states are queued and not started. */
  get size(): number {
    return this.#queue.size;
  }

  /** The first failure that stopped the manager with `endOnError`. */
  get failure(): StateFailedError | null {
    return this.#failure;
  }

  /** Whether stopping started (no state starts any more). */
  get isAborted(): boolean {
    return this.#stopController.signal.aborted;
  }

  /**
   * Puts states at the end of the queue and wakes the loop. The queue may
   * keep `states` as its storage: the caller hands the array over.
   */
  enqueue(states: State[]): void {
    if (log.isEnabledFor("debug")) {
      for (const state of states) {
        log.debug("State {state} ({fn}) queued at {at} ms", {
          state: state.name,
          fn: state.functionName,
          at: round(performance.now()),
        });
      }
    }
    this.#queue.pushAll(states);
    this.#wakeLoop();
  }

  /** Drains the queue until stopping starts. */
  async drain(): Promise<void> {
    const signal = this.#stopController.signal;
    const options = { signal, run: this.#run, inRequest: this.#inRequest };
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
      const unwatch = this.#watchGate(state);
      try {
        this.#settle(state, true, await state.enterState(options));
      } catch (error) {
        this.#onFailure(state, error);
      }
      unwatch();
      this.#current = null;
      this.#leave();
    }
  }

  /**
   * Stopping starts: drops the queued states (returned) and aborts the
   * waits at gates and lazy args.
   */
  abort(reason: unknown): State[] {
    const dropped = this.#queue.drain();
    this.#stopController.abort(reason);
    this.#checkIdle();
    this.#wakeLoop();
    return dropped;
  }

  /** Stopping ended: `resultOf()` of what never ran rejects with `reason`. */
  markStopped(reason: unknown): void {
    this.#isStopped = true;
    this.#unobserve();
    this.#stopped = reason;
    for (const [state, asked] of this.#asked) {
      this.#asked.delete(state);
      asked.reject(reason);
    }
    this.#checkIdle();
  }

  /** Resolves when idle, or once stopping started. */
  onIdle(): Promise<void> {
    if (this.#isIdle() || this.isAborted) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** The latest or next outcome of a state (see `StateManager.resultOf`). */
  resultOf(state: State): Promise<unknown> {
    const outcome = outcomes.get(state);
    if (outcome) return outcome.ok ? Promise.resolve(outcome.value) : Promise.reject(outcome.value);
    if (this.#isStopped) {
      return Promise.reject(
        new Error(
          `Cannot get the result of state '${state.name}' as it did not run before the state manager stopped`,
          { cause: this.#stopped },
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

  /** Every running state, in start order. */
  running(): ActiveEntry[] {
    const running = [...this.#active.values()];
    if (this.#current) running.push(this.#current);
    // A request the runtime refused (it had shut down) was never created.
    return running.filter((a) => a.row >= 0).sort((a, b) => a.row - b.row);
  }

  /** The id of a running state's top-level request. */
  requestIdOf(active: ActiveEntry): string {
    return this.#session.info.requestHeap.idOf(active.row);
  }

  /** The creation stamp of a running state's top-level request. */
  creationStamp(active: ActiveEntry): Stamp {
    return this.#session.info.requestHeap.createdStamp(active.row);
  }

  #wakeLoop(): void {
    const wake = this.#wake;
    if (wake) {
      this.#wake = null;
      wake();
    }
  }

  /**
   * Warns once if a non-blocking state still waits at its gate after
   * `stalledGateWarning` ms while states are queued behind it: the queue
   * cannot reach them, so if one of them is what sets the gate, nothing
   * ever will. Returns the disarm function.
   */
  #watchGate(state: State): () => void {
    const gate = state.event;
    const after = this.#options.stalledGateWarning;
    if (!gate || gate.isSet || after === 0) return noop;
    return this.#session.arm(after, () => {
      if (gate.isSet || this.#current?.state === state || this.isAborted) return;
      const behind = this.#queue.size;
      log.warn(
        "State {state} has waited {ms} ms at its gate {gate} and {behind} queued states behind it cannot start until it does; if one of them sets the gate, the queue is stuck (make the waiting state blocking, or queue the state that sets the gate first)",
        { state: state.name, gate: gate.name || "(unnamed)", ms: after, behind },
      );
    });
  }

  #settle(state: State, ok: boolean, value: unknown): void {
    outcomes.set(state, ok, value);
    if (this.#asked.size === 0) return;
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
    if (!this.#isIdle() && !this.isAborted) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #onFailure(state: State, error: unknown): void {
    this.#settle(state, false, error);
    const signal = this.#stopController.signal;
    if (signal.aborted && error === signal.reason) return;
    if (error instanceof RequestCancelledError && error.cause === signal.reason) return;
    if (this.#options.endOnError && this.#failure === null) {
      this.#failure = new StateFailedError(state.name, { cause: error });
      this.#options.onFatal();
    }
  }

  /** Writes a line about a state's latest request in that request's span. */
  #inRequest = (state: State, write: () => void): void => {
    const trace = this.#traces.get(state);
    if (trace === undefined) write();
    else trace.run(write);
  };

  /** Starts a state as a top-level request (the `run` of `enterState`). */
  #run = (state: State, args: unknown[]): Promise<unknown> => {
    const rt = this.#session.rtState;
    const heap = this.#session.info.requestHeap;
    let node = state.node;
    let workRequestId: string | null = null;
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
        rt.callNodes({
          parentNodeId: scopeStorage.getStore()!.nodeId,
          requestId: workId,
          node: state.node,
          args: workArgs,
          mode,
        }), { name: state.name });
    }
    // The runtime opens the request synchronously, in the next row; the
    // entry is in place before the node starts.
    const active: ActiveEntry = { state, row: heap.rowCount, workRequestId };
    if (state.isBlocking) this.#active.add(active);
    else this.#current = active;
    const timeout = state.longRunning ? undefined : this.#options.timeout;
    const result = timeout === undefined
      ? rt.callNodes({ parentNodeId: null, node, args, nodeType: "state" })
      : this.#session.request(
        { parentNodeId: null, node, args, nodeType: "state" },
        { timeout },
      );
    // Refused (the runtime shut down): no row was opened for it.
    if (heap.rowCount <= active.row) active.row = -1;
    // The request was created (and its task submitted) in the call above.
    // Only a traced session's tasks carry a span: an untraced one skips the
    // lookup (an id built and two maps probed, per state).
    if (this.#session.isTraced) {
      const job = active.row < 0
        ? undefined
        : this.#session.coordinator.state.getJob(heap.idOf(active.row)) as Task | undefined;
      if (job?.trace !== undefined) this.#traces.set(state, job.trace);
      else this.#traces.delete(state);
    }
    // A non-blocking state stops being #current in drain(), without a promise.
    if (state.isBlocking) {
      const ended = () => this.#active.delete(active);
      result.then(ended, ended);
    }
    return result;
  };
}

function noop(): void {}
