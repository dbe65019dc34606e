/**
 * Errors callers catch.
 *
 * @module
 */
import { describeValue } from "./describe.ts";

/**
 * A run took longer than its `timeout`. Open requests were cancelled and
 * their signals aborted.
 *
 * @example Catching a run timeout
 * ```ts
 * import { currentSignal, GlobalTimeoutError, node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const slow = node(() => new Promise((_, reject) => {
 *   currentSignal().addEventListener("abort", () => reject(new Error("stopped")));
 * }), { name: "slow" });
 * await using runner = new Runner({ timeout: 10 });
 * await assert.rejects(runner.run(slow), GlobalTimeoutError);
 * ```
 */
export class GlobalTimeoutError extends Error {
  /** The limit that was passed, in ms. */
  readonly timeout: number;
  /**
   * Makes a GlobalTimeoutError.
   *
   * @param timeout The limit, in ms.
   * @param options The cause, if any.
   */
  constructor(timeout: number, options?: ErrorOptions) {
    super(
      `The run did not finish within its timeout of ${timeout} ms`,
      options,
    );
    this.name = "GlobalTimeoutError";
    this.timeout = timeout;
  }
}

/** A call did not finish within its node's `timeout`. */
export class NodeTimeoutError extends Error {
  /** The node's name. */
  readonly nodeName: string;
  /** The limit, in ms. */
  readonly timeout: number;
  /**
   * Makes a NodeTimeoutError.
   *
   * @param nodeName The node.
   * @param timeout The limit, in ms.
   */
  constructor(nodeName: string, timeout: number) {
    super(
      `Node '${nodeName}' did not finish within its timeout of ${timeout} ms`,
    );
    this.name = "NodeTimeoutError";
    this.nodeName = nodeName;
    this.timeout = timeout;
  }
}

/**
 * A request was cancelled before it finished; `cause` says why (a
 * {@linkcode GlobalTimeoutError}, the error that ended the run, …).
 */
export class RequestCancelledError extends Error {
  /** The cancelled request. */
  readonly requestId: string;
  /** Its node's name. */
  readonly nodeName: string;
  /**
   * Makes a RequestCancelledError.
   *
   * @param requestId The request.
   * @param nodeName Its node's name.
   * @param options Why it was cancelled, as `cause`.
   */
  constructor(requestId: string, nodeName: string, options?: ErrorOptions) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(
      `Request '${requestId}' to node '${nodeName}' was cancelled${why}`,
      options,
    );
    this.name = "RequestCancelledError";
    this.requestId = requestId;
    this.nodeName = nodeName;
  }
}

/**
 * A call named a calling node instance the runtime does not know, so its
 * request would have no place in the tree.
 *
 * @example An unknown caller
 * ```ts
 * import { UnknownParentError } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const error = new UnknownParentError("ghost:node", "leaf");
 * assert.equal(error.parentNodeId, "ghost:node");
 * assert.match(error.message, /'parentNodeId' must name a node instance of this runtime/);
 * ```
 */
export class UnknownParentError extends Error {
  /** The caller's id that was given. */
  readonly parentNodeId: string;
  /**
   * Makes an UnknownParentError.
   *
   * @param parentNodeId The unknown caller's id.
   * @param nodeName The node that was called.
   */
  constructor(parentNodeId: string, nodeName: string) {
    super(
      `Cannot call node '${nodeName}' as 'parentNodeId' must name a node instance of this runtime: current value is ${
        describeValue(parentNodeId)
      }`,
    );
    this.name = "UnknownParentError";
    this.parentNodeId = parentNodeId;
  }
}
