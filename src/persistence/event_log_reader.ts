/**
 * Reading event logs: parsing their lines (a torn last line is left out),
 * replaying them into an execution, and telling whether a process still
 * writes one.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { ExecutionInfo } from "../state/execution_info.ts";
import type { NodeRecord } from "../state/node_forest.ts";
import type { Stamp } from "../state/stamp.ts";
import type { CreatedEvent, RunEvent } from "./run_events.ts";

/** The parsed lines of an event log. */
export interface ParsedEventLog {
  /** The events, in file order. */
  events: RunEvent[];
  /** Bytes of complete lines read; a torn last line is not counted. */
  offset: number;
  /** Lines skipped, and why. */
  warnings: string[];
}

/**
 * Parses event-log bytes: every complete line that is a JSON object; a
 * torn last line (no final newline) is left for later.
 *
 * @param bytes The file's content, or a part of it starting at a line.
 * @returns The events, the bytes consumed and what was skipped.
 *
 * @example A torn last line is ignored
 * ```ts
 * import { parseEventLog } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * const text = '{"event":"saved","time":1,"status":"Completed","events":0}\n{"event":"crea';
 * const parsed = parseEventLog(new TextEncoder().encode(text));
 * assert.equal(parsed.events.length, 1);
 * assert.equal(parsed.offset, text.indexOf("\n") + 1);
 * assert.match(parsed.warnings[0], /torn last line/);
 * ```
 */
export function parseEventLog(bytes: Uint8Array): ParsedEventLog {
  const offset = bytes.lastIndexOf(10) + 1;
  const warnings: string[] = [];
  const events: RunEvent[] = [];
  const text = new TextDecoder().decode(bytes.subarray(0, offset));
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    try {
      const value = JSON.parse(line);
      if (typeof value?.event === "string") events.push(value as RunEvent);
      else warnings.push(`line ${i + 1}: not an event`);
    } catch {
      warnings.push(`line ${i + 1}: not valid JSON`);
    }
  }
  if (offset < bytes.length) {
    warnings.push(
      `ignored a torn last line (${bytes.length - offset} bytes)`,
    );
  }
  return { events, offset, warnings };
}

/**
 * Rebuilds an execution from its events, with the stamps they carry.
 *
 * @param events The events of one run, in file order.
 * @returns The execution and what was skipped (ends of unknown requests, …).
 *
 * @example Replaying two events
 * ```ts
 * import { rebuildExecution, type RunEvent } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * const events: RunEvent[] = [
 *   { event: "created", time: 1, step: 0, request: "r", parentNode: null, node: "n", name: "one", nodeType: "async", args: [] },
 *   { event: "completed", time: 2, step: 1, request: "r", output: 1 },
 * ];
 * const { info } = rebuildExecution(events);
 * assert.equal(info.status, "Completed");
 * assert.equal(info.answer, 1);
 * assert.equal(info.name, "one");
 * ```
 */
export function rebuildExecution(
  events: readonly RunEvent[],
): { info: ExecutionInfo; warnings: string[] } {
  const info = ExecutionInfo.createNew();
  const stamps: Stamp[] = [];
  const warnings: string[] = [];
  const statuses = {
    completed: "Completed",
    failed: "Failed",
    cancelled: "Cancelled",
  } as const;
  // A corrupted step or time borrows the previous event's, so the stamps
  // still sort; the event itself is kept.
  let last = { time: 0, step: 0 };
  const stampOf = (event: { time: unknown; step: unknown }, identifier: string): Stamp => {
    const valid = isFiniteNumber(event.time) && isFiniteNumber(event.step);
    if (!valid) warnings.push(`${identifier}: step or time is not a number; kept the previous one`);
    const stamp = {
      time: isFiniteNumber(event.time) ? event.time : last.time,
      step: isFiniteNumber(event.step) ? event.step : last.step,
      identifier,
    };
    last = stamp;
    return stamp;
  };
  for (const event of events) {
    if (event.event === "created") {
      // A corrupted line must cost that request only, not the whole log.
      if (
        typeof event.request !== "string" || typeof event.node !== "string" ||
        (event.parentNode !== null && typeof event.parentNode !== "string")
      ) {
        warnings.push(
          `created event skipped as its request, node or parentNode is not an id: ${
            JSON.stringify([event.request, event.node, event.parentNode]).slice(0, 200)
          }`,
        );
        continue;
      }
      if (info.requestHeap.has(event.request)) {
        warnings.push(`request ${event.request} created twice`);
        continue;
      }
      const stamp = stampOf(event, `Created request ${event.request}`);
      stamps.push(stamp);
      info.nodeHeap.upsert(nodeRecord(event, stamp));
      info.requestHeap.create(
        event.request,
        event.parentNode,
        event.node,
        Array.isArray(event.args) ? event.args : [],
        stamp,
      );
    } else if (event.event in statuses) {
      const end = event as Extract<RunEvent, { event: keyof typeof statuses }>;
      const status = statuses[end.event];
      if (typeof end.request !== "string") {
        warnings.push(
          `${end.event} event skipped as its request is not an id: ${
            describeValue(end.request, 80)
          }`,
        );
        continue;
      }
      const current = info.requestHeap.get(end.request);
      if (!current) {
        warnings.push(`${end.event} of unknown request ${end.request}`);
        continue;
      }
      if (current.status !== "Open") continue;
      let stamp = stampOf(end, `${status} request ${end.request}`);
      if (stamp.step < current.stamp.step) {
        // A version may not go back in steps: a corrupted end borrows its start's.
        warnings.push(`${end.event} of ${end.request}: step goes back; kept its creation step`);
        stamp = { ...stamp, step: current.stamp.step };
      }
      stamps.push(stamp);
      const attempts = Array.isArray(end.attempts) ? end.attempts : undefined;
      info.requestHeap.update(end.request, end.output, status, stamp, attempts);
    }
  }
  info.stamper.adopt(stamps.sort((a, b) => a.step - b.step));
  return { info, warnings };
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function nodeRecord(event: CreatedEvent, stamp: Stamp): NodeRecord {
  return {
    identifier: event.node,
    name: typeof event.name === "string" ? event.name : describeValue(event.name, 80),
    nodeType: typeof event.nodeType === "string"
      ? event.nodeType
      : describeValue(event.nodeType, 80),
    stamp,
    parent: null,
  };
}

/**
 * Whether a process holds the event log open for writing (its writer keeps
 * an exclusive lock until it closes or dies).
 *
 * @param path The event log's path.
 * @returns `true` while a writer is alive; `false` otherwise or if absent.
 *
 * @example While a runner writes
 * ```ts
 * import { eventLogPath, isEventLogActive } from "@switchyard/core/persistence";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * const path = eventLogPath(stateDir, "w");
 * const runner = new Runner({ saveState: true, stateDir, runIdentifier: "w", loggingSetting: "NONE" });
 * await runner.run(node(() => 1, { name: "one" }));
 * assert.equal(await isEventLogActive(path), true);
 * await runner.shutdown();
 * assert.equal(await isEventLogActive(path), false);
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export async function isEventLogActive(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return false;
  }
  try {
    const free = await file.tryLock(false);
    if (free) await file.unlock();
    return !free;
  } finally {
    file.close();
  }
}
