/**
 * The event log of a saved run: `<stateDir>/runs/<runId>.events.jsonl`, one
 * JSON object per line, appended while the run goes so that a run that dies
 * can still be read back.
 *
 * Durability: lines are encoded into a batch in memory and the batch is
 * written with one synchronous `write` when the current macrotask ends (a
 * zero-delay timer), when it holds {@linkcode EVENT_LOG_BATCH_BYTES}
 * bytes, when its first event is {@linkcode EVENT_LOG_BATCH_MS} ms older
 * than the newest, and at once when the run saves its snapshot or ends,
 * when the writer closes (as `switchyard run` does on SIGINT and SIGTERM),
 * and when the process exits, normally or by an uncaught error or an
 * unhandled rejection. A process killed with SIGKILL (or a signal nothing
 * handles) loses at most the batch not yet written: the events of its last
 * macrotask, at most that many bytes or milliseconds; what was written
 * loads (the loader ignores a torn last line). A power loss may lose what
 * the OS had not flushed. See `bench/persistence_bench.ts` for the cost.
 *
 * @module
 */
import { join } from "node:path";
import { JsonBytes } from "../core/json_bytes.ts";
import { logger } from "../core/logging.ts";
import type { RuntimeMessage } from "../pubsub/messages.ts";
import type { ExecutionInfo, ExecutionStatus } from "../state/execution_info.ts";
import type { AttemptRecord, RowData } from "../state/request_forest.ts";
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

/**
 * The size at which a batch of event-log lines is written without waiting
 * for the end of the macrotask (bytes).
 *
 * @example
 * ```ts
 * import { EVENT_LOG_BATCH_BYTES } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * assert.equal(EVENT_LOG_BATCH_BYTES, 256 * 1024);
 * ```
 */
export const EVENT_LOG_BATCH_BYTES = 256 * 1024;

/**
 * The age (ms, by the events' own times) at which a batch of event-log
 * lines is written without waiting for the end of the macrotask.
 *
 * @example
 * ```ts
 * import { EVENT_LOG_BATCH_MS } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * assert.equal(EVENT_LOG_BATCH_MS, 50);
 * ```
 */
export const EVENT_LOG_BATCH_MS = 50;

const ENDED: Readonly<Record<string, string>> = {
  Completed: '{"event":"completed","time":',
  Failed: '{"event":"failed","time":',
  Cancelled: '{"event":"cancelled","time":',
};

// The writers with a batch that may not be written yet, flushed when the
// process exits (normally, by Deno.exit(), or by an uncaught error or an
// unhandled rejection: these listeners do not prevent the exit).
const unflushed = new Set<EventLogWriter>();
let exitHooked = false;

