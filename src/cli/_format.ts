/**
 * Small text helpers shared by the CLI commands.
 *
 * @module
 */
export { describeValue, isErrorLike } from "../core/describe.ts";

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
 * A local date and time, to the second: `2026-11-22 01:02:03`.
 *
 * @param ms Milliseconds since the epoch, or `null`.
 * @returns The text (`-` for `null`).
 */
export function formatTime(ms: number | null): string {
  if (ms === null) return "-";
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${
    pad(d.getMinutes())
  }:${pad(d.getSeconds())}`;
}
