/**
 * The JSON of `ExecutionInfo.graphSerialization()` and of a saved run's
 * `runs`, written as UTF-8 bytes straight from the request rows: the
 * runtime's rows are read into one reused record and written field by
 * field, and what a request shows twice (its id and caller, its arguments,
 * its creation stamp, in its versions, its node and the step list) is
 * written once and copied.
 *
 * @module
 */
import { JsonBytes } from "../core/json_bytes.ts";
import { toJsonSafe } from "../core/json_safe.ts";
import type { ExecutionInfo, Vertex } from "./execution_info.ts";
import type { NodeRecord } from "./node_forest.ts";
import type { RequestRecord, RequestStatus, RowData } from "./request_forest.ts";
import type { Stamp } from "./stamp.ts";

/** The head of one top-level run: what a snapshot's summary fields come from. */
export interface RunHead {
  /** The top-level request's row. */
  row: number;
  /** The top-level node's name. */
  name: string;
  /** The top-level request's id. */
  runId: string;
  /** The top-level request's status. */
  status: RequestStatus;
  /** When the run started (ms since the epoch). */
  startTime: number;
  /** When it ended, `null` while open. */
  endTime: number | null;
}

/**
 * The heads of every top-level run of an execution, in order, read from
 * the rows without serializing anything.
 *
 * @param info The execution.
 * @returns One head per top-level run.
 *
 * @example
 * ```ts
 * import { runHeads } from "./graph_json.ts";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * await using runner = new Runner({ loggingSetting: "NONE" });
 * const info = await runner.run(node(async () => 1, { name: "one" }));
 * const [head] = runHeads(info);
 * assert.equal(head.name, "one");
 * assert.equal(head.status, "Completed");
 * ```
 */
export function runHeads(info: ExecutionInfo): RunHead[] {
  const requests = info.requestHeap;
  return requests.insertionRows.map((row) => {
    const status = requests.statusOf(row);
    return {
      row,
      name: info.nodeHeap.get(requests.nodeIdOf(row))?.name ?? "",
      runId: requests.idOf(row),
      status,
      startTime: requests.timeOf(row, false)!,
      endTime: status === "Open" ? null : requests.timeOf(row, true),
    };
  });
}

/**
 * The JSON of every top-level run of an execution, as
 * `ExecutionInfo.graphSerialization()` returns it.
 *
 * @param info The execution.
 * @returns The JSON text.
 *
 * @example
 * ```ts
 * import { serializeRuns } from "./graph_json.ts";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * await using runner = new Runner({ loggingSetting: "NONE" });
 * const info = await runner.run(node(async () => 1, { name: "one" }));
 * assert.equal(serializeRuns(info), JSON.stringify(info.serializedRuns()));
 * ```
 */
export function serializeRuns(info: ExecutionInfo): string {
  // Decoded chunk by chunk from one small buffer: the bytes never need
  // memory of the text's size, only the text itself does.
  const decoder = new TextDecoder();
  const parts: string[] = [];
  const out = new JsonBytes(CHUNK, (chunk) => parts.push(decoder.decode(chunk)));
  out.ascii("[");
  runHeads(info).forEach((head, i) => {
    if (i > 0) out.ascii(",");
    writeRunJson(info, head, out);
  });
  out.ascii("]");
  out.spill(0);
  return parts.length === 1 ? parts[0] : parts.join("");
}

/** Bytes written before a serializer hands a chunk over. */
const CHUNK = 1 << 19;

/**
 * Appends the JSON of one top-level run (a `SerializedRun`) to `out`,
 * calling `out.spill()` between requests so a buffer with a sink hands
 * the text over in chunks. Reads the records at the moment of the call.
 *
 * @param info The execution.
 * @param head The run, from {@linkcode runHeads}.
 * @param out Where to write.
 *
 * @example
 * ```ts
 * import { runHeads, writeRunJson } from "./graph_json.ts";
 * import { JsonBytes } from "../core/json_bytes.ts";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * await using runner = new Runner({ loggingSetting: "NONE" });
 * const info = await runner.run(node(async () => 1, { name: "one" }));
 * const out = new JsonBytes();
 * writeRunJson(info, runHeads(info)[0], out);
 * assert.equal(JSON.parse(out.toString()).edges[0].details.output, 1);
 * ```
 */
export function writeRunJson(info: ExecutionInfo, head: RunHead, out: JsonBytes): void {
  new RunWriter(info, head.row, out).write(head);
}

