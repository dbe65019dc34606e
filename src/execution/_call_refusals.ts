/**
 * Refused calls: the errors a call to the runtime is rejected with before
 * any request is recorded for it (not a node, a runtime shut down, a caller
 * cancelled).
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { isNode } from "../core/node.ts";
import { RequestCancelledError } from "../core/errors.ts";
import type { TaskScope } from "./scope.ts";

/**
 * Why a call of `node` is refused when `node` is not a node or the runtime
 * has shut down.
 *
 * @param node What was called.
 * @returns A TypeError for a value that is not a node, else the shut-down
 *   error.
 */
export function refusedCall(node: unknown): Error {
  if (!isNode(node)) {
    return new TypeError(
      `Cannot call as 'node' must be a node made with node(): current value is ${
        describeValue(node, 80)
      }`,
    );
  }
  return new Error(`Cannot call node '${node.name}' as the runtime has shut down`);
}

/**
 * The error a cancelled node's call is refused with.
 *
 * @param scope The cancelled node's scope.
 * @returns The error.
 */
export function callAfterCancel(scope: TaskScope): RequestCancelledError {
  return new RequestCancelledError(scope.requestId, scope.nodeName, {
    cause: new Error(`Node '${scope.nodeName}' cannot make calls once cancelled`),
  });
}
