/**
 * Text views of saved runs for `switchyard inspect` and `switchyard ls`.
 *
 * @module
 */
import type { LoadedRun } from "../persistence/run_loader.ts";
import type { RunSummary } from "../persistence/run_list.ts";
import { type RequestRow, requestRows } from "../persistence/request_rows.ts";
import type { AttemptRecord } from "../state/request_forest.ts";
import { describeValue, formatDuration, formatTime } from "./_format.ts";

/** Options of {@linkcode formatRunTree} and {@linkcode formatRunList}. */
export interface FormatOptions {
  /** Colour statuses with ANSI escapes (default `false`). */
  color?: boolean;
}

const MARKS: Record<string, string> = {
  Completed: "✓",
  Failed: "✗",
  Cancelled: "⊘",
  Open: "…",
  Crashed: "✗",
};
const COLORS: Record<string, string> = {
  Completed: "32",
  Failed: "31",
  Cancelled: "33",
  Open: "36",
  Crashed: "35",
};

function paint(text: string, status: string, color: boolean): string {
  return color ? `\x1b[${COLORS[status] ?? "0"}m${text}\x1b[0m` : text;
}

/**
 * The request tree of a run as text: one line per request with its status,
 * duration and arguments, and the error of each failed one.
 *
 * @param run A loaded run.
 * @param options Colours.
 * @returns The text, ending with a newline.
 *
 * @example A tree
 * ```ts
 * import { call, node, Runner } from "@switchyard/core";
 * import { formatRunTree } from "@switchyard/core/cli";
 * import { loadRun } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * const leaf = node((x: number) => { if (x > 1) throw new Error("too big"); return x; }, { name: "leaf" });
 * const root = node(async () => await Promise.allSettled([call(leaf, 1), call(leaf, 2)]), { name: "root" });
 * {
 *   await using runner = new Runner({ saveState: true, stateDir, runIdentifier: "t", loggingSetting: "NONE" });
 *   await runner.run(root);
 * }
 * const text = formatRunTree(await loadRun(stateDir, "t"));
 * assert.match(text, /^├─ ✓ leaf\(1\)/m);
 * assert.match(text, /^└─ ✗ leaf\(2\) .* Error: too big$/m);
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export function formatRunTree(
  run: LoadedRun,
  options: FormatOptions = {},
): string {
  const color = options.color ?? false;
  const rows = requestRows(run.runs);
  const failed = rows.filter((r) => r.status === "Failed").length;
  const duration = run.startTime !== null && run.endTime !== null
    ? formatDuration(run.endTime - run.startTime)
    : "-";
  const lines = [
    `Run ${run.runId}  ${run.name || "(empty)"}  ${
      paint(run.status, run.status, color)
    }  ${duration}  ${rows.length} ${
      rows.length === 1 ? "request" : "requests"
    }, ${failed} failed  (from ${run.source === "snapshot" ? "snapshot" : "event log"}${
      run.live ? ", live" : ""
    })`,
  ];
  const lastChild = lastChildren(rows);
  // Invariant: open[d] says whether the ancestor at depth d still has
  // siblings below, which decides between "│  " and "   ".
  const open: boolean[] = [];
  for (const row of rows) {
    const isLast = lastChild.has(row.id);
    let prefix = "";
    for (let d = 1; d < row.depth; d++) prefix += open[d] ? "│  " : "   ";
    if (row.depth > 0) prefix += isLast ? "└─ " : "├─ ";
    open[row.depth] = !isLast;
    lines.push(prefix + describeRow(row, color));
    if (row.attempts) {
      // Attempts sit under their request, where its children's lines start.
      let inner = "";
      for (let d = 1; d <= row.depth; d++) inner += open[d] ? "│  " : "   ";
      for (const attempt of row.attempts) {
        lines.push(inner + "· " + describeAttempt(attempt, color));
      }
    }
  }
  return lines.join("\n") + "\n";
}

function describeAttempt(attempt: AttemptRecord, color: boolean): string {
  const status = attempt.status;
  let text = `attempt ${attempt.attempt} ${paint(MARKS[status] ?? "?", status, color)}  ${
    formatDuration(attempt.end - attempt.start)
  }`;
  // Attempts made by a worker process (remote nodes) say where they ran.
  const where = attempt as { host?: unknown; pid?: unknown };
  if (typeof where.host === "string" && typeof where.pid === "number") {
    text += `  on ${where.host}/${where.pid}`;
  }
  if (status === "Failed") text += `  ${paint(describeValue(attempt.error, 120), status, color)}`;
  if (attempt.retryDelay !== undefined) {
    text += `  (retried after ${formatDuration(attempt.retryDelay)})`;
  }
  return text;
}

function lastChildren(rows: RequestRow[]): Set<string> {
  const last = new Map<string | null, string>();
  for (const row of rows) last.set(row.depth === 0 ? null : row.parent, row.id);
  return new Set(last.values());
}

function describeRow(row: RequestRow, color: boolean): string {
  const args = row.input.map((a) => describeValue(a, 40)).join(", ");
  const call = `${row.name}(${args.length > 60 ? args.slice(0, 59) + "…" : args})`;
  const mark = paint(MARKS[row.status] ?? "?", row.status, color);
  const timing = row.end === null ? "open" : formatDuration(row.end - row.start);
  let text = `${mark} ${call}  ${timing}`;
  if (row.status === "Failed" || row.status === "Cancelled") {
    text += `  ${paint(describeValue(row.output, 160), row.status, color)}`;
  }
  return text;
}

/**
 * Saved runs as a table, newest first as given.
 *
 * @param runs Summaries from `listRuns()`.
 * @param options Colours.
 * @returns The text, ending with a newline.
 *
 * @example A table
 * ```ts
 * import { formatRunList } from "@switchyard/core/cli";
 * import assert from "node:assert/strict";
 *
 * const text = formatRunList([{ runId: "r1", name: "pipeline", status: "Failed", startTime: null, endTime: null, requests: 3, failed: 1, live: false, source: "snapshot" }]);
 * assert.match(text, /^RUN +NAME +STATUS/);
 * assert.match(text, /^r1 +pipeline +Failed +- +- +3 +1$/m);
 * ```
 */
export function formatRunList(
  runs: readonly RunSummary[],
  options: FormatOptions = {},
): string {
  if (runs.length === 0) return "No saved runs.\n";
  const color = options.color ?? false;
  const table = runs.map((r) => [
    r.runId,
    r.name || "-",
    r.status,
    formatTime(r.startTime),
    r.startTime !== null && r.endTime !== null
      ? formatDuration(r.endTime - r.startTime)
      : r.live
      ? "running"
      : "-",
    String(r.requests),
    String(r.failed),
  ]);
  const header = [
    "RUN",
    "NAME",
    "STATUS",
    "STARTED",
    "DURATION",
    "REQUESTS",
    "FAILED",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[], status?: string) =>
    cells.map((cell, i) => {
      const padded = cell.padEnd(widths[i]);
      return i === 2 && status ? paint(padded, status, color) : padded;
    }).join("  ").trimEnd();
  return [line(header), ...table.map((row) => line(row, row[2]))].join("\n") +
    "\n";
}
