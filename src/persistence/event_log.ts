/**
 * The event log of a saved run: `<stateDir>/runs/<runId>.events.jsonl`, one
 * JSON object per line, appended while the run goes so that a run that dies
 * can still be read back.
 *
 * Durability: each event is written with one synchronous `write` before the
 * subscriber that receives its message returns, so the event reaches the
 * operating system before the runtime moves on. A process killed with
 * SIGKILL loses at most the line being written (the loader ignores a torn
 * last line); a power loss may lose what the OS had not flushed. Events are
 * not batched: a batch held in memory until the next tick would be lost
 * whole by a kill. The cost is one small write per event (see
 * `bench/persistence_bench.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { logger } from "../core/logging.ts";
import type { RuntimeMessage } from "../pubsub/messages.ts";
import type { ExecutionInfo, ExecutionStatus } from "../state/execution_info.ts";
import type { AttemptRecord, RequestRecord } from "../state/request_forest.ts";
import { safeStringify } from "../core/json_safe.ts";
import { runsDir } from "./run_store.ts";

const log = logger("persistence");

/** The format marker written on the first line of every event log. */
export const EVENT_LOG_FORMAT = "switchyard.events/1";

/** The first line: which run the log belongs to. */
export interface StartEvent {
  /** Always `"start"`. */
  event: "start";
  /** Always {@linkcode EVENT_LOG_FORMAT}. */
  format: typeof EVENT_LOG_FORMAT;
  /** The runner's run identifier. */
  runId: string;
  /** When the log was opened (ms since the epoch). */
  time: number;
  /** The writing process. */
  pid: number;
}

/** A request was created. */
export interface CreatedEvent {
  /** Always `"created"`. */
  event: "created";
  /** The creation stamp's time. */
  time: number;
  /** The creation stamp's step. */
  step: number;
  /** The request id. */
  request: string;
  /** The calling node instance, `null` for a top-level request. */
  parentNode: string | null;
  /** The node instance serving the request. */
  node: string;
  /** The node's name. */
  name: string;
  /** How it runs (`"async"`, `"worker"`, …). */
  nodeType: string;
  /** The call's arguments, JSON-safe. */
  args: unknown[];
}

/** A request ended. */
export interface EndedEvent {
  /** How it ended. */
  event: "completed" | "failed" | "cancelled";
  /** The end stamp's time. */
  time: number;
  /** The end stamp's step. */
  step: number;
  /** The request id. */
  request: string;
  /** The returned value (completed) or the error (failed, cancelled), JSON-safe. */
  output: unknown;
  /** Every attempt of a retried request (errors JSON-safe); absent for one attempt. */
  attempts?: readonly AttemptRecord[];
}

/** The snapshot `<runId>.json` was written with everything logged so far. */
export interface SavedEvent {
  /** Always `"saved"`. */
  event: "saved";
  /** When. */
  time: number;
  /** The execution's status at that moment. */
  status: ExecutionStatus;
  /**
   * How many `created` and end lines precede this one; a snapshot holding
   * at least as many request versions holds everything logged before it.
   */
  events: number;
}

/** One line of an event log. */
export type RunEvent = StartEvent | CreatedEvent | EndedEvent | SavedEvent;

const ENDED = {
  Completed: "completed",
  Failed: "failed",
  Cancelled: "cancelled",
} as const;

/**
 * Where the event log of a run lives.
 *
 * @param stateDir The state folder, e.g. `.switchyard`.
 * @param runId The run identifier.
 * @returns `<stateDir>/runs/<runId>.events.jsonl`.
 *
 * @example
 * ```ts
 * import { eventLogPath } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * assert.equal(eventLogPath(".switchyard", "r1"), ".switchyard/runs/r1.events.jsonl");
 * ```
 */
export function eventLogPath(stateDir: string, runId: string): string {
  return join(runsDir(stateDir), `${runId}.events.jsonl`);
}

