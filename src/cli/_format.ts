/**
 * Small text helpers shared by the CLI commands.
 *
 * @module
 */
import { safeStringify } from "../state/_json_safe.ts";

/**
 * A duration for people: `12.3 ms`, `4.56 s`, `3 min 12 s`.
 *
 * @param ms Milliseconds.
 * @returns The text.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * A one-line description of a value: `Name: message` for errors (live or
 * serialized), compact JSON otherwise, cut to a length.
 *
 * @param value Anything.
 * @param max The longest text returned.
 * @returns The text.
 */
export function describeValue(value: unknown, max = 120): string {
  let text: string;
  if (isErrorLike(value)) {
    text = `${value.name ?? "Error"}: ${value.message}`;
  } else if (typeof value === "string") {
    text = JSON.stringify(value);
  } else {
    text = safeStringify(value) ?? "undefined";
  }
  text = text.replace(/\s*\n\s*/g, " ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
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
  if (value instanceof Error) return true;
  return typeof value === "object" && value !== null &&
    typeof (value as { message?: unknown }).message === "string" &&
    typeof (value as { name?: unknown }).name === "string";
}

/**
 * A local date and time, to the second: `2026-11-22 01:02:03`.
 *
 * @param ms Milliseconds since the epoch, or `null`.
 * @returns The text (`-` for `null`).
 */
export function formatTime(ms: number | null): string {
  if (ms === null) return "-";
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${
    pad(d.getHours())
  }:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
