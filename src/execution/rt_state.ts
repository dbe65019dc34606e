/**
 * RTState: the runtime's bookkeeping. It turns calls into tracked requests,
 * hands them to the coordinator and records how each one ends.
 *
 * @module
 */
import type { Coordinator } from "./coordinator.ts";
import { describeValue } from "../core/describe.ts";
import { logger } from "../core/logging.ts";
import { type AnyNode, isNode, type Node } from "../core/node.ts";
import { type ScopeOwner, TaskScope } from "./scope.ts";
import {
  BroadcastEvent,
  RequestCreation,
  RequestCreationFailure,
  type RuntimeMessage,
} from "../pubsub/messages.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import type { ExecutorConfig } from "./config.ts";
import { NodeTimeoutError, RequestCancelledError, UnknownParentError } from "../core/errors.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import type { RequestForest, RequestStatus } from "../state/request_forest.ts";
import { CancelTree } from "./_cancel_tree.ts";
import { callAfterCancel, refusedCall } from "./_call_refusals.ts";

const log = logger("runtime");

/** What {@linkcode RTState.callNodes} needs. */
export interface CallNodesOptions {
  /** The calling node instance, `null` for a top-level request. */
  parentNodeId: string | null;
  /** The new request's id; one built from the run's id prefix and a number when omitted. */
  requestId?: string;
  /** The node to run. */
  node: AnyNode;
  /** Its arguments. */
  args: unknown[];
  /** The node type recorded for it; defaults to the node's mode. */
  nodeType?: string;
  /**
   * The coordinator mode its task is submitted to; defaults to the node's
   * mode. Lets a caller route a worker node to another registered strategy
   * (e.g. a dedicated worker).
   */
  mode?: string;
  /** Which attempt at the work this request is (recorded on its span); default 1. */
  attempt?: number;
}

/**
 * Told of each request record as it is written, synchronously: a request's
 * `opened` call comes before its task is submitted, its `ended` call before
 * its caller's promise settles. For what must keep pace with the record (a
 * saved run's event log written event by event); it must not throw.
 */
export interface RecordListener {
  /**
   * A request was recorded as open.
   *
   * @param row Its row in the request forest.
   */
  opened(row: number): void;
  /**
   * A request was recorded as ended (completed, failed or cancelled).
   *
   * @param row Its row in the request forest.
   */
  ended(row: number): void;
}

/**
 * The runtime state of a run: creates a tracked request for every call,
 * submits its task, and records its end (completed, failed, cancelled) in
 * the {@linkcode ExecutionInfo}, with exactly two stamps per request.
 * Inside, requests are rows of the request forest and a running request is
 * one {@linkcode TaskScope} (task, scope and coordinator job at once); ids
 * are built only when someone reads them. A request is created in
 * `#create` and finished in `#finish`, and nowhere else.
 *
 * @example Driving RTState by hand
 * ```ts
 * import { AsyncExecutionStrategy, Coordinator, RTPublisher, RTState } from "@switchyard/core/engine";
 * import { ExecutionInfo, node, parseExecutorConfig } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const publisher = new RTPublisher();
 * publisher.start();
 * const coordinator = new Coordinator({ async: new AsyncExecutionStrategy() });
 * coordinator.start(publisher);
 * const rt = new RTState(ExecutionInfo.createNew(), parseExecutorConfig(), coordinator, publisher);
 * const answer = await rt.callNodes({ parentNodeId: null, node: node(async () => 42, { name: "answer" }), args: [] });
 * assert.equal(answer, 42);
 * assert.equal(rt.info.status, "Completed");
 * await rt.shutdown();
 * await coordinator.shutdown();
 * publisher.shutdown();
 * ```
 */
