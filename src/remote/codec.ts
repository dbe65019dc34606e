/**
 * Values on their way through Redis: BullMQ job data is JSON, so arguments
 * and results are encoded with devalue, which keeps what structured clone
 * keeps (`undefined`, `Map`, `Set`, `Date`, `BigInt`, typed arrays,
 * `ArrayBuffer`s, cycles) and errors with their name, message, stack and
 * cause.
 *
 * @module
 */
import * as devalue from "npm:devalue@^6.0.0";
import type { WireError } from "../../workers/protocol.ts";
import { fromWire, toWire } from "../../workers/wire.ts";

// Errors travel flattened (name, message, stack, cause), as between threads.
const reducers = {
  Error: (value: unknown) => value instanceof Error && toWire(value),
};
const revivers = {
  Error: (wire: WireError) => fromWire(wire),
};

/**
 * Encodes a value as a string that JSON can carry.
 *
 * @param value The value.
 * @returns The encoded value.
 * @throws {Error} If the value holds something that cannot travel (a
 *   function, a class instance, a symbol), saying where.
 *
 * @example A round trip
 * ```ts
 * import { decodeValue, encodeValue } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const value = { when: new Date(0), tags: new Set(["a"]), big: 10n, bytes: new Uint8Array([1, 2]) };
 * assert.deepEqual(decodeValue(encodeValue(value)), value);
 * ```
 */
export function encodeValue(value: unknown): string {
  return devalue.stringify(value, reducers);
}

/**
 * Decodes what {@linkcode encodeValue} made.
 *
 * @param text The encoded value.
 * @returns The value.
 * @throws {Error} If `text` is not an encoded value.
 *
 * @example Values that JSON cannot hold come back as they were
 * ```ts
 * import { decodeValue, encodeValue } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const map = new Map([["a", 1n]]);
 * assert.deepEqual(decodeValue(encodeValue(map)), map);
 * ```
 */
export function decodeValue(text: string): unknown {
  return devalue.parse(text, revivers);
}

/**
 * Encodes a call's arguments, naming the one that cannot travel.
 *
 * @param args The arguments.
 * @param what What they are for, e.g. "send node 'x' to queue 'q'".
 * @returns The encoded list.
 * @throws {TypeError} "Cannot <what> as argument <i> cannot be encoded …".
 */
export function encodeArgs(args: readonly unknown[], what: string): string {
  try {
    return encodeValue(args);
  } catch (error) {
    const path = (error as { path?: unknown }).path;
    const match = typeof path === "string" ? /^\[(\d+)\](.*)$/.exec(path) : null;
    const where = match
      ? `argument ${match[1]}${match[2] ? ` (at ${match[2]})` : ""}`
      : "an argument";
    throw new TypeError(
      `Cannot ${what} as ${where} cannot be encoded for Redis: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Flattens an error (with its causes) for the wire.
 *
 * @param error Anything thrown.
 * @returns The flattened error, encoded.
 */
export function encodeError(error: unknown): string {
  const wire = toWire(error);
  try {
    return JSON.stringify(wire);
  } catch {
    // A non-error value that JSON cannot hold: keep its description only.
    return JSON.stringify({ name: wire.name, message: wire.message });
  }
}

/**
 * Rebuilds an error from {@linkcode encodeError}'s output.
 *
 * @param text The encoded error.
 * @returns An `Error` with the same name, message, stack and causes.
 */
export function decodeError(text: string): unknown {
  try {
    return fromWire(JSON.parse(text) as WireError);
  } catch {
    return new Error(text);
  }
}
