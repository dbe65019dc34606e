/**
 * What the visualizer keeps of one run: one small entry per request (tree
 * links, status, times, a short preview of its arguments, counts of failed
 * and cancelled descendants), built by streaming the run's event log and
 * followed as the log grows. Inputs and outputs stay on disk and are read
 * back one request at a time.
 *
 * @module
 */
import { join } from "node:path";
import { isEventLogActive } from "../persistence/event_log_reader.ts";
import { isRunFile } from "../persistence/run_files.ts";
import { EVENT_LOG_FORMAT } from "../persistence/run_events.ts";
import { loadFromDir, type RunStatus } from "../persistence/run_loader.ts";
import { requestRows } from "../persistence/request_rows.ts";
import { runName } from "../persistence/run_store.ts";
import { readLineAt, readLines } from "./_lines.ts";
import type { Entry, IndexSummary, RequestDetails, Status } from "./index_records.ts";

export type { Entry, IndexSummary, RequestDetails, Status } from "./index_records.ts";

const ENDED: Record<string, Status> = {
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** Longest argument preview kept per request, in characters. */
export const ARGS_PREVIEW = 160;

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? "undefined";
  } catch {
    text = String(value);
  }
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  return text.length > ARGS_PREVIEW ? text.slice(0, ARGS_PREVIEW - 1) + "…" : text;
}

/** One run's index; {@linkcode RunIndex.open} builds it, `refresh()` follows its log. */
export class RunIndex {
  /** The run id. */
  readonly runId: string;
  /** Requests in creation order. */
  readonly entries: Entry[] = [];
  /** What was skipped while reading. */
  readonly warnings: string[] = [];
  #logPath: string;
  #fromLog: boolean;
  #byId = new Map<string, number>();
  #byNode = new Map<string, number>();
  #roots: number[] = [];
  // Invariant: `#offset` is the line boundary up to which the log was applied.
  #offset = 0;
  #startTime: number | null = null;
  // The status of the latest `saved` line while no request event follows
  // it (the snapshot then holds the whole run, with the status its owner
  // gave it: a failed flow job whose requests all ended is still Failed).
  #savedStatus: RunStatus | null = null;
  #snapshotStatus: RunStatus | null = null;
  #live = false;
  #order: number[] | null = null;
  #version = 0;
  #refreshing: Promise<void> = Promise.resolve();

  private constructor(runId: string, logPath: string, fromLog: boolean) {
    this.runId = runId;
    this.#logPath = logPath;
    this.#fromLog = fromLog;
  }