export class RTState {
  /** The run context, readable and writable from nodes. */
  readonly context: Map<string, unknown> = new Map();
  // What running nodes reach through their scope: calls, broadcasts, context.
  readonly #owner: ScopeOwner = {
    callFromScope: (scope, target, args) => this.#callFromScope(scope, target, args),
    broadcastFromScope: (scope, item) => this.#broadcastFromScope(scope, item),
    settle: (scope, ok, value) => {
      this.#settle(scope, ok, value);
      this.#coordinator.finished(scope, scope, ok, value);
    },
    requestIdOf: (row) => this.#info.requestHeap.idOf(row),
    nodeIdOf: (row) => this.#info.requestHeap.nodeIdOf(row),
    timeOf: (row, end) => this.#info.requestHeap.timeOf(row, end),
    context: this.context,
  };
  readonly #info: ExecutionInfo;
  readonly #requests: RequestForest;
  readonly #config: ExecutorConfig;
  readonly #coordinator: Coordinator;
  readonly #publisher: RTPublisher;
  // Invariant: #scopes[row] is the scope of every request whose newest
  // version is "Open" (and undefined for every other row); #pending counts
  // them.
  readonly #scopes: (TaskScope | undefined)[] = [];
  #pending = 0;
  // Cancels subtrees of #scopes; ends requests only through #finish.
  readonly #tree: CancelTree;
  readonly #subscription: string;
  readonly #recorded: RecordListener | null;
  #closed = false;

  /**
   * Makes an RTState.
   *
   * @param executionInfo Where requests are recorded.
   * @param executorConfig The run's configuration.
   * @param coordinator Runs the tasks; must be started on `publisher`.
   * @param publisher Carries the messages; must be running.
   * @param recorded Told of each record as it is written, if given.
   */
  constructor(
    executionInfo: ExecutionInfo,
    executorConfig: ExecutorConfig,
    coordinator: Coordinator,
    publisher: RTPublisher,
    recorded: RecordListener | null = null,
  ) {
    this.#info = executionInfo;
    this.#recorded = recorded;
    this.#requests = executionInfo.requestHeap;
    this.#config = executorConfig;
    this.#coordinator = coordinator;
    this.#publisher = publisher;
    this.#tree = new CancelTree(
      this.#scopes,
      this.#requests,
      coordinator,
      publisher,
      (scope, status, output) => this.#finish(scope, status, output),
    );
    // Outcomes reach the runtime from its tasks directly; the subscription
    // only takes messages others publish, so it does not count as listening.
    this.#subscription = publisher.subscribe((m) => this.handle(m), "rt-state", {
      topics: ["success", "failure"],
      passive: true,
    });
    coordinator.state.addSource({
      find: (requestId) => {
        const row = this.#requests.rowOf(requestId);
        return row < 0 ? undefined : this.#scopes[row];
      },
      openJobs: () => this.#scopes.filter((scope) => scope !== undefined),
    });
  }

  /** Everything recorded so far. */
  get info(): ExecutionInfo {
    return this.#info;
  }

  /** How many requests are open. */
  get openCount(): number {
    return this.#pending;
  }

  /**
   * The sub-forest below some requests.
   *
   * @param requestIds One or several request ids.
   * @returns A new ExecutionInfo.
   * @throws {RangeError} If an id is unknown.
   */
  getInfo(requestIds: string | readonly string[]): ExecutionInfo {
    return this.#info.getInfo(requestIds);
  }

  /**
   * Records the outcome a completion message carries.
   *
   * @param message Any runtime message; others are ignored.
   */
  handle(message: RuntimeMessage): void {
    if (message.kind !== "success" && message.kind !== "failure") return;
    const row = this.#requests.rowOf(message.requestId);
    const scope = row < 0 ? undefined : this.#scopes[row];
    if (scope === undefined) return;
    if (message.kind === "success") this.#settle(scope, true, message.result);
    else this.#settle(scope, false, message.error);
  }

  #settle(scope: TaskScope, ok: boolean, value: unknown): void {
    if (this.#scopes[scope.row] !== scope) return;
    if (ok) {
      this.#finish(scope, "Completed", value);
      return;
    }
    // A node asked to stop that ended by the stop was cancelled, not failed.
    if (scope.endedByStop(value)) {
      const reason = scope.signal.reason;
      this.#finish(
        scope,
        "Cancelled",
        value instanceof RequestCancelledError
          ? value
          : new RequestCancelledError(scope.requestId, scope.nodeName, { cause: reason }),
      );
      return;
    }
    log.debug("Request {requestId} to {node} failed: {error}", {
      requestId: scope.requestId,
      node: scope.nodeName,
      error: value,
    });
    this.#fail(scope, value);
  }

  /**
   * Creates a request for a call and submits its task.
   *
   * @param options The caller, the node and its arguments.
   * @returns What the node returns; rejects with its error, or with
   *   {@linkcode RequestCancelledError} if the request is cancelled.
   * @throws {TypeError} (as a rejection) If `node` is not a node.
   * @throws {UnknownParentError} (as a rejection) If `parentNodeId` names no
   *   node instance of this runtime.
   */
  callNodes(options: CallNodesOptions): Promise<unknown> {
    const { parentNodeId, node } = options;
    if (!isNode(node) || this.#closed) return Promise.reject(refusedCall(node));
    let parentRow = -1;
    if (parentNodeId !== null) {
      parentRow = this.#requests.rowOfNode(parentNodeId);
      if (parentRow < 0) {
        return Promise.reject(new UnknownParentError(String(parentNodeId), node.name));
      }
    }
    return this.#create(
      parentRow,
      node,
      options.args ?? [],
      options.nodeType ?? node.mode,
      options.mode ?? node.mode,
      options.requestId,
      options.attempt,
    );
  }

  /** The row of the top-level request above a row. */
  #rootOf(row: number): number {
    const scope = this.#scopes[row];
    if (scope !== undefined) return scope.rootRow;
    while (this.#requests.parentRow(row) >= 0) row = this.#requests.parentRow(row);
    return row;
  }

  /**
   * Creates the request (the node is valid, the runtime open): the one
   * place a request starts, so hooks go here.
   */
  #create(
    parentRow: number,
    node: AnyNode,
    args: unknown[],
    nodeType: string,
    mode: string,
    requestId: string | undefined,
    attempt?: number,
  ): Promise<unknown> {
    const requests = this.#requests;
    const stamper = this.#info.stamper;
    // A queue node runs in the local pool on a runner without `remote`:
    // its record and span say where it really ran.
    let ranAs = mode;
    if (mode === "remote") {
      ranAs = this.#coordinator.runsAs(mode);
      if (nodeType === mode) nodeType = ranAs;
    }
    // Calls without arguments share one frozen list instead of keeping theirs.
    if (args.length === 0) args = NO_ARGS;
    let row: number;
    try {
      row = requests.open(parentRow, args, node.name, nodeType, stamper, requestId);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#recorded?.opened(row);
    const rootRow = parentRow < 0 ? row : this.#rootOf(parentRow);
    const scope = new TaskScope(this.#owner, row, node, args, parentRow, rootRow);
    const promise = settlerFor(scope);
    if (attempt !== undefined) scope.firstAttempt = attempt;
    this.#scopes[row] = scope;
    this.#pending++;
    // Only subscribers outside the runtime read creations: skip the message
    // when there are none.
    if (this.#publisher.hasSubscribers("creation")) {
      this.#publisher.publish(
        new RequestCreation(
          scope.parentNodeId,
          scope.requestId,
          scope.nodeId,
          node.name,
          nodeType,
          args,
        ),
      );
    }

    const timeout = node.options.timeout;
    if (timeout !== undefined) {
      scope.timer = setTimeout(() => {
        const error = new NodeTimeoutError(node.name, timeout);
        this.#tree.abortBelow(row, error);
        this.#fail(scope, error);
      }, timeout);
    }
    try {
      this.#coordinator.submit(scope, mode);
    } catch (error) {
      this.#publisher.publish(new RequestCreationFailure(scope.requestId, error));
      this.#fail(scope, error);
    }
    return promise;
  }

  /**
   * Cancels a request and every open request beneath it: their signals
   * abort, they are recorded `Cancelled`, and their callers' promises
   * reject with {@linkcode RequestCancelledError}.
   *
   * @param requestOrNodeId A request id, or the id of the node instance serving it.
   * @param reason Why; becomes the error's `cause`.
   * @returns The ids of the requests cancelled (none if it had ended).
   * @throws {RangeError} If the id names no request or node.
   */
  cancel(requestOrNodeId: string, reason?: unknown): string[] {
    const row = this.#openRowOf(requestOrNodeId, "cancel");
    return row < 0 ? [] : this.#tree.cancel(row, reason).map((r) => this.#requests.idOf(r));
  }

  /**
   * Asks a request and every open request beneath it to stop: their
   * signals abort, and their records stay open until their nodes end. A
   * node that then returns is recorded `Completed` with its value, one that
   * ends by the stop (throws its reason, or is terminated for not stopping)
   * `Cancelled`, one that fails otherwise `Failed`. What does not end can
   * still be cancelled with {@linkcode RTState.cancel}.
   *
   * @param requestOrNodeId A request id, or the id of the node instance serving it.
   * @param reason Why; the signals' reason.
   * @returns The ids of the requests asked to stop (none if it had ended).
   * @throws {RangeError} If the id names no request or node.
   *
   * @example Stopping a node that ends on its signal
   * ```ts
   * import { RTState } from "@switchyard/core/engine";
   * import { currentSignal, node, Runner } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * await using runner = new Runner({ loggingSetting: "NONE" });
   * const poll = node(() =>
   *   new Promise<string>((resolve) =>
   *     currentSignal().addEventListener("abort", () => resolve("stopped cleanly"))
   *   ), { name: "poll" });
   * const run = runner.run(poll);
   * const rt: RTState = runner.rtState;
   * await Promise.resolve();
   * rt.stop(rt.info.requestHeap.insertionRequests[0].identifier, new Error("shutting down"));
   * const info = await run;
   * assert.equal(info.status, "Completed");
   * assert.equal(info.answer, "stopped cleanly");
   * ```
   */
  stop(requestOrNodeId: string, reason: unknown): string[] {
    const row = this.#openRowOf(requestOrNodeId, "stop");
    return row < 0 ? [] : this.#tree.stop(row, reason).map((r) => this.#requests.idOf(r));
  }

  /**
   * The row of a request named by its id or its node instance's id, `-1`
   * if it has ended.
   *
   * @throws {RangeError} If the id names no request or node.
   */
  #openRowOf(requestOrNodeId: string, verb: string): number {
    let row = this.#requests.rowOf(requestOrNodeId);
    if (row < 0) row = this.#requests.rowOfNode(requestOrNodeId);
    if (row < 0) {
      throw new RangeError(
        `Cannot ${verb} as 'requestOrNodeId' must name a request or node: current value is ${
          describeValue(requestOrNodeId)
        }`,
      );
    }
    return this.#scopes[row] === undefined ? -1 : row;
  }

  /** Records a failure; with endOnError it ends the whole run. */
  #fail(scope: TaskScope, error: unknown): void {
    this.#finish(scope, "Failed", error);
    if (this.#config.endOnError) this.#tree.endRun(scope.rootRow, error);
  }

  /**
   * Records the end of an open request and settles its caller: the one
   * place a request ends, so hooks go here.
   */
  #finish(scope: TaskScope, status: RequestStatus, output: unknown): void {
    const row = scope.row;
    if (this.#scopes[row] !== scope) return;
    this.#scopes[row] = undefined;
    this.#pending--;
    if (scope.timer !== undefined) clearTimeout(scope.timer);
    this.#requests.close(row, status, output, this.#info.stamper, scope.attempts);
    this.#recorded?.ended(row);
    if (status === "Completed") scope.resolve(output);
    else scope.reject(output);
  }

  /** Runs a child call from a node's scope (used by `call()`). */
  #callFromScope(
    scope: TaskScope,
    target: unknown,
    args: unknown[],
  ): Promise<unknown> {
    if (scope.aborted) return Promise.reject(callAfterCancel(scope));
    if (!isNode(target) || this.#closed) {
      return this.callNodes({ parentNodeId: scope.nodeId, node: target as Node, args });
    }
    return this.#create(scope.row, target, args, target.mode, target.mode, undefined);
  }

  /** Publishes a broadcast from a node's scope (used by `broadcast()`). */
  #broadcastFromScope(scope: TaskScope, item: unknown): void {
    if (this.#publisher.isRunning) {
      this.#publisher.publish(
        new BroadcastEvent(item, scope.nodeId, scope.nodeName),
      );
    }
  }

  /**
   * Stops the runtime: every open request is cancelled and no new call is
   * accepted. Safe to call more than once.
   *
   * @param reason Why, recorded as the cancellations' cause.
   */
  shutdown(
    reason: unknown = new Error("The runtime shut down"),
  ): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#tree.cancelAll(reason, () => this.#pending > 0);
    if (this.#publisher.isRunning) {
      this.#publisher.unsubscribe(this.#subscription);
    }
    return Promise.resolve();
  }
}

const NO_ARGS: unknown[] = Object.freeze([]) as unknown as unknown[];

// The scope whose settlers the shared executor below is handing out; set
// only for the synchronous duration of one `new Promise` call.
let settling: TaskScope | null = null;

function takeSettlers(resolve: (value: unknown) => void, reject: (error: unknown) => void) {
  settling!.resolve = resolve;
  settling!.reject = reject;
}

/** The caller's promise of a scope, without a closure per call. */
function settlerFor(scope: TaskScope): Promise<unknown> {
  settling = scope;
  const promise = new Promise<unknown>(takeSettlers);
  settling = null;
  return promise;
}