function flushAll(): void {
  for (const writer of [...unflushed]) writer.flush();
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  for (const name of ["unload", "error", "unhandledrejection"]) {
    globalThis.addEventListener(name, flushAll);
  }
}

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
  // Invariant: #batch holds the encoded lines not written yet, whole lines
  // only; #batchTime is the time of its first event; #timer is armed
  // exactly while #batch is not empty (and the writer is in #unflushed).
  readonly #batch = new JsonBytes(EVENT_LOG_BATCH_BYTES + 4096);
  #batchTime = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  // Invariant: #ended[row] is 1 once the end of the request in that row
  // has been encoded (#endedIds for an id with no row), so each request
  // gets exactly one end line.
  #ended = new Uint8Array(1024);
  readonly #endedIds = new Set<string>();
  readonly #row: RowData = {
    time0: 0,
    step0: 0,
    time1: 0,
    step1: 0,
    status: "Open",
    input: [],
    output: undefined,
  };
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
   * ignored. The line joins the current batch (see the module's notes on
   * durability).
   *
   * @param message A runtime message.
   */
  handle(message: RuntimeMessage): void {
    switch (message.kind) {
      case "creation":
        this.#writeCreated(
          message.requestId,
          message.parentNodeId,
          message.nodeId,
          message.nodeName,
          message.nodeType,
          message.args,
          message.time,
        );
        return;
      case "success":
      case "failure":
      case "cancellation":
        this.#writeEnd(this.#info.requestHeap.rowOf(message.requestId));
        return;
      case "creationFailure": {
        // Published before the record is closed: write the end it will get.
        const row = this.#info.requestHeap.rowOf(message.requestId);
        if (!this.#markEnded(row, message.requestId)) return;
        const out = this.#line();
        if (out === null) return;
        out.ascii(ENDED.Failed);
        out.number(message.time);
        this.#endTail(out, this.#info.stamper.currentStep, message.requestId, message.error);
        this.#done(message.time, true);
      }
    }
  }

  /**
   * Writes the end of every request recorded as ended whose end was not
   * written yet (one that timed out while its task never settled, say).
   */
  reconcile(): void {
    if (this.#state !== "open") return;
    const requests = this.#info.requestHeap;
    for (let row = 0; row < requests.rowCount; row++) {
      if (requests.statusOf(row) !== "Open") this.#writeEnd(row);
    }
  }

  /**
   * Notes that the snapshot now holds everything logged so far, and writes
   * the batch.
   *
   * @param status The execution's status in that snapshot.
   */
  markSaved(status: ExecutionStatus): void {
    if (this.#state !== "open") return;
    const out = this.#line()!;
    const time = Date.now();
    out.ascii('{"event":"saved","time":');
    out.number(time);
    out.ascii(',"status":');
    out.string(status);
    out.ascii(',"events":');
    out.number(this.#requestEvents);
    out.ascii("}\n");
    this.#done(time, false);
    this.flush();
  }

  /**
   * Writes the batch now, with one synchronous write. Safe to call at any
   * time; does nothing when the batch is empty.
   */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    unflushed.delete(this);
    const batch = this.#batch;
    if (batch.length === 0) return;
    if (this.#state === "open") {
      const bytes = batch.view();
      try {
        for (let written = 0; written < bytes.length;) {
          written += this.#file!.writeSync(bytes.subarray(written));
        }
      } catch (error) {
        batch.clear();
        this.#fail(error);
        return;
      }
    }
    batch.clear();
  }

  /** Writes the batch, closes the file and releases its lock. Safe to call more than once. */
  close(): void {
    this.flush();
    if (this.#state === "open") this.#file?.close();
    this.#file = null;
    if (this.#state !== "broken") this.#state = "closed";
  }

  #writeCreated(
    id: string,
    parentNode: string | null,
    nodeId: string,
    name: string,
    nodeType: string,
    args: readonly unknown[],
    messageTime: number,
  ): void {
    const requests = this.#info.requestHeap;
    const row = requests.rowOf(id);
    let time = messageTime, step = -1;
    if (row >= 0 && requests.readRow(row, this.#row)) {
      time = this.#row.time0;
      step = this.#row.step0;
    } else {
      const record = requests.history(id)[0];
      if (record) ({ time, step } = record.stamp);
    }
    const out = this.#line();
    if (out === null) return;
    out.ascii('{"event":"created","time":');
    out.number(time);
    out.ascii(',"step":');
    out.number(step);
    out.ascii(',"request":');
    out.string(id);
    out.ascii(',"parentNode":');
    if (parentNode === null) out.ascii("null");
    else out.string(parentNode);
    out.ascii(',"node":');
    out.string(nodeId);
    out.ascii(',"name":');
    out.string(name);
    out.ascii(',"nodeType":');
    out.string(nodeType);
    out.ascii(',"args":[');
    for (let i = 0; i < args.length; i++) {
      if (i > 0) out.ascii(",");
      out.value(args[i]);
    }
    out.ascii("]}\n");
    this.#done(time, true);
  }

  #writeEnd(row: number): void {
    if (row < 0) return;
    const requests = this.#info.requestHeap;
    const data = this.#row;
    if (requests.readRow(row, data)) {
      if (data.status === "Open" || !this.#markEnded(row, "")) return;
      const out = this.#line();
      if (out === null) return;
      out.ascii(ENDED[data.status]);
      out.number(data.time1);
      this.#endTail(out, data.step1, requests.idOf(row), data.output);
      this.#done(data.time1, true);
      return;
    }
    const record = requests.recordOf(row);
    if (record.status === "Open" || !this.#markEnded(row, "")) return;
    const out = this.#line();
    if (out === null) return;
    out.ascii(ENDED[record.status]);
    out.number(record.stamp.time);
    out.ascii(',"step":');
    out.number(record.stamp.step);
    out.ascii(',"request":');
    out.string(record.identifier);
    out.ascii(',"output":');
    out.value(record.output);
    if (record.attempts !== undefined) {
      out.ascii(',"attempts":');
      out.value(record.attempts);
    }
    out.ascii("}\n");
    this.#done(record.stamp.time, true);
  }

  #endTail(out: JsonBytes, step: number, id: string, output: unknown): void {
    out.ascii(',"step":');
    out.number(step);
    out.ascii(',"request":');
    out.string(id);
    out.ascii(',"output":');
    out.value(output);
    out.ascii("}\n");
  }

  /** Marks a request's end as written; `false` if it was already. */
  #markEnded(row: number, id: string): boolean {
    if (row < 0) {
      if (this.#endedIds.has(id)) return false;
      this.#endedIds.add(id);
      return true;
    }
    if (row >= this.#ended.length) {
      const next = new Uint8Array(Math.max(row + 1, this.#ended.length * 2));
      next.set(this.#ended);
      this.#ended = next;
    }
    if (this.#ended[row] === 1) return false;
    this.#ended[row] = 1;
    return true;
  }

  /** The batch to encode the next line into, or `null` when not writing. */
  #line(): JsonBytes | null {
    if (this.#state === "new") this.#open();
    return this.#state === "open" ? this.#batch : null;
  }

  /** Ends a line encoded into the batch: counts it and writes the batch when due. */
  #done(time: number, request: boolean): void {
    if (request) this.#requestEvents++;
    if (this.#timer === undefined) {
      this.#batchTime = time;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, 0);
      unflushed.add(this);
      hookExit();
    }
    if (
      this.#batch.length >= EVENT_LOG_BATCH_BYTES || time - this.#batchTime >= EVENT_LOG_BATCH_MS
    ) {
      this.flush();
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
    const out = this.#batch;
    const time = Date.now();
    out.ascii('{"event":"start","format":');
    out.string(EVENT_LOG_FORMAT);
    out.ascii(',"runId":');
    out.string(this.#runId);
    out.ascii(',"time":');
    out.number(time);
    out.ascii(',"pid":');
    out.number(Deno.pid);
    out.ascii("}\n");
    this.#done(time, false);
    // Written at once: a reader of a run just opened sees whose log it is.
    this.flush();
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
