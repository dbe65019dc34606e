/**
 * One-line descriptions of arbitrary values, for error messages and
 * displays. Never throws, whatever the value.
 *
 * @module
 */
import { safeStringify } from "./json_safe.ts";

/**
 * A one-line description of a value: `Name: message` for errors (live or
 * serialized), a number, bigint or symbol as JavaScript writes it, compact
 * JSON otherwise (strings in double quotes), cut to a length.
 *
 * @param value Anything.
 * @param max The longest text returned.
 * @returns The text.
 *
 * @example Values as error messages quote them
 * ```ts
 * import { describeValue } from "./describe.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(describeValue("nope"), '"nope"');
 * assert.equal(describeValue(NaN), "NaN");
 * assert.equal(describeValue({ a: [1] }), '{"a":[1]}');
 * assert.equal(describeValue(new RangeError("bad")), "RangeError: bad");
 * ```
 */
export function describeValue(value: unknown, max = 120): string {
  let text: string;
  try {
    text = describeRaw(value);
  } catch {
    // A getter or proxy trap threw: the JSON-safe form names the bad part.
    text = safeStringify(value);
  }
  text = text.replace(/\s*\n\s*/g, " ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function describeRaw(value: unknown): string {
  let text: string;
  if (typeof value === "function") {
    text = `[Function: ${value.name || "anonymous"}]`;
  } else if (value === undefined) {
    text = "undefined";
  } else if (isErrorLike(value)) {
    text = `${value.name ?? "Error"}: ${value.message}`;
  } else if (typeof value === "string") {
    text = JSON.stringify(value);
  } else if (typeof value === "number" || typeof value === "symbol") {
    // As JavaScript writes them: NaN, Infinity, Symbol(x), not JSON's stand-ins.
    text = String(value);
  } else if (typeof value === "bigint") {
    text = `${value}n`;
  } else {
    text = safeStringify(value) ?? "undefined";
  }
  return text;
}

/**
 * Whether a value looks like an error: an `Error`, or an error as saved
 * (`{ name, message }`).
 *
 * @param value Anything.
 * @returns `true` for error-like values.
 */
export function isErrorLike(
  value: unknown,
): value is { name?: string; message: string } {
  try {
    if (value instanceof Error) return true;
    return typeof value === "object" && value !== null &&
      typeof (value as { message?: unknown }).message === "string" &&
      typeof (value as { name?: unknown }).name === "string";
  } catch {
    // A revoked proxy or a throwing getter: not something to read as an error.
    return false;
  }
}