  /**
   * Builds the index of a run in a runs folder: from its event log when it
   * has one, else from its snapshot.
   *
   * @param dir The runs folder.
   * @param runId A well-formed run id.
   * @returns The index.
   * @throws {RunNotFoundError} If the run has neither file.
   */
  static async open(dir: string, runId: string): Promise<RunIndex> {
    const logPath = join(dir, `${runId}.events.jsonl`);
    if (await startsWithHeader(logPath)) {
      const index = new RunIndex(runId, logPath, true);
      await index.refresh();
      return index;
    }
    const run = await loadFromDir(dir, runId);
    const index = new RunIndex(runId, logPath, false);
    index.#snapshotStatus = run.status;
    index.#startTime = run.startTime;
    index.#offset = run.eventsOffset;
    index.warnings.push(...run.warnings);
    for (const row of requestRows(run.runs)) {
      index.#add({
        id: row.id,
        parentNode: null,
        parentId: row.parent,
        node: row.node,
        name: row.name,
        nodeType: row.nodeType,
        start: row.start,
        step: row.step,
        args: row.input,
        createdAt: -1,
      });
      const i = index.entries.length - 1;
      const attempts: unknown = row.attempts;
      index.entries[i].inline = {
        input: row.input,
        output: row.output,
        attempts: Array.isArray(attempts) ? attempts : undefined,
      };
      index.entries[i].attempts = Array.isArray(attempts) ? attempts.length : 0;
      if (row.status !== "Open") index.#end(i, row.status, row.end ?? row.start, -1);
    }
    index.#live = false;
    return index;
  }

  /** Bytes of the log applied so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Changes each time requests are added or end. */
  get version(): number {
    return this.#version;
  }

  /** Whether a process writes the run's log (as of the last refresh). */
  get live(): boolean {
    return this.#live;
  }

  /** The index of a request id, or -1. */
  indexOf(id: string): number {
    return this.#byId.get(id) ?? -1;
  }

  /** Top-level requests. */
  get roots(): readonly number[] {
    return this.#roots;
  }

  /** Every request in tree order (depth first, children in creation order). */
  treeOrder(): number[] {
    if (this.#order) return this.#order;
    const order: number[] = [];
    const stack = [...this.#roots].reverse();
    while (stack.length) {
      const i = stack.pop()!;
      order.push(i);
      const kids = this.entries[i].children;
      if (kids) { for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]); }
    }
    this.#order = order;
    return order;
  }

  /** The run's summary. */
  summary(): IndexSummary {
    let failed = 0, cancelled = 0, open = 0, t1 = -Infinity, t0 = Infinity;
    for (const e of this.entries) {
      if (e.status === "Failed") failed++;
      else if (e.status === "Cancelled") cancelled++;
      else if (e.status === "Open") open++;
      if (e.start < t0) t0 = e.start;
      const end = e.end ?? e.start;
      if (end > t1) t1 = end;
    }
    const roots = this.#roots.map((i) => this.entries[i]);
    let status: RunStatus = this.#snapshotStatus ?? this.#savedStatus ?? "Open";
    if (this.#fromLog) {
      if (roots.length === 0 || roots.some((r) => r.status === "Open")) status = "Open";
      else if (roots.some((r) => r.status === "Failed")) status = "Failed";
      else if (roots.some((r) => r.status === "Cancelled")) status = "Cancelled";
      else status = "Completed";
      if (status !== "Open" && this.#savedStatus !== null && this.#savedStatus !== "Open") {
        status = this.#savedStatus;
      }
      if (status === "Open" && !this.#live) status = "Crashed";
    }
    const ended = roots.length > 0 && roots.every((r) => r.end !== null);
    return {
      runId: this.runId,
      name: runName(roots),
      status,
      startTime: isFinite(t0) ? Math.min(t0, this.#startTime ?? t0) : this.#startTime,
      // The run ends with its last request, which may outlive the top-level
      // ones (a flow's activations after their trigger).
      endTime: ended && isFinite(t1) ? t1 : null,
      live: this.#live,
      source: this.#fromLog ? "events" : "snapshot",
      eventsOffset: this.#offset,
      warnings: this.warnings.slice(0, 50),
      requests: this.entries.length,
      failed,
      cancelled,
      open,
      t0: isFinite(t0) ? t0 : null,
      t1: isFinite(t1) ? t1 : null,
    };
  }

  /**
   * Applies what the log gained since the last call (one at a time).
   * Reads the log in bounded chunks.
   */
  refresh(): Promise<void> {
    this.#refreshing = this.#refreshing.then(() => this.#refresh());
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    this.#live = await isEventLogActive(this.#logPath);
    if (!this.#fromLog) return;
    const decoder = new TextDecoder();
    const before = this.#version;
    for await (const line of readLines(this.#logPath, this.#offset)) {
      this.#offset = line.end;
      if (line.bytes.length === 0) continue;
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(decoder.decode(line.bytes));
      } catch {
        this.#warn(`bytes ${line.start}-${line.end}: not valid JSON`);
        continue;
      }
      this.#apply(event, line.start);
    }
    if (this.#version !== before) this.#order = null;
  }

  #warn(message: string): void {
    if (this.warnings.length < 1000) this.warnings.push(message);
  }

  #apply(event: Record<string, unknown>, at: number): void {
    const kind = event?.event;
    if (kind === "start") {
      if (typeof event.time === "number") this.#startTime ??= event.time;
    } else if (kind === "created") {
      this.#savedStatus = null;
      const { request, node, parentNode } = event;
      if (
        typeof request !== "string" || typeof node !== "string" ||
        (parentNode !== null && typeof parentNode !== "string")
      ) {
        return this.#warn(`byte ${at}: a created event without ids was skipped`);
      }
      if (this.#byId.has(request)) return this.#warn(`request ${request} created twice`);
      this.#add({
        id: request,
        parentNode: parentNode as string | null,
        parentId: null,
        node,
        name: typeof event.name === "string" ? event.name : String(event.name),
        nodeType: typeof event.nodeType === "string" ? event.nodeType : "?",
        start: Number(event.time) || 0,
        step: Number(event.step) || 0,
        args: event.args,
        createdAt: at,
      });
    } else if (typeof kind === "string" && kind in ENDED) {
      this.#savedStatus = null;
      const i = this.#byId.get(event.request as string);
      if (i === undefined) return this.#warn(`${kind} of unknown request ${event.request}`);
      if (Array.isArray(event.attempts)) this.entries[i].attempts = event.attempts.length;
      if (this.entries[i].status !== "Open") return;
      this.#end(i, ENDED[kind], Number(event.time) || this.entries[i].start, at);
    } else if (kind === "attempt") {
      const i = this.#byId.get(event.request as string);
      if (i !== undefined) {
        this.entries[i].attempts++;
        this.#version++;
      }
    } else if (kind === "saved" && typeof event.status === "string") {
      this.#savedStatus = event.status as RunStatus;
    }
  }

  #add(a: {
    id: string;
    parentNode: string | null;
    parentId: string | null;
    node: string;
    name: string;
    nodeType: string;
    start: number;
    step: number;
    args: unknown;
    createdAt: number;
  }): void {
    const parent = a.parentId !== null
      ? this.#byId.get(a.parentId) ?? -1
      : a.parentNode !== null
      ? this.#byNode.get(a.parentNode) ?? -1
      : -1;
    const i = this.entries.length;
    this.entries.push({
      id: a.id,
      parent,
      node: a.node,
      depth: parent < 0 ? 0 : this.entries[parent].depth + 1,
      name: a.name,
      nodeType: a.nodeType,
      status: "Open",
      start: a.start,
      end: null,
      step: a.step,
      args: preview(a.args),
      children: null,
      createdAt: a.createdAt,
      endedAt: -1,
      attempts: 0,
      failedBelow: 0,
      cancelledBelow: 0,
    });
    this.#byId.set(a.id, i);
    this.#byNode.set(a.node, i);
    if (parent < 0) this.#roots.push(i);
    else (this.entries[parent].children ??= []).push(i);
    this.#version++;
    this.#order = null;
  }

  #end(i: number, status: Status, time: number, at: number): void {
    const entry = this.entries[i];
    entry.status = status;
    entry.end = time;
    entry.endedAt = at;
    if (status === "Failed" || status === "Cancelled") {
      for (let p = entry.parent; p >= 0; p = this.entries[p].parent) {
        if (status === "Failed") this.entries[p].failedBelow++;
        else this.entries[p].cancelledBelow++;
      }
    }
    this.#version++;
  }

  /**
   * The full record of one request: its input, output and attempts read
   * back from the log (or the snapshot).
   *
   * @param i The request's index.
   * @returns Its details.
   */
  async details(i: number): Promise<RequestDetails> {
    const entry = this.entries[i];
    let input: unknown = entry.inline?.input ?? [];
    let output: unknown = entry.inline?.output ?? null;
    let attempts: unknown[] = entry.inline?.attempts ?? [];
    if (entry.createdAt >= 0) {
      const created = await readLineAt(this.#logPath, entry.createdAt);
      if (created) input = JSON.parse(created).args ?? [];
    }
    if (entry.endedAt >= 0) {
      const ended = await readLineAt(this.#logPath, entry.endedAt);
      if (ended) {
        const event = JSON.parse(ended);
        output = event.output ?? null;
        if (Array.isArray(event.attempts)) attempts = event.attempts;
      }
    }
    return {
      id: entry.id,
      parent: entry.parent < 0 ? null : this.entries[entry.parent].id,
      name: entry.name,
      nodeType: entry.nodeType,
      status: entry.status,
      start: entry.start,
      end: entry.end,
      depth: entry.depth,
      input,
      output,
      attempts,
      children: entry.children?.length ?? 0,
    };
  }
}

async function startsWithHeader(path: string): Promise<boolean> {
  if (!await isRunFile(path)) return false;
  try {
    for await (const line of readLines(path, 0)) {
      const first = JSON.parse(new TextDecoder().decode(line.bytes));
      return first?.event === "start" && first.format === EVENT_LOG_FORMAT;
    }
  } catch {
    return false;
  }
  return false;
}
