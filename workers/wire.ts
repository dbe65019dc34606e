/**
 * Errors and buffers on their way between the worker and the main thread.
 *
 * @module
 */
import type { WireError } from "./protocol.ts";

/**
 * Flattens an error (and its causes) so its name survives structured clone.
 *
 * @param error Anything thrown.
 * @param depth How deep in the cause chain.
 * @returns The flattened error.
 */
export function toWire(error: unknown, depth = 0): WireError {
  if (error instanceof Error) {
    const wire: WireError = {
      name: error.name,
      message: error.message,
      stack: error.stack,
    };
    if (error.cause !== undefined && depth < 4) {
      wire.cause = toWire(error.cause, depth + 1);
    }
    return wire;
  }
  const wire: WireError = { name: "NonError", message: String(error) };
  try {
    wire.value = structuredClone(error);
  } catch {
    // Not cloneable: the message says what it was.
  }
  return wire;
}

/**
 * Rebuilds an error from its flattened form.
 *
 * @param wire The flattened error.
 * @param depth How deep in the cause chain (causes below 8 are dropped).
 * @returns An `Error` with the same name, message, stack and causes (or the
 *   thrown value itself, if it was not an error and could be cloned).
 */
export function fromWire(wire: WireError, depth = 0): unknown {
  if (typeof wire !== "object" || wire === null) {
    throw new TypeError(`Cannot read an error sent as ${typeof wire}`);
  }
  if (wire.name === "NonError" && "value" in wire) return wire.value;
  const error = new Error(
    String(wire.message),
    wire.cause && depth < 8 ? { cause: fromWire(wire.cause, depth + 1) } : undefined,
  );
  error.name = String(wire.name);
  if (typeof wire.stack === "string") error.stack = wire.stack;
  return error;
}

/**
 * Collects the `ArrayBuffer`s in a value (views, arrays, plain objects).
 *
 * @param value The value.
 * @param found Where to put them.
 * @param depth How deep in the value.
 */
export function buffersIn(
  value: unknown,
  found: Set<ArrayBuffer>,
  depth = 0,
): void {
  if (depth > 8 || value === null || typeof value !== "object") return;
  if (value instanceof ArrayBuffer) {
    found.add(value);
  } else if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) found.add(value.buffer);
  } else if (Array.isArray(value)) {
    for (const item of value) buffersIn(item, found, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) buffersIn(item, found, depth + 1);
  }
}
