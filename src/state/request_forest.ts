/**
 * Requests: one record per call, versioned from `Open` to its end.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { checkVersion, type ForestRecord, ForestVersionError } from "./forest.ts";
import type { Stamp } from "./stamp.ts";
import { RequestRows } from "./request_rows.ts";
import { freshPrefix } from "./_rows.ts";

/** Where a request stands. */
export type RequestStatus = "Open" | "Completed" | "Failed" | "Cancelled";

// --- Attempts of a retried request (a separate addition to the record) ---

/**
 * One attempt of a request whose node has `retries`: when it ran, how it
 * ended, and how long the runtime waited before the next one.
 */
export interface AttemptRecord {
  /** 1 for the first run, 2 for the first retry, … */
  readonly attempt: number;
  /** When the attempt started (ms since the epoch). */
  readonly start: number;
  /** When it ended (ms since the epoch). */
  readonly end: number;
  /** How it ended. */
  readonly status: "Completed" | "Failed";
  /** What it threw (failed attempts). */
  readonly error?: unknown;
  /** The wait before the next attempt in ms (failed attempts that were retried). */
  readonly retryDelay?: number;
}

/** One version of a request: who called whom, with what, and what came back. */
export interface RequestRecord extends ForestRecord {
  /** The calling node instance, or `null` for a top-level (insertion) request. */
  readonly sourceId: string | null;
  /** The node instance that serves the request. */
  readonly sinkId: string;
  /** The arguments of the call. */
  readonly input: readonly unknown[];
  /** The returned value, the error for a failure or cancellation, `undefined` while open. */
  readonly output: unknown;
  /** Where the request stands. */
  readonly status: RequestStatus;
  /**
   * Every attempt, in order, on the end version of a request whose node
   * has `retries`; absent otherwise (one attempt).
   */
  readonly attempts?: readonly AttemptRecord[];
}

/**
 * The numbers of a request with at most two versions (created, then maybe
 * ended), for writers that read many rows without building records.
 */
export interface RowData {
  /** Creation time. */
  time0: number;
  /** Creation step. */
  step0: number;
  /** End time (the creation time while open). */
  time1: number;
  /** End step (the creation step while open). */
  step1: number;
  /** The newest status. */
  status: RequestStatus;
  /** The call's arguments. */
  input: readonly unknown[];
  /** The newest output. */
  output: unknown;
}

/**
 * A fresh {@linkcode RowData} for `RequestForest.readRow` to fill: readers
 * of many rows make one and reuse it.
 *
 * @returns An empty one (an open request at time and step 0).
 *
 * @example Reading a run's first row
 * ```ts
 * import { emptyRowData } from "./request_forest.ts";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * await using runner = new Runner({ loggingSetting: "NONE" });
 * const info = await runner.run(node(async (x: number) => x + 1, { name: "inc" }), 1);
 * const data = emptyRowData();
 * assert.ok(info.requestHeap.readRow(info.requestHeap.insertionRows[0], data));
 * assert.deepEqual([data.status, data.input, data.output], ["Completed", [1], 2]);
 * ```
 */
export function emptyRowData(): RowData {
  return { time0: 0, step0: 0, time1: 0, step1: 0, status: "Open", input: [], output: undefined };
}

/**
 * The forest of requests of a run. Requests are kept as rows of numbers
 * (no object per request or per version); records, their version chains
 * and their ids are built when read, as fresh objects, so reading never
 * changes what is kept. Requests made by the runtime get ids built from a
 * prefix and their row number; requests given an id keep it.
 *
 * @example Creating and closing a request
 * ```ts
 * import { RequestForest, StampManager } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const stamper = new StampManager();
 * const requests = new RequestForest();
 * requests.create("r1", null, "n1", [2], stamper.createStamp("created r1"));
 * requests.update("r1", 4, "Completed", stamper.createStamp("completed r1"));
 * assert.equal(requests.answer, 4);
 * assert.deepEqual(requests.history("r1").map((r) => r.status), ["Open", "Completed"]);
 * ```
 */
export class RequestForest extends RequestRows {
  /**
   * Makes an empty forest.
   *
   * @param idPrefix What the ids of requests made with
   *   {@linkcode RequestRows.open} start with; random by default.
   */
  constructor(idPrefix: string = freshPrefix()) {
    super(idPrefix);
  }

  // ---- the Forest API ----

  /**
   * Records a new open request.
   *
   * @param identifier The request's id.
   * @param sourceId The caller's node id, or `null` at top level.
   * @param sinkId The callee's node id.
   * @param input The call's arguments.
   * @param stamp When it was created.
   * @returns The new record.
   * @throws {Error} If a request with that id exists already.
   */
  create(
    identifier: string,
    sourceId: string | null,
    sinkId: string,
    input: readonly unknown[],
    stamp: Stamp,
  ): RequestRecord {
    if (this.rowOf(identifier) >= 0) {
      throw new Error(`Cannot create request '${identifier}' as it exists already`);
    }
    const row = this.createRow(identifier, sourceId, sinkId, input, stamp);
    this.setFirstVersion(row, "Open", undefined);
    return this.recordOf(row);
  }

  /**
   * Records a new version of a request with its outcome.
   *
   * @param identifier The request's id.
   * @param output The returned value or the error.
   * @param status The new status.
   * @param stamp When it happened.
   * @param attempts The attempts of a retried request, if any.
   * @returns The new version.
   * @throws {RangeError} If no request has that id.
   * @throws {ForestVersionError} If `stamp` is at a lower step than the current version's.
   */
  update(
    identifier: string,
    output: unknown,
    status: RequestStatus,
    stamp: Stamp,
    attempts?: readonly AttemptRecord[],
  ): RequestRecord {
    const row = this.rowOf(identifier);
    if (row < 0) {
      throw new RangeError(
        `Cannot update request as 'identifier' must name a known request: current value is ${
          describeValue(identifier)
        }`,
      );
    }
    this.pushRecorded(row, identifier, status, output, stamp, attempts);
    return this.recordOf(row);
  }

