/**
 * How a worker finds the function of a node: imported from its module and
 * found among the exports by name, or compiled from its source.
 *
 * @module
 */
import type { NodeDefinition } from "./protocol.ts";

/** A node's function. */
export type Fn = (...args: unknown[]) => unknown;

const NODE_BRAND = Symbol.for("switchyard.node");
const PRELOADED = Symbol.for("switchyard.workerPreloaded");
const modules = new Map<string, Promise<Record<string, unknown>>>();

export function describeExports(ns: Record<string, unknown>): string {
  const nodes: string[] = [];
  const others: string[] = [];
  for (const [key, value] of Object.entries(ns)) {
    if (isNode(value)) nodes.push(`'${(value as { name: string }).name}'`);
    else others.push(`'${key}'`);
  }
  return `it exports nodes ${nodes.join(", ") || "(none)"} and other values ${
    others.join(", ") || "(none)"
  }`;
}

/**
 * Whether a value is a node of any copy of the library.
 *
 * @param value Anything.
 * @returns `true` for nodes.
 */
export function isNode(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[NODE_BRAND] === true;
}

export function importModule(url: string): Promise<Record<string, unknown>> {
  let ns = modules.get(url);
  if (!ns) {
    const preloaded = ((globalThis as Record<symbol, unknown>)[PRELOADED] as
      | Map<string, unknown>
      | undefined)
      ?.get(url);
    ns = preloaded ? Promise.resolve(preloaded as Record<string, unknown>) : loading(url);
    modules.set(url, ns);
  }
  return ns;
}

/** Which module is being imported, for code that must not start runs then. */
const LOADING = Symbol.for("switchyard.workerLoading");

async function loading(url: string): Promise<Record<string, unknown>> {
  const scope = globalThis as Record<symbol, unknown>;
  scope[LOADING] = url;
  try {
    return await import(url);
  } finally {
    if (scope[LOADING] === url) delete scope[LOADING];
  }
}

export function compile(source: string, name: string): Fn {
  const evaluate = (code: string) => new Function(`return (${code});`)();
  let value: unknown;
  try {
    value = evaluate(source);
  } catch {
    // A method written as `name() {}` is not an expression on its own.
    value = Object.values(evaluate(`{${source}}`) as object)[0];
  }
  if (typeof value !== "function") {
    throw new TypeError(
      `Cannot load worker node '${name}' as its source must evaluate to a function: current value is ${typeof value}`,
    );
  }
  return value as Fn;
}

/**
 * The function a definition names.
 *
 * @param def A module URL and export name, or a source.
 * @returns The function.
 * @throws {Error} If the module does not export a node of that name (the
 *   message lists what it exports), or the source is not a function.
 */
export async function loadFunction(def: NodeDefinition): Promise<Fn> {
  if (def.kind === "source") return compile(def.source, def.name);
  const ns = await importModule(def.url);
  const found = Object.values(ns).find((v) =>
    isNode(v) && (v as { name: string }).name === def.name
  ) as { fn: Fn } | undefined;
  if (!found) {
    throw new Error(
      `Cannot find worker node '${def.name}' in module ${def.url} as it is not among the module's exports: ${
        describeExports(ns)
      }`,
    );
  }
  return found.fn;
}
