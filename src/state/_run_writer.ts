/**
 * The writer of one top-level run of a saved run, straight from the
 * request rows into a byte buffer (see `graph_json.ts`).
 *
 * @module
 */
import type { JsonBytes } from "../core/json_bytes.ts";
import type { ExecutionInfo } from "./execution_info.ts";
import { emptyRowData, type RequestStatus, type RowData } from "./request_forest.ts";
import type { RunHead } from "./graph_json.ts";
import { edgeJson, numberJson, stampJson, vertexJson } from "./_record_json.ts";
import { stepOrder } from "./step_order.ts";

const OPEN_TAIL = ',"status":"Open","output":null},"parent":null}';
const CREATED = "Created request ";
/** Stamp kind of a stamp kept as text (a request stored by hand). */
const TEXT = 255;

/**
 * Writes one run in three passes over its rows (vertices, edges, steps),
 * so that the text streams out in order and only the stamps' numbers are
 * kept between passes.
 */
export class RunWriter {
  readonly #info: ExecutionInfo;
  readonly #rows: number[];
  readonly #out: JsonBytes;
  readonly #data: RowData = emptyRowData();
  // Invariant: stamp k of the run (in row order, creation first) has step
  // #step[k], the row #rows[#index[k]] and kind #kind[k] (0 created, 1–3
  // the end status code, TEXT: its JSON is #texts.get(k)).
  #step: Float64Array;
  #index: Int32Array;
  #kind: Uint8Array;
  #count = 0;
  readonly #texts = new Map<number, string>();
  // The JSON of each row's creation and end times, by index in #rows:
  // made once, written up to three times each.
  readonly #t0: string[];
  readonly #t1: string[];

  constructor(info: ExecutionInfo, root: number, out: JsonBytes) {
    this.#info = info;
    this.#rows = subtreeOf(info, root);
    this.#out = out;
    const n = 2 * this.#rows.length + 2;
    this.#step = new Float64Array(n);
    this.#index = new Int32Array(n);
    this.#kind = new Uint8Array(n);
    this.#t0 = new Array<string>(this.#rows.length);
    this.#t1 = new Array<string>(this.#rows.length);
  }

  /** Writes the run whose head is `head`, as a `SerializedRun`. */
  write(head: RunHead): void {
    const out = this.#out;
    out.ascii('{"name":');
    out.string(head.name);
    out.ascii(',"runId":');
    out.string(head.runId);
    out.ascii(`,"status":"${head.status}","startTime":`);
    out.number(head.startTime);
    out.ascii(',"endTime":');
    if (head.endTime === null) out.ascii("null");
    else out.number(head.endTime);
    out.ascii(',"nodes":[');
    this.#vertices();
    out.ascii('],"edges":[');
    this.#edges();
    out.ascii('],"steps":[');
    this.#steps();
    out.ascii("]}");
  }

  /** The node instances: those shown from their request's row first, then stored ones. */
  #vertices(): void {
    const requests = this.#info.requestHeap;
    const nodes = this.#info.nodeHeap;
    const out = this.#out;
    const data = this.#data;
    const stored: string[] = [];
    let first = true;
    for (let i = 0; i < this.#rows.length; i++) {
      const row = this.#rows[i];
      const nodeId = requests.nodeIdOf(row);
      if (requests.readRow(row, data)) {
        if (nodes.isDerivedRow(row, nodeId)) {
          const node = requests.nodeOf(row)!;
          if (!first) out.ascii(",");
          first = false;
          out.ascii('{"identifier":');
          out.string(nodeId);
          out.ascii(',"nodeType":');
          out.string(node.nodeType);
          out.ascii(',"name":');
          out.string(node.name);
          out.ascii(',"stamp":');
          this.#t0[i] = numberJson(data.time0);
          stamp(out, this.#t0[i], data.step0, CREATED, requests.idOf(row));
          out.ascii(',"details":{},"parent":null}');
          out.spill();
          continue;
        }
      } else if (nodes.isDerived(nodeId)) {
        if (!first) out.ascii(",");
        first = false;
        out.ascii(vertexJson(nodes.get(nodeId)!));
        out.spill();
        continue;
      }
      const node = nodes.get(nodeId);
      if (node) stored.push(vertexJson(node));
    }
    for (const text of stored) {
      if (!first) out.ascii(",");
      first = false;
      out.ascii(text);
      out.spill();
    }
  }