/**
 * Appends the events of one run to its log, from the runtime's messages.
 * Subscribe {@linkcode EventLogWriter.handle} on the runner's publisher
 * after the runtime state, so that each request's record is up to date when
 * its message arrives; the record, not the message, is what gets written
 * (a node timeout, for instance, is recorded before its task settles).
 *
 * The writer holds an exclusive lock on the file while it is open: a
 * reader that can take the lock knows no process is writing any more.
 * A write error is logged once and turns the log off; it never fails the run.
 *
 * @example Logging a run by hand
 * ```ts
 * import { EventLogWriter } from "@switchyard/core/persistence";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * await using runner = new Runner({ runIdentifier: "demo" });
 * const writer = new EventLogWriter(stateDir, "demo", runner.info);
 * runner.publisher.subscribe((m) => writer.handle(m), "event-log");
 * await runner.run(node(async () => 1, { name: "one" }));
 * writer.close();
 * const lines = (await Deno.readTextFile(writer.path)).trim().split("\n");
 * assert.deepEqual(lines.map((l) => JSON.parse(l).event), ["start", "created", "completed"]);
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export class EventLogWriter {
  /** The log file's path. */
  readonly path: string;
  readonly #dir: string;
  readonly #runId: string;
  readonly #info: ExecutionInfo;
  readonly #encoder = new TextEncoder();
  // Invariant: #ended holds the ids of the requests whose end has been
  // written, so each request gets exactly one end line.
  readonly #ended = new Set<string>();
  #file: Deno.FsFile | null = null;
  #requestEvents = 0;
  #state: "new" | "open" | "closed" | "broken" = "new";

  /**
   * Makes a writer; the file is created at the first event.
   *
   * @param stateDir The state folder.
   * @param runId The run identifier.
   * @param info The execution whose records are written.
   */
  constructor(stateDir: string, runId: string, info: ExecutionInfo) {
    this.#dir = runsDir(stateDir);
    this.#runId = runId;
    this.#info = info;
    this.path = eventLogPath(stateDir, runId);
  }

  /**
   * Opens the file now, taking its lock and writing the start line, instead
   * of at the first event: a reader then sees the run as live from the
   * start. Does nothing once opened.
   */
  open(): void {
    if (this.#state === "new") this.#open();
  }

  /** Whether events are still being written (not closed, not broken). */
  get isWriting(): boolean {
    return this.#state === "new" || this.#state === "open";
  }

  /**
   * Writes the event a runtime message stands for; other messages are
   * ignored.
   *
   * @param message A runtime message.
   */
  handle(message: RuntimeMessage): void {
    switch (message.kind) {
      case "creation": {
        const record = this.#info.requestHeap.history(message.requestId)[0];
        this.#write({
          event: "created",
          time: record?.stamp.time ?? message.time,
          step: record?.stamp.step ?? -1,
          request: message.requestId,
          parentNode: message.parentNodeId,
          node: message.nodeId,
          name: message.nodeName,
          nodeType: message.nodeType,
          args: [...message.args],
        });
        return;
      }
      case "success":
      case "failure":
      case "cancellation":
        this.#writeEnd(this.#info.requestHeap.get(message.requestId));
        return;
      case "creationFailure": {
        // Published before the record is closed: write the end it will get.
        if (this.#ended.has(message.requestId)) return;
        this.#ended.add(message.requestId);
        this.#write({
          event: "failed",
          time: message.time,
          step: this.#info.stamper.currentStep,
          request: message.requestId,
          output: message.error,
        });
      }
    }
  }

  /**
   * Writes the end of every request recorded as ended whose end was not
   * written yet (one that timed out while its task never settled, say).
   */
  reconcile(): void {
    if (this.#state !== "open") return;
    for (const record of this.#info.requestHeap.values()) {
      if (record.status !== "Open") this.#writeEnd(record);
    }
  }

  /**
   * Notes that the snapshot now holds everything logged so far.
   *
   * @param status The execution's status in that snapshot.
   */
  markSaved(status: ExecutionStatus): void {
    if (this.#state !== "open") return;
    this.#write({
      event: "saved",
      time: Date.now(),
      status,
      events: this.#requestEvents,
    });
  }

  /** Closes the file and releases its lock. Safe to call more than once. */
  close(): void {
    if (this.#state === "open") this.#file?.close();
    this.#file = null;
    if (this.#state !== "broken") this.#state = "closed";
  }

  #writeEnd(record: RequestRecord | undefined): void {
    if (!record || record.status === "Open") return;
    if (this.#ended.has(record.identifier)) return;
    this.#ended.add(record.identifier);
    this.#write({
      event: ENDED[record.status],
      time: record.stamp.time,
      step: record.stamp.step,
      request: record.identifier,
      output: record.output,
      ...(record.attempts === undefined ? {} : { attempts: record.attempts }),
    });
  }

  #write(event: RunEvent): void {
    if (this.#state === "new") this.#open();
    if (this.#state !== "open") return;
    if (event.event !== "start" && event.event !== "saved") {
      this.#requestEvents++;
    }
    const bytes = this.#encoder.encode(safeStringify(event) + "\n");
    try {
      let written = 0;
      while (written < bytes.length) {
        written += this.#file!.writeSync(bytes.subarray(written));
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  #open(): void {
    try {
      Deno.mkdirSync(this.#dir, { recursive: true });
      this.#file = Deno.openSync(this.path, { append: true, create: true });
      if (!this.#file.tryLockSync(true)) {
        log.warn(
          "Event log {path} is locked by another writer; writing anyway",
          { path: this.path },
        );
      }
      this.#state = "open";
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#write({
      event: "start",
      format: EVENT_LOG_FORMAT,
      runId: this.#runId,
      time: Date.now(),
      pid: Deno.pid,
    });
  }

  #fail(error: unknown): void {
    log.error("Cannot write event log {path}; logging stops: {error}", {
      path: this.path,
      error,
    });
    try {
      this.#file?.close();
    } catch { /* already closed */ }
    this.#file = null;
    this.#state = "broken";
  }
}
