/**
 * The event log of a saved run: `<stateDir>/runs/<runId>.events.jsonl`, one
 * JSON object per line, appended while the run goes so that a run that dies
 * can still be read back.
 *
 * The lines are read from the request rows, not from the runtime's
 * messages: the writer notes which rows are new and which of the rows it
 * saw open have ended since it last looked, so a run that saves builds no
 * message for it (see {@linkcode EventLogWriter}); `_event_lines.ts`
 * encodes each line from its row.
 *
 * Durability `"batch"` (the default): lines are encoded into a batch in
 * memory, and the batch is written with one synchronous `write`: every
 * {@linkcode EVENT_LOG_BATCH_MS} ms while the run is open (an unreferenced
 * interval), when a macrotask that published runtime messages ends, when
 * a batch reaches {@linkcode EVENT_LOG_BATCH_BYTES}, at once when the run
 * saves its snapshot or ends, when the writer closes (as `switchyard run`
 * does on SIGINT and SIGTERM), and when the process exits normally, by
 * `Deno.exit()`, or by an uncaught error or an unhandled rejection. A
 * process killed with SIGKILL (or by a signal nothing handles) loses at
 * most what happened since the last write: the events of the last
 * interval, or of the current macrotask when the event loop has not turned
 * since; what was written loads (the loader ignores a torn last line). A
 * power loss may lose what the OS had not flushed. See
 * `bench/persistence_bench.ts` for the cost.
 *
 * Durability `"event"`: the runtime tells the writer of each record as it
 * is written ({@linkcode EventLogWriter.opened},
 * {@linkcode EventLogWriter.ended}), and the writer writes its line at once
 * with one synchronous `write`, before the caller learns of it: a process
 * killed at any moment loses at most the line being written. Neither mode
 * calls `fsync`.
 *
 * @module
 */
import { join } from "node:path";
import { JsonBytes } from "../core/json_bytes.ts";
import { logger } from "../core/logging.ts";
import type { RuntimeMessage } from "../pubsub/messages.ts";
import type { ExecutionInfo, ExecutionStatus } from "../state/execution_info.ts";
import { emptyRowData, type RowData } from "../state/request_forest.ts";
import { runsDir } from "./run_store.ts";
import { stepOrder } from "../state/step_order.ts";
import { writeCreatedLine, writeEndLine, writeSavedLine, writeStartLine } from "./_event_lines.ts";

const log = logger("persistence");

/**
 * The size at which a batch of event-log lines is written while the
 * writer reads the rows (bytes).
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
 * How often (ms) an open event log reads the rows and writes what is new.
 *
 * @example
 * ```ts
 * import { EVENT_LOG_BATCH_MS } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * assert.equal(EVENT_LOG_BATCH_MS, 20);
 * ```
 */
export const EVENT_LOG_BATCH_MS = 20;

// The open writers, flushed when the process exits (normally, by Deno.exit(), or by an uncaught error or an
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

/** Options of {@linkcode EventLogWriter}. */
export interface EventLogWriterOptions {
  /**
   * `"batch"`: lines are read from the rows and written in batches;
   * `"event"`: each line is written when {@linkcode EventLogWriter.opened}
   * or {@linkcode EventLogWriter.ended} is called (see the module's notes).
   *
   * @default {"batch"}
   */
  durability?: "batch" | "event";
}

