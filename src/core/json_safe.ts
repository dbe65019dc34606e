/**
 * Turns any value into one JSON can hold, with readable placeholders for
 * what it cannot: BigInts, cycles, functions, symbols, class instances,
 * Maps, Sets, errors, typed arrays.
 *
 * @module
 */

const MAX_DEPTH = 32;

/**
 * Converts a value into plain JSON data. Never throws.
 *
 * @param value Anything.
 * @returns JSON-compatible data.
 */
export function toJsonSafe(value: unknown): unknown {
  try {
    return convert(value, new Set(), 0);
  } catch (error) {
    return `[Unserializable: ${describeError(error)}]`;
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

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
      return `[Function: ${value.name || "anonymous"}]`;
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.has(object)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Too deep]";
  ancestors.add(object);
  try {
    return convertObject(object, ancestors, depth + 1);
  } finally {
    ancestors.delete(object);
  }
}

function convertObject(
  object: object,
  ancestors: Set<object>,
  depth: number,
): unknown {
  const recurse = (v: unknown) => convert(v, ancestors, depth);
  if (Array.isArray(object)) return object.map(recurse);
  if (object instanceof Error) {
    const out: Record<string, unknown> = {
      name: object.name,
      message: object.message,
    };
    if (object.stack) out.stack = object.stack;
    if (object.cause !== undefined) out.cause = recurse(object.cause);
    for (const [k, v] of Object.entries(object)) out[k] = recurse(v);
    return out;
  }
  if (object instanceof Date) {
    return Number.isNaN(object.getTime()) ? "[Invalid Date]" : object.toISOString();
  }
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
    out["[Class]"] = proto.constructor?.name || "anonymous";
  }
  for (const [k, v] of Object.entries(object)) out[k] = recurse(v);
  return out;
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