  /**
   * Stores a record as the newest version of its request: a new request
   * when its `parent` is `null`, else a new version of the current one.
   *
   * @param record The record.
   * @throws {ForestVersionError} If `parent` is not the current version, a
   *   second root is given, the step goes back, or the caller, callee or
   *   input differ from the current version's.
   */
  override upsert(record: RequestRecord): void {
    if (typeof record?.identifier !== "string") {
      throw new TypeError(
        `Cannot store a record as 'identifier' must be a string: current value is ${
          describeValue(record?.identifier)
        }`,
      );
    }
    const row = this.rowOf(record.identifier);
    const current = row < 0 ? undefined : this.recordOf(row);
    checkVersion(record, current);
    if (current === undefined) {
      const created = this.createRow(
        record.identifier,
        record.sourceId,
        record.sinkId,
        record.input,
        record.stamp,
      );
      this.setFirstVersion(created, record.status, record.output);
      return;
    }
    if (
      record.sourceId !== current.sourceId || record.sinkId !== current.sinkId ||
      record.input !== current.input
    ) {
      throw new ForestVersionError(
        `Cannot store a version of '${record.identifier}' as its 'sourceId', 'sinkId' and 'input' must be those of its current version`,
      );
    }
    this.pushRecorded(
      row,
      record.identifier,
      record.status,
      record.output,
      record.stamp,
      record.attempts,
    );
  }

  /**
   * The newest version of a request.
   *
   * @param identifier The request's id.
   * @returns A fresh record, or `undefined` when there is none.
   */
  override get(identifier: string): RequestRecord | undefined {
    const row = this.rowOf(identifier);
    return row < 0 ? undefined : this.recordOf(row);
  }

  /**
   * Whether a request exists.
   *
   * @param identifier The request's id.
   * @returns `true` when the forest holds it.
   */
  override has(identifier: string): boolean {
    return this.rowOf(identifier) >= 0;
  }

  /** How many requests the forest holds. */
  override get size(): number {
    return this.rowCount;
  }

  /**
   * The newest version of every request, in creation order.
   *
   * @returns An iterator over fresh records.
   */
  override *values(): IterableIterator<RequestRecord> {
    for (let row = 0; row < this.rowCount; row++) yield this.recordOf(row);
  }

  /**
   * Every version of one request, oldest first.
   *
   * @param identifier The request's id.
   * @returns The versions; empty when the request is unknown.
   */
  override history(identifier: string): RequestRecord[] {
    const row = this.rowOf(identifier);
    return row < 0 ? [] : this.versionsOf(row);
  }

  /**
   * The forest as it stood once the given step had happened.
   *
   * @param step The step to travel back to.
   * @returns A new RequestForest.
   * @throws {RangeError} If `step` is not a finite number.
   */
  override timeMachine(step: number): this {
    if (!Number.isFinite(step)) {
      throw new RangeError(
        `Cannot travel back as 'step' must be a finite number: current value is ${
          describeValue(step)
        }`,
      );
    }
    const rows: number[] = [];
    for (let row = 0; row < this.rowCount; row++) rows.push(row);
    return this.copyRows(rows, step) as this;
  }

  /**
   * A new forest holding some rows (with the versions stamped at or before
   * `maxStep`), their ids, callers and nodes unchanged.
   *
   * @param rows The rows, in the order to keep them.
   * @param maxStep The last step to keep.
   * @returns The new forest.
   */
  copyRows(rows: Iterable<number>, maxStep = Infinity): RequestForest {
    const copy = new RequestForest(this.prefix);
    this.copyRowsInto(copy, rows, maxStep);
    return copy;
  }

  /**
   * An empty forest whose runtime-made ids share this one's prefix.
   *
   * @returns The empty forest.
   */
  protected override empty(): this {
    return new RequestForest(this.prefix) as this;
  }

  /**
   * The requests a node instance made, in creation order.
   *
   * @param nodeId The calling node's id.
   * @returns Their newest versions.
   */
  children(nodeId: string): RequestRecord[] {
    const row = this.rowOfNode(nodeId);
    const rows = row >= 0 ? this.childRows(row) : this.rowsCalledBy(nodeId);
    return rows.map((r) => this.recordOf(r));
  }

  /**
   * The deepest open requests: those open with no open child.
   *
   * @returns Their newest versions.
   */
  openTails(): RequestRecord[] {
    const tails: RequestRecord[] = [];
    for (let row = 0; row < this.rowCount; row++) {
      if (this.statusOf(row) !== "Open") continue;
      if (!this.childRows(row).some((child) => this.statusOf(child) === "Open")) {
        tails.push(this.recordOf(row));
      }
    }
    return tails;
  }

  /** The top-level requests, one per run, in order. */
  get insertionRequests(): RequestRecord[] {
    return this.insertionRows.map((row) => this.recordOf(row));
  }

  /**
   * The output of the run: the single top-level request's output, or the
   * list of outputs when there were several runs (`undefined` when none).
   */
  get answer(): unknown {
    const outputs = this.insertionRows.map((row) => this.outputOf(row));
    if (outputs.length === 0) return undefined;
    return outputs.length === 1 ? outputs[0] : outputs;
  }
}
