/**
 * The rows behind the request forest: one row of numbers per request.
 *
 * @module
 */
import { Forest } from "./forest.ts";
import type { Stamp, StampManager } from "./stamp.ts";
import { freshPrefix, NODE_SUFFIX, STAMP_CREATED, STATUS_CODES, STATUS_NAMES } from "./_rows.ts";
import { RowColumns } from "./_row_columns.ts";
import { RowVersions } from "./_row_versions.ts";
import { RowIds } from "./_row_ids.ts";
import { keptText, recordedCode } from "./_recorded_rows.ts";
import { copyRows, type RowParts } from "./_row_copy.ts";
import type { AttemptRecord, RequestRecord, RequestStatus, RowData } from "./request_forest.ts";

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
  // Invariant: rows 0..#cols.count-1 are the requests in creation order;
  // #cols holds each row's numbers and values (see RowColumns), #versions
  // the rest of its history, #ids its names (see RowIds); its caller is
  // #cols.parent unless that is -1 and #ids names one. #open counts the rows
  // whose newest status is Open; #insertions lists the top-level rows.
  /** What runtime-made ids start with. */
  protected readonly prefix: string;
  readonly #cols = new RowColumns();
  readonly #versions = new RowVersions();
  #open = 0;
  #insertions: number[] = [];
  #nodes = 0;
  readonly #ids: RowIds;

  /**
   * Makes an empty forest.
   *
   * @param idPrefix What the ids of requests made with
   *   {@linkcode RequestForest.open} start with; random by default.
   */
  constructor(idPrefix: string = freshPrefix()) {
    super();
    this.prefix = idPrefix;
    this.#ids = new RowIds(idPrefix);
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
    const cols = this.#cols;
    const row = cols.alloc();
    if (identifier !== undefined) this.#ids.setId(row, identifier);
    this.#link(row, parentRow);
    const step = stamper.mark(STAMP_CREATED, row);
    cols.t0[row] = cols.t1[row] = stamper.lastTime;
    cols.s0[row] = cols.s1[row] = step;
    cols.input[row] = input;
    cols.setNode(row, nodeName, nodeType);
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

  #link(row: number, parentRow: number): void {
    this.#cols.link(row, parentRow);
    if (parentRow < 0 && this.#ids.callerOf(row) === undefined) this.#insertions.push(row);
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
  ): void {
    this.#open += (code === 0 ? 1 : 0) - (this.#cols.status[row] === 0 ? 1 : 0);
    this.#versions.push(this.#cols, row, code, output, time, step, text, attempts);
  }

  // ---- rows: reading ----

  /** How many requests (rows) the forest holds. */
  get rowCount(): number {
    return this.#cols.count;
  }

  /**
   * The row of a request id.
   *
   * @param identifier A request id.
   * @returns Its row, or `-1`.
   */
  rowOf(identifier: string): number {
    return this.#ids.rowOf(identifier, this.#cols.count);
  }

  /**
   * The row of the request a node instance serves.
   *
   * @param nodeId A node instance id.
   * @returns Its request's row, or `-1`.
   */
  rowOfNode(nodeId: string): number {
    return this.#ids.rowOfNode(nodeId, this.#cols.count);
  }

  /**
   * The id of a row's request.
   *
   * @param row The row.
   * @returns The request id.
   */
  idOf(row: number): string {
    return this.#ids.idOf(row);
  }

  /**
   * The id of the node instance serving a row's request.
   *
   * @param row The row.
   * @returns The node instance id.
   */
  nodeIdOf(row: number): string {
    return this.#ids.nodeIdOf(row);
  }

  /**
   * The caller's node id of a row's request.
   *
   * @param row The row.
   * @returns The calling node instance id, `null` at top level.
   */
  sourceIdOf(row: number): string | null {
    const parent = this.#cols.parent[row];
    if (parent >= 0) return this.nodeIdOf(parent);
    return this.#ids.callerOf(row) ?? null;
  }

  /**
   * The calling row of a row.
   *
   * @param row The row.
   * @returns The caller's row, `-1` at top level (or a caller not in the forest).
   */
  parentRow(row: number): number {
    return this.#cols.parent[row];
  }

  /**
   * The status of a row's newest version.
   *
   * @param row The row.
   * @returns The status.
   */
  statusOf(row: number): RequestStatus {
    return STATUS_NAMES[this.#cols.status[row]];
  }

  /**
   * The name and type of the node a runtime-made row ran.
   *
   * @param row The row.
   * @returns Name and type, or `undefined` for a request recorded by hand.
   */
  nodeOf(row: number): { name: string; nodeType: string } | undefined {
    const node = this.#cols.nodeOf(row);
    return node === undefined ? undefined : { name: node.name, nodeType: node.nodeType };
  }

  /**
   * When a row's request was created and when it ended.
   *
   * @param row The row.
   * @returns Times in ms since the epoch; `end` is `null` while open.
   */
  timesOf(row: number): { start: number; end: number | null } {
    return { start: this.#cols.t0[row], end: this.timeOf(row, true) };
  }

  /**
   * When a row's request was created, or when it ended.
   *
   * @param row The row.
   * @param end `true` for the end.
   * @returns Ms since the epoch; `null` for the end of an open request.
   */
  timeOf(row: number, end: boolean): number | null {
    const cols = this.#cols;
    if (!end) return cols.t0[row];
    return cols.status[row] === 0 ? null : cols.t1[row];
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
    const cols = this.#cols;
    if (cols.nver[row] > 2 || cols.status0[row] !== 0 || !this.#versions.isPlain(row)) {
      return false;
    }
    into.time0 = cols.t0[row];
    into.step0 = cols.s0[row];
    into.time1 = cols.t1[row];
    into.step1 = cols.s1[row];
    into.status = STATUS_NAMES[cols.status[row]];
    into.input = cols.input[row];
    into.output = cols.output[row];
    return true;
  }

  /**
   * The output of a row's newest version.
   *
   * @param row The row.
   * @returns The returned value, the error, or `undefined` while open.
   */
  outputOf(row: number): unknown {
    return this.#cols.output[row];
  }

  /**
   * Whether a row's node instance was recorded with it (by the runtime).
   *
   * @param row The row.
   * @returns `true` for a runtime-made row.
   */
  hasNode(row: number): boolean {
    return this.#cols.nodeOf(row) !== undefined;
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
    const text = this.#versions.createdText(row) ?? `Created request ${this.idOf(row)}`;
    return { time: this.#cols.t0[row], step: this.#cols.s0[row], identifier: text };
  }

  /**
   * The rows a row's node called, in creation order.
   *
   * @param row The row.
   * @returns Their rows.
   */
  childRows(row: number): number[] {
    const rows = this.#cols.children(row);
    if (!this.#ids.anyCallerNamed) return rows;
    const named = this.#ids.calledBy(this.nodeIdOf(row));
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
    const ids = {
      identifier: this.idOf(row),
      sourceId: this.sourceIdOf(row),
      sinkId: this.nodeIdOf(row),
    };
    return this.#versions.versionsOf(this.#cols, row, ids, maxStep);
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
    const cols = this.#cols;
    const row = cols.alloc();
    this.#ids.setId(row, identifier);
    const parent = sourceId === null ? -1 : this.rowOfNode(sourceId);
    if (sourceId !== null && parent < 0) this.#ids.setCaller(row, sourceId);
    this.#link(row, parent);
    if (sinkId !== identifier + NODE_SUFFIX) this.#ids.setNodeId(row, sinkId);
    cols.input[row] = input;
    cols.t0[row] = cols.t1[row] = stamp.time;
    cols.s0[row] = cols.s1[row] = stamp.step;
    if (stamp.identifier !== `Created request ${identifier}`) {
      this.#versions.setCreatedText(row, stamp.identifier);
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
    const code = recordedCode(identifier, status, stamp, this.#cols.s1[row]);
    const text = keptText(stamp.identifier, status, identifier);
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
    copyRows(this, this.#parts(), copy.#parts(), rows, maxStep);
    copy.#recount();
  }

  #parts(): RowParts {
    return { cols: this.#cols, versions: this.#versions, ids: this.#ids };
  }

  /** Counts the open and node rows and lists the top-level ones again, from the rows. */
  #recount(): void {
    const cols = this.#cols;
    this.#open = this.#nodes = 0;
    this.#insertions = [];
    for (let row = 0; row < cols.count; row++) {
      if (cols.status[row] === 0) this.#open++;
      if (cols.nodeOf(row) !== undefined) this.#nodes++;
      if (cols.parent[row] < 0 && this.#ids.callerOf(row) === undefined) {
        this.#insertions.push(row);
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
    this.#cols.status[row] = this.#cols.status0[row] = code;
    this.#cols.output[row] = output;
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
    return this.#ids.calledBy(nodeId) ?? [];
  }
}
