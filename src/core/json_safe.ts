/**
 * Turns any value into one JSON can hold, with readable placeholders for
 * what it cannot: BigInts, cycles, functions, symbols, class instances,
 * Maps, Sets, errors, typed arrays.
 *
 * @module
 */

const MAX_DEPTH = 32;
const MAX_PLACEHOLDER = 200;

/**
 * Converts a value into plain JSON data. Never throws: a value that cannot
 * be read (a getter, `toJSON` or proxy trap that throws, a revoked proxy)
 * becomes an `"[Unserializable: …]"` placeholder at its own place, and
 * everything around it is kept.
 *
 * @param value Anything.
 * @returns JSON-compatible data.
 *
 * @example One bad value, the rest kept
 * ```ts
 * import { toJsonSafe } from "./json_safe.ts";
 * import assert from "node:assert/strict";
 *
 * const bad = Object.defineProperty({ ok: 1 }, "bad", {
 *   enumerable: true,
 *   get() {
 *     throw new Error("no");
 *   },
 * });
 * assert.deepEqual(toJsonSafe({ bad, n: 10n }), {
 *   bad: { ok: 1, bad: "[Unserializable: no]" },
 *   n: "[BigInt: 10n]",
 * });
 * ```
 */
export function toJsonSafe(value: unknown): unknown {
  return convert(value, new Set(), 0);
}

/** The placeholder of a value that threw while being read. */
function unserializable(error: unknown): string {
  const text = describeError(error);
  return `[Unserializable: ${
    text.length > MAX_PLACEHOLDER ? `${text.slice(0, MAX_PLACEHOLDER - 1)}…` : text
  }]`;
}

// The thrown value may be hostile too (a revoked proxy, an error whose
// message getter throws): describing it must not throw in turn.
function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return String(error.message);
    return String(error);
  } catch {
    return "a value that cannot be described";
  }
}

// Invariant: convert() never throws; every read of the value that may run
// user code (getters, proxy traps, toJSON) happens under a try at the
// smallest place that can hold the placeholder.
function convert(
  value: unknown,
  ancestors: Set<object>,
  depth: number,
): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      // JSON writes -0 as 0: say so here, so the data equals what a
      // round trip through JSON gives back.
      if (!Number.isFinite(value)) return `[Number: ${value}]`;
      return Object.is(value, -0) ? 0 : value;
    case "bigint":
      return `[BigInt: ${value}n]`;
    case "undefined":
      return null;
    case "symbol":
      return `[${value.toString()}]`;
    case "function":
      return `[Function: ${functionName(value)}]`;
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.has(object)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Too deep]";
  ancestors.add(object);
  try {
    return convertObject(object, ancestors, depth + 1);
  } catch (error) {
    return unserializable(error);
  } finally {
    ancestors.delete(object);
  }
}

function functionName(fn: { name?: unknown }): string {
  try {
    return typeof fn.name === "string" && fn.name !== "" ? fn.name : "anonymous";
  } catch {
    return "anonymous";
  }
}

/** Reads one property; a throwing read becomes that property's placeholder. */
function read(
  object: object,
  key: PropertyKey,
  ancestors: Set<object>,
  depth: number,
): unknown {
  let value: unknown;
  try {
    value = (object as Record<PropertyKey, unknown>)[key];
  } catch (error) {
    return unserializable(error);
  }
  return convert(value, ancestors, depth);
}

function set(out: Record<string, unknown>, key: string, value: unknown): void {
  // Assigning "__proto__" would set the prototype instead of a key.
  if (key === "__proto__") {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    out[key] = value;
  }
}

function copyEntries(
  object: object,
  out: Record<string, unknown>,
  ancestors: Set<object>,
  depth: number,
): Record<string, unknown> {
  for (const key of Object.keys(object)) {
    set(out, key, read(object, key, ancestors, depth));
  }
  return out;
}

function convertObject(
  object: object,
  ancestors: Set<object>,
  depth: number,
): unknown {
  if (Array.isArray(object)) {
    const length = object.length;
    const out = new Array(length);
    for (let i = 0; i < length; i++) out[i] = read(object, i, ancestors, depth);
    return out;
  }
  if (object instanceof Error) {
    const out: Record<string, unknown> = {
      name: read(object, "name", ancestors, depth),
      message: read(object, "message", ancestors, depth),
    };
    const stack = read(object, "stack", ancestors, depth);
    if (stack) out.stack = stack;
    const cause = read(object, "cause", ancestors, depth);
    if (cause !== null) out.cause = cause;
    return copyEntries(object, out, ancestors, depth);
  }
  if (object instanceof Date) {
    return Number.isNaN(object.getTime()) ? "[Invalid Date]" : object.toISOString();
  }
  const recurse = (v: unknown) => convert(v, ancestors, depth);
  if (object instanceof Map) {
    return { "[Map]": [...object].map(([k, v]) => [recurse(k), recurse(v)]) };
  }
  if (object instanceof Set) return { "[Set]": [...object].map(recurse) };
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    return `[${object.constructor.name}: ${object.byteLength} bytes]`;
  }
  if (object instanceof Promise) return "[Promise]";
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return recurse(toJSON.call(object));
  const out: Record<string, unknown> = {};
  const proto = Object.getPrototypeOf(object);
  if (proto !== null && proto !== Object.prototype) {
    out["[Class]"] = className(proto);
  }
  return copyEntries(object, out, ancestors, depth);
}

function className(proto: object): string {
  try {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "" ? name : "anonymous";
  } catch {
    return "anonymous";
  }
}

/**
 * `JSON.stringify` that never throws and never drops a value silently.
 *
 * @param value Anything.
 * @param space Indentation, as for `JSON.stringify`.
 * @returns The JSON text.
 */
export function safeStringify(value: unknown, space?: number): string {
  return JSON.stringify(toJsonSafe(value), null, space);
}