  /** The requests, each with its version history; notes every stamp. */
  #edges(): void {
    const requests = this.#info.requestHeap;
    const out = this.#out;
    const data = this.#data;
    let caller = -2, callerJson = "";
    for (let i = 0; i < this.#rows.length; i++) {
      const row = this.#rows[i];
      if (i > 0) out.ascii(",");
      if (!requests.readRow(row, data)) {
        const versions = requests.versionsOf(row);
        for (const v of versions) {
          const k = this.#note(v.stamp.step, i, TEXT);
          this.#texts.set(k, stampJson(v.stamp));
        }
        out.ascii(edgeJson(versions[versions.length - 1]));
        out.spill();
        continue;
      }
      const id = requests.idOf(row);
      // Written once and copied into the first version: the head
      // (identifier, source, target) and the arguments.
      const start = out.length;
      out.ascii('{"identifier":');
      out.string(id);
      out.ascii(',"source":');
      const parent = requests.parentRow(row);
      if (parent < 0) {
        const source = requests.sourceIdOf(row);
        if (source === null) out.ascii("null");
        else out.string(source);
      } else {
        if (parent !== caller) {
          caller = parent;
          callerJson = JSON.stringify(requests.nodeIdOf(parent));
        }
        out.ascii(callerJson);
      }
      out.ascii(',"target":');
      out.string(requests.nodeIdOf(row));
      out.ascii(',"stamp":');
      const headEnd = out.length;
      this.#note(data.step0, i, 0);
      const t0 = this.#t0[i] ??= numberJson(data.time0);
      if (data.status === "Open") {
        stamp(out, t0, data.step0, CREATED, id);
        out.ascii(',"details":{"inputArgs":');
        args(out, data.input);
        out.ascii(OPEN_TAIL);
      } else {
        this.#note(data.step1, i, STATUS_CODE[data.status]);
        const t1 = this.#t1[i] = numberJson(data.time1);
        stamp(out, t1, data.step1, `${data.status} request `, id);
        out.ascii(',"details":{"inputArgs":');
        const argsStart = out.length;
        args(out, data.input);
        const argsEnd = out.length;
        out.ascii(`,"status":"${data.status}","output":`);
        out.value(data.output);
        out.ascii('},"parent":');
        out.append(out, start, headEnd);
        stamp(out, t0, data.step0, CREATED, id);
        out.ascii(',"details":{"inputArgs":');
        out.append(out, argsStart, argsEnd);
        out.ascii(OPEN_TAIL);
        out.ascii("}");
      }
      out.spill();
    }
  }

  /** Every stamp of the run, in step order. */
  #steps(): void {
    const requests = this.#info.requestHeap;
    const out = this.#out;
    const order = stepOrder(this.#step, this.#count);
    for (let i = 0; i < this.#count; i++) {
      const k = order === null ? i : order[i];
      if (i > 0) out.ascii(",");
      const kind = this.#kind[k];
      if (kind === TEXT) out.ascii(this.#texts.get(k)!);
      else {
        const i = this.#index[k];
        const label = kind === 0 ? CREATED : `${STATUS_NAME[kind]} request `;
        const time = kind === 0 ? this.#t0[i] : this.#t1[i];
        stamp(out, time, this.#step[k], label, requests.idOf(this.#rows[i]));
      }
      out.spill();
    }
  }

  #note(step: number, index: number, kind: number): number {
    const k = this.#count++;
    if (k === this.#step.length) {
      const size = 2 * k;
      const step = new Float64Array(size);
      const indices = new Int32Array(size), kinds = new Uint8Array(size);
      step.set(this.#step);
      indices.set(this.#index);
      kinds.set(this.#kind);
      this.#step = step;
      this.#index = indices;
      this.#kind = kinds;
    }
    this.#step[k] = step;
    this.#index[k] = index;
    this.#kind[k] = kind;
    return k;
  }
}

const STATUS_CODE: Readonly<Record<RequestStatus, number>> = {
  Open: 0,
  Completed: 1,
  Failed: 2,
  Cancelled: 3,
};
const STATUS_NAME = ["Open", "Completed", "Failed", "Cancelled"] as const;

function stamp(out: JsonBytes, time: string, step: number, label: string, id: string): void {
  out.ascii('{"time":');
  out.ascii(time);
  out.ascii(',"step":');
  out.number(step);
  out.ascii(',"identifier":');
  out.quoted(label, id);
  out.ascii("}");
}

function args(out: JsonBytes, input: readonly unknown[]): void {
  out.ascii("[");
  for (let i = 0; i < input.length; i++) {
    if (i > 0) out.ascii(",");
    out.value(input[i]);
  }
  out.ascii("]");
}

function subtreeOf(info: ExecutionInfo, root: number): number[] {
  const requests = info.requestHeap;
  const rows: number[] = [root];
  const seen = new Set<number>(rows);
  for (let i = 0; i < rows.length; i++) {
    for (const child of requests.childRows(rows[i])) {
      if (!seen.has(child)) {
        seen.add(child);
        rows.push(child);
      }
    }
  }
  return rows;
}