/**
 * Appends the events of one run to its log, read from the run's request
 * rows: a `created` line for each new request, an end line for each that
 * ended, in batches (see the module's notes on durability). Subscribe
 * {@linkcode EventLogWriter.handle} on the runner's publisher, passively
 * (`{ passive: true }`), so that a macrotask that published messages is
 * written when it ends; without messages the writer reads the rows every
 * {@linkcode EVENT_LOG_BATCH_MS} ms. The record, not a message, is what
 * gets written (a node timeout, for instance, is recorded before its task
 * settles).
 *
 * With `durability: "event"`, pass the writer to the run's `RTState` as
 * its record listener instead: each line is written as its record is, and
 * the rows are not read again (`handle` and `reconcile` do nothing).
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
 * runner.publisher.subscribe((m) => writer.handle(m), "event-log", { passive: true });
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
  // Invariant: with #eachEvent, every line is written as soon as it is
  // encoded (#batch is empty between calls) and the rows are never read
  // again: opened()/ended() are the only source of request lines.
  readonly #eachEvent: boolean;
  // Invariant: #batch holds encoded lines not written yet, whole lines only.
  readonly #batch = new JsonBytes(EVENT_LOG_BATCH_BYTES + 4096);
  // Invariant: rows below #next have their created line encoded; of those,
  // #openRows[0..#openCount-1] are the rows that were open when last read (their
  // end not encoded yet); every other one has its end line encoded.
  #next = 0;
  #openRows = new Int32Array(256);
  #openCount = 0;
  // The stamp step when the rows were last read: no new stamp, nothing new.
  #readAtStep = -1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #interval: ReturnType<typeof setInterval> | undefined;
  readonly #row: RowData = emptyRowData();
  #file: Deno.FsFile | null = null;
  #requestEvents = 0;
  #state: "new" | "open" | "closed" | "broken" = "new";

  /**
   * Makes a writer; the file is created at the first event.
   *
   * @param stateDir The state folder.
   * @param runId The run identifier.
   * @param info The execution whose records are written.
   * @param options How lines reach the file.
   */
  constructor(
    stateDir: string,
    runId: string,
    info: ExecutionInfo,
    options: EventLogWriterOptions = {},
  ) {
    this.#dir = runsDir(stateDir);
    this.#runId = runId;
    this.#info = info;
    this.#eachEvent = options.durability === "event";
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
   * Notes that the runtime published a message: the rows are read and the
   * batch written when the current macrotask ends.
   *
   * @param message A runtime message.
   */
  handle(message: RuntimeMessage): void {
    if (message.kind === "creation" && this.#state === "new") this.#open();
    if (this.#eachEvent || this.#timer !== undefined || this.#state !== "open") return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, 0);
  }

  /**
   * Reads the rows and encodes what is new into the batch: a created line
   * for each new request, an end line for each that ended (one that timed
   * out while its task never settled, say). Does nothing with
   * `durability: "event"`, where every line is already written.
   */
  reconcile(): void {
    if (this.#state === "new" && this.#info.requestHeap.rowCount > 0) this.#open();
    if (this.#state !== "open" || this.#eachEvent) return;
    const step = this.#info.stamper.currentStep;
    if (step === this.#readAtStep) return;
    this.#readAtStep = step;
    const requests = this.#info.requestHeap;
    const ended: number[] = [];
    let kept = 0;
    for (let i = 0; i < this.#openCount; i++) {
      const row = this.#openRows[i];
      if (requests.statusOf(row) === "Open") this.#openRows[kept++] = row;
      else ended.push(row);
    }
    this.#openCount = kept;
    const rows = requests.rowCount;
    for (let row = this.#next; row < rows; row++) {
      if (requests.statusOf(row) !== "Open") ended.push(row);
      else {
        if (this.#openCount === this.#openRows.length) {
          const more = new Int32Array(this.#openRows.length * 2);
          more.set(this.#openRows);
          this.#openRows = more;
        }
        this.#openRows[this.#openCount++] = row;
      }
    }
    // Creations and ends merged by step: the lines come in the order the
    // events happened.
    const ends = this.#byEndStep(ended);
    const info = this.#info, out = this.#batch, data = this.#row;
    let e = 0;
    for (let row = this.#next; row < rows; row++) {
      const step = requests.readRow(row, data)
        ? data.step0
        : requests.versionsOf(row)[0].stamp.step;
      while (e < ends.rows.length && ends.steps[e] < step) {
        writeEndLine(out, info, ends.rows[e++], data);
        this.#done();
      }
      writeCreatedLine(out, info, row, data);
      this.#done();
    }
    while (e < ends.rows.length) {
      writeEndLine(out, info, ends.rows[e++], data);
      this.#done();
    }
    this.#next = rows;
  }

  /**
   * Writes the created line of a request just recorded as open (with
   * `durability: "event"`; nothing otherwise).
   *
   * @param row Its row in the run's request forest.
   */
  opened(row: number): void {
    if (!this.#eachEvent) return;
    if (this.#state === "new") this.#open();
    if (this.#state !== "open") return;
    writeCreatedLine(this.#batch, this.#info, row, this.#row);
    this.#done();
    this.#write();
  }

  /**
   * Writes the end line of a request just recorded as ended (with
   * `durability: "event"`; nothing otherwise).
   *
   * @param row Its row in the run's request forest.
   */
  ended(row: number): void {
    if (!this.#eachEvent || this.#state !== "open") return;
    writeEndLine(this.#batch, this.#info, row, this.#row);
    this.#done();
    this.#write();
  }

  /**
   * Notes that the snapshot now holds everything logged so far, and writes
   * the batch.
   *
   * @param status The execution's status in that snapshot.
   */
  markSaved(status: ExecutionStatus): void {
    this.reconcile();
    if (this.#state !== "open") return;
    writeSavedLine(this.#batch, status, this.#requestEvents);
    this.#write();
  }

  /**
   * Reads the rows and writes what is new now, with one synchronous write
   * per {@linkcode EVENT_LOG_BATCH_BYTES}. Safe to call at any time.
   */
  flush(): void {
    this.reconcile();
    this.#write();
  }

  /** Writes the batch, closes the file and releases its lock. Safe to call more than once. */
  close(): void {
    this.flush();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#timer = this.#interval = undefined;
    unflushed.delete(this);
    if (this.#state === "open") this.#file?.close();
    this.#file = null;
    if (this.#state !== "broken") this.#state = "closed";
  }

  /** Rows sorted by their end stamps' steps, stably (see `stepOrder`). */
  #byEndStep(rows: number[]): { rows: number[]; steps: Float64Array } {
    const requests = this.#info.requestHeap;
    const steps = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      steps[i] = requests.readRow(row, this.#row)
        ? this.#row.step1
        : requests.recordOf(row).stamp.step;
    }
    const order = stepOrder(steps, rows.length);
    if (order === null) return { rows, steps };
    const sortedRows = new Array<number>(rows.length);
    const sortedSteps = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      sortedRows[i] = rows[order[i]];
      sortedSteps[i] = steps[order[i]];
    }
    return { rows: sortedRows, steps: sortedSteps };
  }

  /** Counts a request line; writes the batch once it is big enough. */
  #done(): void {
    this.#requestEvents++;
    if (this.#batch.length >= EVENT_LOG_BATCH_BYTES) this.#write();
  }

  /** Writes the batch with one synchronous write. */
  #write(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    if (this.#state === "open") {
      const bytes = batch.view();
      try {
        for (let written = 0; written < bytes.length;) {
          written += this.#file!.writeSync(written === 0 ? bytes : bytes.subarray(written));
        }
      } catch (error) {
        batch.clear();
        this.#fail(error);
        return;
      }
    }
    batch.clear();
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
    writeStartLine(this.#batch, this.#runId);
    this.#write();
    if (this.#eachEvent) return;
    // Unreferenced: an open log never keeps the process alive; the exit
    // hooks write what is left.
    this.#interval = setInterval(() => this.flush(), EVENT_LOG_BATCH_MS);
    Deno.unrefTimer(this.#interval);
    unflushed.add(this);
    hookExit();
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
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
    unflushed.delete(this);
  }
}
