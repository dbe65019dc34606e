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
  FatalFailure,
  RequestCancellation,
  RequestCreation,
  RequestCreationFailure,
  type RuntimeMessage,
} from "../pubsub/messages.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import type { ExecutorConfig } from "./config.ts";
import { NodeTimeoutError, RequestCancelledError } from "../core/errors.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import type { RequestStatus } from "../state/request_forest.ts";

const log = logger("runtime");

/** What {@linkcode RTState.callNodes} needs. */
export interface CallNodesOptions {
  /** The calling node instance, `null` for a top-level request. */
  parentNodeId: string | null;
  /** The new request's id; a fresh UUID when omitted. */
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
}

/**
 * The runtime state of a run: creates a tracked request for every call,
 * submits its task, and records its end (completed, failed, cancelled) in
 * the {@linkcode ExecutionInfo}, with exactly two stamps per request.
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
    context: this.context,
  };
  readonly #info: ExecutionInfo;
  readonly #config: ExecutorConfig;
  readonly #coordinator: Coordinator;
  readonly #publisher: RTPublisher;
  // Invariant: #pending holds exactly the requests whose newest version is
  // "Open". A node instance's id is its request's id plus NODE_SUFFIX, so
  // either id leads to the other without a second map.
  readonly #pending = new Map<string, TaskScope>();
  readonly #subscription: string;
  #closed = false;

  /**

   * Makes an RTState.

   *
   * @param executionInfo Where requests are recorded.
   * @param executorConfig The run's configuration.
   * @param coordinator Runs the tasks; must be started on `publisher`.
   * @param publisher Carries the messages; must be running.
   */
  constructor(
    executionInfo: ExecutionInfo,
    executorConfig: ExecutorConfig,
    coordinator: Coordinator,
    publisher: RTPublisher,
  ) {
    this.#info = executionInfo;
    this.#config = executorConfig;
    this.#coordinator = coordinator;
    this.#publisher = publisher;
    this.#subscription = publisher.subscribe((m) => this.handle(m), "rt-state", {
      topics: ["success", "failure"],
    });
  }

  /** Everything recorded so far. */
  get info(): ExecutionInfo {
    return this.#info;
  }

  /** How many requests are open. */
  get openCount(): number {
    return this.#pending.size;
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
    if (message.kind === "success") {
      this.#finish(message.requestId, "Completed", message.result);
    } else if (message.kind === "failure") {
      const pending = this.#pending.get(message.requestId);
      if (!pending) return;
      log.debug("Request {requestId} to {node} failed: {error}", {
        requestId: message.requestId,
        node: pending.nodeName,
        error: message.error,
      });
      this.#fail(pending, message.error);
    }
  }

  /**
   * Creates a request for a call and submits its task.
   *
   * @param options The caller, the node and its arguments.
   * @returns What the node returns; rejects with its error, or with
   *   {@linkcode RequestCancelledError} if the request is cancelled.
   * @throws {TypeError} (as a rejection) If `node` is not a node.
   */
  callNodes(options: CallNodesOptions): Promise<unknown> {
    const { parentNodeId, node } = options;
    if (!isNode(node)) {
      return Promise.reject(
        new TypeError(
          `Cannot call as 'node' must be a node made with node(): current value is ${
            describeValue(node, 80)
          }`,
        ),
      );
    }
    if (this.#closed) {
      return Promise.reject(
        new Error(
          `Cannot call node '${node.name}' as the runtime has shut down`,
        ),
      );
    }
    const parent = parentNodeId === null ? undefined : this.#pending.get(requestIdOf(parentNodeId));
    return this.#create(parent, options);
  }

  /** Creates the request (the node is valid and the runtime open). */
  #create(parent: TaskScope | undefined, options: CallNodesOptions): Promise<unknown> {
    const { parentNodeId, node, args, mode } = options;
    const requestId = options.requestId ?? crypto.randomUUID();
    const nodeId = requestId + NODE_SUFFIX;
    const rootId = parent === undefined ? requestId : parent.rootId;
    const nodeType = options.nodeType ?? node.mode;

    // One stamp marks the creation of both the node instance and the request.
    const stamp = this.#info.stamper.createStamp(
      `Created request ${requestId}`,
    );
    this.#info.nodeHeap.upsert({
      identifier: nodeId,
      name: node.name,
      nodeType,
      stamp,
      parent: null,
    });
    this.#info.requestHeap.create(requestId, parentNodeId, nodeId, args, stamp);

    const scope = new TaskScope(this.#owner, requestId, nodeId, node, args, parentNodeId, rootId);
    const promise = new Promise<unknown>((resolve, reject) => {
      scope.resolve = resolve;
      scope.reject = reject;
    });
    this.#pending.set(requestId, scope);
    // Only subscribers outside the runtime read creations: skip the message
    // when there are none.
    if (this.#publisher.hasSubscribers("creation")) {
      this.#publisher.publish(
        new RequestCreation(
          parentNodeId,
          requestId,
          nodeId,
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
        this.#abortTree(requestId, error);
        this.#fail(scope, error);
      }, timeout);
    }
    try {
      this.#coordinator.submit(scope, mode ?? node.mode);
    } catch (error) {
      this.#publisher.publish(new RequestCreationFailure(requestId, error));
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
    const requestId = this.#info.requestHeap.has(requestOrNodeId)
      ? requestOrNodeId
      : requestIdOf(requestOrNodeId);
    if (!this.#info.requestHeap.has(requestId)) {
      throw new RangeError(
        `Cannot cancel as 'requestOrNodeId' must name a request or node: current value is '${requestOrNodeId}'`,
      );
    }
    if (!this.#pending.has(requestId)) return [];
    return this.#cancelTree(requestId, reason);
  }

  /** The open requests below one (deepest first), then that one. */
  #openSubtree(requestId: string): string[] {
    const order: string[] = [];
    const visit = (id: string) => {
      const pending = this.#pending.get(id);
      if (!pending) return;
      for (
        const child of this.#info.requestHeap.children(pending.nodeId)
      ) {
        visit(child.identifier);
      }
      order.push(id);
    };
    visit(requestId);
    return order;
  }

  #cancelTree(requestId: string, reason: unknown): string[] {
    const ids = this.#openSubtree(requestId);
    for (const id of ids) {
      const pending = this.#pending.get(id);
      if (!pending) continue;
      const error = new RequestCancelledError(id, pending.nodeName, {
        cause: reason,
      });
      pending.abort(reason ?? error);
      this.#finish(id, "Cancelled", error);
      if (this.#publisher.isRunning) {
        this.#publisher.publish(
          new RequestCancellation(id, pending.nodeId, reason),
        );
      }
    }
    return ids;
  }

  /** Aborts and cancels everything below a request, not the request itself. */
  #abortTree(requestId: string, reason: unknown): void {
    const pending = this.#pending.get(requestId);
    if (!pending) return;
    for (const child of this.#info.requestHeap.children(pending.nodeId)) {
      if (this.#pending.has(child.identifier)) {
        this.#cancelTree(child.identifier, reason);
      }
    }
    pending.abort(reason);
  }

  /** Ends a whole run with an error: everything open in it is cancelled. */
  #endRun(rootId: string, error: unknown): void {
    if (!this.#pending.has(rootId)) return;
    if (this.#publisher.isRunning) {
      this.#publisher.publish(new FatalFailure(error));
    }
    this.#abortTree(rootId, error);
    this.#finish(rootId, "Failed", error);
  }

  /** Records a failure; with endOnError it ends the whole run. */
  #fail(scope: TaskScope, error: unknown): void {
    this.#finish(scope.requestId, "Failed", error);
    if (this.#config.endOnError) this.#endRun(scope.rootId, error);
  }

  #finish(requestId: string, status: RequestStatus, output: unknown): void {
    const pending = this.#pending.get(requestId);
    if (!pending) return;
    this.#pending.delete(requestId);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    const stamp = this.#info.stamper.createStamp(
      `${status} request ${requestId}`,
    );
    this.#info.requestHeap.update(requestId, output, status, stamp, pending.attempts);
    if (status === "Completed") pending.resolve(output);
    else pending.reject(output);
  }

  /** Runs a child call from a node's scope (used by `call()`). */
  #callFromScope(
    scope: TaskScope,
    target: unknown,
    args: unknown[],
  ): Promise<unknown> {
    if (scope.aborted) {
      return Promise.reject(
        new RequestCancelledError(scope.requestId, scope.nodeName, {
          cause: new Error(
            `Node '${scope.nodeName}' cannot make calls once cancelled`,
          ),
        }),
      );
    }
    if (!isNode(target) || this.#closed) {
      return this.callNodes({ parentNodeId: scope.nodeId, node: target as Node, args });
    }
    return this.#create(scope, { parentNodeId: scope.nodeId, node: target, args });
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
    for (const request of this.#info.requestHeap.insertionRequests) {
      if (this.#pending.has(request.identifier)) {
        this.#cancelTree(request.identifier, reason);
      }
    }
    for (const id of [...this.#pending.keys()]) this.#cancelTree(id, reason);
    if (this.#publisher.isRunning) {
      this.#publisher.unsubscribe(this.#subscription);
    }
    return Promise.resolve();
  }
}

const NODE_SUFFIX = ":node";

/** The request a node instance serves, from the node's id. */
function requestIdOf(nodeId: string): string {
  return nodeId.endsWith(NODE_SUFFIX) ? nodeId.slice(0, -NODE_SUFFIX.length) : nodeId;
}
