/**
 * The rows behind the request forest: one row of numbers per request.
 *
 * @module
 */
import { Forest, ForestVersionError } from "./forest.ts";
import type { Stamp, StampManager } from "./stamp.ts";
import {
  freshPrefix,
  grown,
  NODE_SUFFIX,
  STAMP_CREATED,
  STATUS_CODES,
  STATUS_NAMES,
} from "./_rows.ts";
import type { AttemptRecord, RequestRecord, RequestStatus, RowData } from "./request_forest.ts";

/** A version between a request's first and its newest (rare: ends are final). */
interface Middle {
  status: number;
  output: unknown;
  time: number;
  step: number;
  text: string | undefined;
  attempts: readonly AttemptRecord[] | undefined;
}

const INITIAL = 256;

/**
 * The rows behind a {@linkcode RequestForest}: one row of numbers per
 * request, no object per request or per version. The runtime opens and
 * closes rows; ids and records are built when read.
 *
 * @example Opening and closing a row
 * ```ts
 * import { RequestForest, StampManager } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const stamper = new StampManager();
 * const requests = new RequestForest("run-");
 * const row = requests.open(-1, [2], "double", "async", stamper);
 * requests.close(row, "Completed", 4, stamper);
 * assert.equal(requests.idOf(row), "run-0");
 * assert.equal(requests.get("run-0")?.output, 4);
 * assert.equal(requests.get("run-0")?.sinkId, "run-0:node");
 * ```
 */
export class RequestRows extends Forest<RequestRecord> {
  // Invariant: rows 0..#rows-1 are the requests in creation order. Row r's
  // first version is (#status0, output #out0 (or #output while it has one
  // version), #t0, #s0, #text0) and its newest (#status, #output, #t1, #s1,
  // #text1); #nver counts its versions (capped at 255) and #middle keeps the
  // ones in between. #parent is the calling row (-1: top level or a caller
  // named only by #sourceText); children of a row are linked through
  // #firstChild/#lastChild/#next in creation order.
  /** What runtime-made ids start with. */
  protected readonly prefix: string;
  #rows = 0;
  #open = 0;
  #parent = new Int32Array(INITIAL);
  #firstChild = new Int32Array(INITIAL);
  #lastChild = new Int32Array(INITIAL);
  #next = new Int32Array(INITIAL);
  #status = new Uint8Array(INITIAL);
  #status0 = new Uint8Array(INITIAL);
  #nver = new Uint8Array(INITIAL);
  #t0 = new Float64Array(INITIAL);
  #t1 = new Float64Array(INITIAL);
  #s0 = new Float64Array(INITIAL);
  #s1 = new Float64Array(INITIAL);
  #input: (readonly unknown[])[] = [];
  #output: unknown[] = [];
  #name: (string | undefined)[] = [];
  #type: (string | undefined)[] = [];
  #insertions: number[] = [];
  #nodes = 0;
  // Sparse: only rows that differ from the runtime's defaults have entries.
  #customId = new Map<number, string>();
  #rowOfId = new Map<string, number>();
  #sourceText = new Map<number, string>();
  #bySourceText = new Map<string, number[]>();
  #sinkText = new Map<number, string>();
  #rowOfSink = new Map<string, number>();
  #out0 = new Map<number, unknown>();
  #text0 = new Map<number, string>();
  #text1 = new Map<number, string>();
  #middle = new Map<number, Middle[]>();
  // The attempts of a retried request, on its newest version.
  #attempts = new Map<number, readonly AttemptRecord[]>();

  /**
   * Makes an empty forest.
   *
   * @param idPrefix What the ids of requests made with
   *   {@linkcode RequestForest.open} start with; random by default.
   */
  constructor(idPrefix: string = freshPrefix()) {
    super();
    this.prefix = idPrefix;
  }

  // ---- rows: the runtime's side ----

  /**
   * Records a new open request made by the runtime, with its creation stamp.
   *
   * @param parentRow The calling request's row, `-1` at top level.
   * @param input The call's arguments.
   * @param nodeName The called node's name.
   * @param nodeType How it runs.
   * @param stamper Where the creation stamp is made.
   * @param identifier An id for it; built from the row number when omitted.
   * @returns The new request's row.
   * @throws {Error} If `identifier` is taken.
   */
  open(
    parentRow: number,
    input: readonly unknown[],
    nodeName: string,
    nodeType: string,
    stamper: StampManager,
    identifier?: string,
  ): number {
    if (identifier !== undefined && this.rowOf(identifier) >= 0) {
      throw new Error(`Cannot create request '${identifier}' as it exists already`);
    }
    const row = this.#alloc();
    if (identifier !== undefined) this.#setId(row, identifier);
    this.#link(row, parentRow);
    const step = stamper.mark(STAMP_CREATED, row);
    this.#t0[row] = this.#t1[row] = stamper.lastTime;
    this.#s0[row] = this.#s1[row] = step;
    this.#input[row] = input;
    this.#name[row] = nodeName;
    this.#type[row] = nodeType;
    this.#nodes++;
    this.#open++;
    return row;
  }

