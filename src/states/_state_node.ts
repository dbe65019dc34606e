/**
 * The node a state runs, made from what the application gave.
 *
 * @module
 */
import { isNode, Node } from "../core/node.ts";
import { describeValue } from "../core/describe.ts";

/**
 * The node of a state: the given node, a node named after the state for a
 * plain non-blocking function, or a self-contained worker node for a plain
 * blocking one.
 *
 * @param name The state's name, for the node and the errors.
 * @param fn What the state was given.
 * @param blocking Whether the state runs in a worker.
 * @returns The node.
 * @throws {TypeError} If `fn` is neither a function nor a node, or cannot
 *   run in a worker while `blocking` is set.
 */
export function resolveNode(
  name: string,
  fn: unknown,
  blocking: boolean,
  // deno-lint-ignore no-explicit-any
): Node<any, any> {
  if (isNode(fn)) {
    if (blocking && fn.mode === "async") {
      throw new TypeError(
        `Cannot create state '${name}' as 'fn' must run in a worker for a blocking state: current value is async node '${fn.name}' (make it with node(fn, { worker: true }) or { worker: import.meta.url })`,
      );
    }
    return fn;
  }
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot create state '${name}' as 'fn' must be a function or a node: current value is ${
        describeValue(fn)
      }`,
    );
  }
  if (!blocking) {
    return new Node(fn as (...args: unknown[]) => unknown, { name });
  }
  const source = Function.prototype.toString.call(fn);
  if (!isShippable(source)) {
    throw new TypeError(
      `Cannot create state '${name}' as 'fn' must be a self-contained function for a blocking state: current value is ${
        describeValue(fn)
      }, whose source cannot be shipped to a worker (use a worker node made with node(fn, { worker: import.meta.url }))`,
    );
  }
  return new Node(fn as (...args: unknown[]) => unknown, {
    name: fn.name || name,
    worker: true,
  });
}

/** Whether a function's source evaluates to a function on its own. */
function isShippable(source: string): boolean {
  if (source.includes("[native code]")) return false;
  try {
    new Function(`return (${source});`);
    return true;
  } catch {
    return false;
  }
}