const OPEN_TAIL = ',"status":"Open","output":null},"parent":null}';
const CREATED = "Created request ";
/** Stamp kind of a stamp kept as text (a request stored by hand). */
const TEXT = 255;

/**
 * Writes one run in three passes over its rows (vertices, edges, steps),
 * so that the text streams out in order and only the stamps' numbers are
 * kept between passes.
 */
class RunWriter {
  readonly #info: ExecutionInfo;
  readonly #rows: number[];
  readonly #out: JsonBytes;
  readonly #data: RowData = {
    time0: 0,
    step0: 0,
    time1: 0,
    step1: 0,
    status: "Open",
    input: [],
    output: undefined,
  };
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
          this.#t0[i] = timeJson(data.time0);
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
      const t0 = this.#t0[i] ??= timeJson(data.time0);
      if (data.status === "Open") {
        stamp(out, t0, data.step0, CREATED, id);
        out.ascii(',"details":{"inputArgs":');
        args(out, data.input);
        out.ascii(OPEN_TAIL);
      } else {
        this.#note(data.step1, i, STATUS_CODE[data.status]);
        const t1 = this.#t1[i] = timeJson(data.time1);
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

/** A time as JSON (`toJsonSafe`'s placeholder when JSON cannot hold it). */
function timeJson(time: number): string {
  return Number.isFinite(time) ? String(time) : str(`[Number: ${time}]`);
}

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

// ---- records stored by hand (rare): written through strings ----

const str = JSON.stringify;

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : str(`[Number: ${n}]`);
}

function valueJson(v: unknown): string {
  const out = new JsonBytes(64);
  out.value(v);
  return out.toString();
}

function stampJson(s: Stamp): string {
  return `{"time":${num(s.time)},"step":${num(s.step)},"identifier":${str(s.identifier)}}`;
}

function argsJson(input: readonly unknown[]): string {
  return `[${input.map(valueJson).join(",")}]`;
}

function edgeJson(r: RequestRecord): string {
  return `{"identifier":${str(r.identifier)},"source":${
    r.sourceId === null ? "null" : str(r.sourceId)
  },"target":${str(r.sinkId)},"stamp":${stampJson(r.stamp)},"details":{"inputArgs":${
    argsJson(r.input)
  },"status":"${r.status}","output":${valueJson(r.output)}${
    r.attempts === undefined ? "" : `,"attempts":${valueJson(r.attempts)}`
  }},"parent":${r.parent ? edgeJson(r.parent) : "null"}}`;
}

function vertexJson(n: NodeRecord): string {
  if (n.parent !== null) return str(toJsonSafe(toVertex(n)));
  return `{"identifier":${str(n.identifier)},"nodeType":${str(n.nodeType)},"name":${
    str(n.name)
  },"stamp":${stampJson(n.stamp)},"details":{},"parent":null}`;
}

function toVertex(n: NodeRecord): Vertex {
  return {
    identifier: n.identifier,
    nodeType: n.nodeType,
    name: n.name,
    stamp: n.stamp,
    details: {},
    parent: n.parent ? toVertex(n.parent) : null,
  };
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

/**
 * The order of `count` stamps by step, stable: `null` when they are in
 * order already; a counting sort when steps are dense integers.
 *
 * @param steps The steps.
 * @param count How many of them to order.
 * @returns The indices in step order, or `null` when they are in order.
 *
 * @example
 * ```ts
 * import { stepOrder } from "./graph_json.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...stepOrder(Float64Array.of(5, 1, 3, 1), 4)!], [1, 3, 2, 0]);
 * assert.equal(stepOrder(Float64Array.of(1, 2, 2), 3), null);
 * ```
 */
export function stepOrder(steps: Float64Array, count: number): Int32Array | null {
  let min = Infinity, max = -Infinity, sorted = true;
  for (let i = 0; i < count; i++) {
    const step = steps[i];
    if (i > 0 && step < steps[i - 1]) sorted = false;
    if (step < min) min = step;
    if (step > max) max = step;
  }
  if (sorted) return null;
  const range = max - min + 1;
  if (!Number.isInteger(min) || !Number.isInteger(max) || range > 4 * count + 64) {
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => steps[a] - steps[b]);
    return Int32Array.from(order);
  }
  const counts = new Int32Array(range + 1);
  for (let i = 0; i < count; i++) counts[steps[i] - min + 1]++;
  for (let i = 1; i <= range; i++) counts[i] += counts[i - 1];
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[counts[steps[i] - min]++] = i;
  return order;
}