  /**
   * Records the end of an open request made with {@linkcode RequestForest.open}.
   *
   * @param row The request's row.
   * @param status How it ended (not `"Open"`).
   * @param output What it returned, or the error.
   * @param stamper Where the end stamp is made.
   */
  close(
    row: number,
    status: RequestStatus,
    output: unknown,
    stamper: StampManager,
    attempts?: readonly AttemptRecord[],
  ): void {
    const code = STATUS_CODES[status];
    const step = stamper.mark(STAMP_CREATED + code, row);
    this.#push(row, code, output, stamper.lastTime, step, undefined, attempts);
  }

  #alloc(): number {
    const row = this.#rows;
    if (row === this.#parent.length) this.#grow(row * 2);
    this.#rows = row + 1;
    this.#firstChild[row] = -1;
    this.#lastChild[row] = -1;
    this.#next[row] = -1;
    this.#nver[row] = 1;
    this.#output.push(undefined);
    return row;
  }

  #grow(size: number): void {
    this.#parent = grown(this.#parent, size);
    this.#firstChild = grown(this.#firstChild, size);
    this.#lastChild = grown(this.#lastChild, size);
    this.#next = grown(this.#next, size);
    this.#status = grown(this.#status, size);
    this.#status0 = grown(this.#status0, size);
    this.#nver = grown(this.#nver, size);
    this.#t0 = grown(this.#t0, size);
    this.#t1 = grown(this.#t1, size);
    this.#s0 = grown(this.#s0, size);
    this.#s1 = grown(this.#s1, size);
  }

  #setId(row: number, identifier: string): void {
    this.#customId.set(row, identifier);
    this.#rowOfId.set(identifier, row);
  }

  #link(row: number, parentRow: number): void {
    this.#parent[row] = parentRow;
    if (parentRow < 0) {
      if (!this.#sourceText.has(row)) this.#insertions.push(row);
      return;
    }
    const last = this.#lastChild[parentRow];
    if (last < 0) this.#firstChild[parentRow] = row;
    else this.#next[last] = row;
    this.#lastChild[parentRow] = row;
  }

  /** Makes `(code, output, time, step)` the newest version of a row. */
  #push(
    row: number,
    code: number,
    output: unknown,
    time: number,
    step: number,
    text?: string,
    attempts?: readonly AttemptRecord[],
  ) {
    const versions = this.#nver[row];
    if (versions === 1) {
      if (this.#output[row] !== undefined) this.#out0.set(row, this.#output[row]);
    } else {
      const middle = this.#middle.get(row) ?? [];
      middle.push({
        status: this.#status[row],
        output: this.#output[row],
        time: this.#t1[row],
        step: this.#s1[row],
        text: this.#text1.get(row),
        attempts: this.#attempts.get(row),
      });
      this.#middle.set(row, middle);
    }
    if (versions < 255) this.#nver[row] = versions + 1;
    this.#open += (code === 0 ? 1 : 0) - (this.#status[row] === 0 ? 1 : 0);
    this.#status[row] = code;
    this.#output[row] = output;
    this.#t1[row] = time;
    this.#s1[row] = step;
    if (text === undefined) this.#text1.delete(row);
    else this.#text1.set(row, text);
    if (attempts === undefined) this.#attempts.delete(row);
    else this.#attempts.set(row, Object.freeze([...attempts]));
  }

  // ---- rows: reading ----

  /** How many requests (rows) the forest holds. */
  get rowCount(): number {
    return this.#rows;
  }

  /**
   * The row of a request id.
   *
   * @param identifier A request id.
   * @returns Its row, or `-1`.
   */
  rowOf(identifier: string): number {
    const custom = this.#rowOfId.get(identifier);
    if (custom !== undefined) return custom;
    if (typeof identifier !== "string" || !identifier.startsWith(this.prefix)) return -1;
    const digits = identifier.slice(this.prefix.length);
    const row = Number(digits);
    return Number.isInteger(row) && row >= 0 && row < this.#rows && String(row) === digits &&
        !this.#customId.has(row)
      ? row
      : -1;
  }

  /**
   * The row of the request a node instance serves.
   *
   * @param nodeId A node instance id.
   * @returns Its request's row, or `-1`.
   */
  rowOfNode(nodeId: string): number {
    const custom = this.#rowOfSink.get(nodeId);
    if (custom !== undefined) return custom;
    if (typeof nodeId !== "string" || !nodeId.endsWith(NODE_SUFFIX)) return -1;
    const row = this.rowOf(nodeId.slice(0, -NODE_SUFFIX.length));
    return row >= 0 && !this.#sinkText.has(row) ? row : -1;
  }

  /**
   * The id of a row's request.
   *
   * @param row The row.
   * @returns The request id.
   */
  idOf(row: number): string {
    return this.#customId.get(row) ?? this.prefix + row;
  }

  /**
   * The id of the node instance serving a row's request.
   *
   * @param row The row.
   * @returns The node instance id.
   */
  nodeIdOf(row: number): string {
    return this.#sinkText.get(row) ?? this.idOf(row) + NODE_SUFFIX;
  }

  /**
   * The caller's node id of a row's request.
   *
   * @param row The row.
   * @returns The calling node instance id, `null` at top level.
   */
  sourceIdOf(row: number): string | null {
    const parent = this.#parent[row];
    if (parent >= 0) return this.nodeIdOf(parent);
    return this.#sourceText.get(row) ?? null;
  }

  /**
   * The calling row of a row.
   *
   * @param row The row.
   * @returns The caller's row, `-1` at top level (or a caller not in the forest).
   */
  parentRow(row: number): number {
    return this.#parent[row];
  }

  /**
   * The status of a row's newest version.
   *
   * @param row The row.
   * @returns The status.
   */
  statusOf(row: number): RequestStatus {
    return STATUS_NAMES[this.#status[row]];
  }

  /**
   * The name and type of the node a runtime-made row ran.
   *
   * @param row The row.
   * @returns Name and type, or `undefined` for a request recorded by hand.
   */
  nodeOf(row: number): { name: string; nodeType: string } | undefined {
    const name = this.#name[row];
    return name === undefined ? undefined : { name, nodeType: this.#type[row]! };
  }

  /**
   * When a row's request was created and when it ended.
   *
   * @param row The row.
   * @returns Times in ms since the epoch; `end` is `null` while open.
   */
  timesOf(row: number): { start: number; end: number | null } {
    return { start: this.#t0[row], end: this.timeOf(row, true) };
  }

  /**
   * When a row's request was created, or when it ended.
   *
   * @param row The row.
   * @param end `true` for the end.
   * @returns Ms since the epoch; `null` for the end of an open request.
   */
  timeOf(row: number, end: boolean): number | null {
    if (!end) return this.#t0[row];
    return this.#status[row] === 0 ? null : this.#t1[row];
  }

  /**
   * Reads a row made by the runtime into `into`, when its versions are
   * the plain ones (created open, then at most one end, default stamp
   * texts); others must be read with {@linkcode RequestForest.versionsOf}.
   *
   * @param row The row.
   * @param into Filled in place.
   * @returns `true` when `into` holds the row.
   */
  readRow(row: number, into: RowData): boolean {
    if (
      this.#nver[row] > 2 || this.#status0[row] !== 0 ||
      (this.#text0.size > 0 && this.#text0.has(row)) ||
      (this.#text1.size > 0 && this.#text1.has(row)) ||
      (this.#out0.size > 0 && this.#out0.has(row)) ||
      (this.#attempts.size > 0 && this.#attempts.has(row))
    ) return false;
    into.time0 = this.#t0[row];
    into.step0 = this.#s0[row];
    into.time1 = this.#t1[row];
    into.step1 = this.#s1[row];
    into.status = STATUS_NAMES[this.#status[row]];
    into.input = this.#input[row];
    into.output = this.#output[row];
    return true;
  }

  /**
   * The output of a row's newest version.
   *
   * @param row The row.
   * @returns The returned value, the error, or `undefined` while open.
   */
  outputOf(row: number): unknown {
    return this.#output[row];
  }

  /**
   * Whether a row's node instance was recorded with it (by the runtime).
   *
   * @param row The row.
   * @returns `true` for a runtime-made row.
   */
  hasNode(row: number): boolean {
    return this.#name[row] !== undefined;
  }

  /** How many rows have their node instance recorded with them. */
  get nodeCount(): number {
    return this.#nodes;
  }

  /**
   * The first stamp (creation) of a row.
   *
   * @param row The row.
   * @returns The stamp.
   */
  createdStamp(row: number): Stamp {
    const text = this.#text0.get(row) ?? `Created request ${this.idOf(row)}`;
    return { time: this.#t0[row], step: this.#s0[row], identifier: text };
  }

  /**
   * The rows a row's node called, in creation order.
   *
   * @param row The row.
   * @returns Their rows.
   */
  childRows(row: number): number[] {
    const rows: number[] = [];
    for (let c = this.#firstChild[row]; c >= 0; c = this.#next[c]) rows.push(c);
    if (this.#bySourceText.size === 0) return rows;
    const named = this.#bySourceText.get(this.nodeIdOf(row));
    return named ? [...rows, ...named].sort((a, b) => a - b) : rows;
  }

  /** The rows of the top-level requests, in order. */
  get insertionRows(): readonly number[] {
    return this.#insertions;
  }

  /**
   * Every version of a row, oldest first, as fresh records.
   *
   * @param row The row.
   * @param maxStep Only versions stamped at or before this step.
   * @returns The versions, each linked to the one before.
   */
  versionsOf(row: number, maxStep = Infinity): RequestRecord[] {
    const identifier = this.idOf(row);
    const sourceId = this.sourceIdOf(row);
    const sinkId = this.nodeIdOf(row);
    const input = this.#input[row];
    const single = this.#nver[row] === 1;
    const make = (
      status: number,
      output: unknown,
      stamp: Stamp,
      parent: RequestRecord | null,
      attempts?: readonly AttemptRecord[],
    ): RequestRecord => {
      const record: RequestRecord = {
        identifier,
        sourceId,
        sinkId,
        input,
        output,
        status: STATUS_NAMES[status],
        stamp: Object.freeze(stamp),
        parent,
      };
      if (attempts !== undefined) (record as { attempts?: unknown }).attempts = attempts;
      return record;
    };
    if (this.#s0[row] > maxStep) return [];
    const first = make(
      single ? this.#status[row] : this.#status0[row],
      single ? this.#output[row] : this.#out0.get(row),
      this.createdStamp(row),
      null,
    );
    const versions = [first];
    if (single) return versions;
    for (const m of this.#middle.get(row) ?? []) {
      if (m.step > maxStep) return versions;
      const text = m.text ?? `${STATUS_NAMES[m.status]} request ${identifier}`;
      versions.push(
        make(
          m.status,
          m.output,
          { time: m.time, step: m.step, identifier: text },
          versions.at(-1)!,
          m.attempts,
        ),
      );
    }
    if (this.#s1[row] > maxStep) return versions;
    const code = this.#status[row];
    const text = this.#text1.get(row) ?? `${STATUS_NAMES[code]} request ${identifier}`;
    versions.push(
      make(
        code,
        this.#output[row],
        { time: this.#t1[row], step: this.#s1[row], identifier: text },
        versions.at(-1)!,
        this.#attempts.get(row),
      ),
    );
    return versions;
  }

  /**
   * The newest version of a row, as a fresh record.
   *
   * @param row The row.
   * @returns The record.
   */
  recordOf(row: number): RequestRecord {
    return this.versionsOf(row).at(-1)!;
  }
  /**
   * Records a request given by id, caller and callee ids (not made by the
   * runtime), open and uncounted.
   *
   * @returns Its row.
   */
  protected createRow(
    identifier: string,
    sourceId: string | null,
    sinkId: string,
    input: readonly unknown[],
    stamp: Stamp,
  ): number {
    const row = this.#alloc();
    this.#setId(row, identifier);
    const parent = sourceId === null ? -1 : this.rowOfNode(sourceId);
    if (sourceId !== null && parent < 0) {
      this.#sourceText.set(row, sourceId);
      const siblings = this.#bySourceText.get(sourceId);
      if (siblings) siblings.push(row);
      else this.#bySourceText.set(sourceId, [row]);
    }
    this.#link(row, parent);
    if (sinkId !== identifier + NODE_SUFFIX) {
      this.#sinkText.set(row, sinkId);
      this.#rowOfSink.set(sinkId, row);
    }
    this.#input[row] = input;
    this.#t0[row] = this.#t1[row] = stamp.time;
    this.#s0[row] = this.#s1[row] = stamp.step;
    if (stamp.identifier !== `Created request ${identifier}`) {
      this.#text0.set(row, stamp.identifier);
    }
    return row;
  }

  /**
   * Makes a recorded version (status, output, stamp) the newest of a row.
   *
   * @throws {ForestVersionError} If the stamp's step goes back.
   */
  protected pushRecorded(
    row: number,
    identifier: string,
    status: RequestStatus,
    output: unknown,
    stamp: Stamp,
    attempts?: readonly AttemptRecord[],
  ): void {
    const code = STATUS_CODES[status];
    if (code === undefined) {
      throw new TypeError(
        `Cannot record request '${identifier}' as 'status' must be Open, Completed, Failed or Cancelled: current value is ${
          String(status)
        }`,
      );
    }
    if (!(stamp?.step >= this.#s1[row])) {
      throw new ForestVersionError(
        `Cannot store a version of '${identifier}' as 'stamp.step' must be at least its parent's (${
          this.#s1[row]
        }): current value is ${stamp?.step}`,
      );
    }
    const text = stamp.identifier === `${status} request ${identifier}`
      ? undefined
      : stamp.identifier;
    this.#push(row, code, output, stamp.time, stamp.step, text, attempts);
  }

  /**
   * Copies some rows (with the versions stamped at or before `maxStep`)
   * into an empty store, their ids, callers and nodes unchanged.
   *
   * @param copy The empty store.
   * @param rows The rows, in the order to keep them.
   * @param maxStep The last step to keep.
   */
  protected copyRowsInto(copy: RequestRows, rows: Iterable<number>, maxStep: number): void {
    const moved = new Int32Array(this.#rows).fill(-1);
    for (const row of rows) {
      const versions = this.versionsOf(row, maxStep);
      if (versions.length === 0 || moved[row] >= 0) continue;
      const into = copy.#alloc();
      moved[row] = into;
      if (into !== row || this.#customId.has(row)) copy.#setId(into, this.idOf(row));
      const parent = this.#parent[row];
      const source = this.sourceIdOf(row);
      if (parent >= 0 && moved[parent] >= 0) copy.#link(into, moved[parent]);
      else {
        if (source !== null) {
          copy.#sourceText.set(into, source);
          const siblings = copy.#bySourceText.get(source);
          if (siblings) siblings.push(into);
          else copy.#bySourceText.set(source, [into]);
        }
        copy.#link(into, -1);
      }
      if (this.#sinkText.has(row)) {
        copy.#sinkText.set(into, this.#sinkText.get(row)!);
        copy.#rowOfSink.set(this.#sinkText.get(row)!, into);
      }
      copy.#input[into] = this.#input[row];
      copy.#name[into] = this.#name[row];
      copy.#type[into] = this.#type[row];
      if (this.#name[row] !== undefined) copy.#nodes++;
      const [first, ...rest] = versions;
      copy.#status[into] = copy.#status0[into] = STATUS_CODES[first.status];
      copy.#output[into] = first.output;
      copy.#t0[into] = copy.#t1[into] = first.stamp.time;
      copy.#s0[into] = copy.#s1[into] = first.stamp.step;
      if (this.#text0.has(row)) copy.#text0.set(into, this.#text0.get(row)!);
      if (first.status === "Open") copy.#open++;
      for (const v of rest) {
        const text = v.stamp.identifier === `${v.status} request ${v.identifier}`
          ? undefined
          : v.stamp.identifier;
        copy.#push(
          into,
          STATUS_CODES[v.status],
          v.output,
          v.stamp.time,
          v.stamp.step,
          text,
          v.attempts,
        );
      }
    }
  }

  /**
   * Sets a new row's only version to a status and output (a record stored
   * already ended), counting it as open when it is.
   *
   * @param row The row.
   * @param status The status.
   * @param output The output.
   */
  protected setFirstVersion(row: number, status: RequestStatus, output: unknown): void {
    const code = STATUS_CODES[status] ?? 0;
    this.#status[row] = this.#status0[row] = code;
    this.#output[row] = output;
    if (code === 0) this.#open++;
  }

  /** How many requests are open. */
  get openCount(): number {
    return this.#open;
  }

  /**
   * The rows whose caller is named only by id (not a row of this store).
   *
   * @param nodeId The caller's node id.
   * @returns Their rows.
   */
  protected rowsCalledBy(nodeId: string): readonly number[] {
    return this.#bySourceText.get(nodeId) ?? [];
  }
}
