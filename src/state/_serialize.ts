/**
 * Writes `ExecutionInfo.graphSerialization()` straight from the request
 * rows, without building the graph's objects first.
 *
 * @module
 */
import { toJsonSafe } from "../core/json_safe.ts";
import type { ExecutionInfo, Vertex } from "./execution_info.ts";
import type { NodeRecord } from "./node_forest.ts";
import type { RequestRecord, RowData } from "./request_forest.ts";
import type { Stamp } from "./stamp.ts";

const str = JSON.stringify;

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : str(`[Number: ${n}]`);
}

/** A value as JSON, with the placeholders of `toJsonSafe` for what JSON cannot hold. */
function value(v: unknown): string {
  switch (typeof v) {
    case "undefined":
      return "null";
    case "string":
      return str(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return Number.isFinite(v) ? String(v) : str(`[Number: ${v}]`);
  }
  if (v === null) return "null";
  return str(toJsonSafe(v));
}

function stamp(s: Stamp): string {
  return `{"time":${num(s.time)},"step":${num(s.step)},"identifier":${str(s.identifier)}}`;
}

function args(input: readonly unknown[]): string {
  if (input.length === 0) return "[]";
  let out = "[";
  for (let i = 0; i < input.length; i++) out += (i ? "," : "") + value(input[i]);
  return out + "]";
}

function edge(r: RequestRecord): string {
  return `{"identifier":${str(r.identifier)},"source":${
    r.sourceId === null ? "null" : str(r.sourceId)
  },"target":${str(r.sinkId)},"stamp":${stamp(r.stamp)},"details":{"inputArgs":${
    args(r.input)
  },"status":"${r.status}","output":${value(r.output)}${
    r.attempts === undefined ? "" : `,"attempts":${value(r.attempts)}`
  }},"parent":${r.parent ? edge(r.parent) : "null"}}`;
}

function vertex(n: NodeRecord): string {
  if (n.parent !== null) {
    const v: Vertex = toVertex(n);
    return str(toJsonSafe(v));
  }
  return `{"identifier":${str(n.identifier)},"nodeType":${str(n.nodeType)},"name":${
    str(n.name)
  },"stamp":${stamp(n.stamp)},"details":{},"parent":null}`;
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

/**
 * The JSON of every top-level run of an execution, as
 * `ExecutionInfo.graphSerialization()` returns it.
 *
 * @param info The execution.
 * @returns The JSON text.
 */
export function serializeRuns(info: ExecutionInfo): string {
  const requests = info.requestHeap;
  const runs: string[] = [];
  for (const rootRow of requests.insertionRows) runs.push(serializeRun(info, rootRow));
  return `[${runs.join(",")}]`;
}

function serializeRun(info: ExecutionInfo, rootRow: number): string {
  const requests = info.requestHeap;
  const nodes = info.nodeHeap;
  const rows = subtreeOf(info, rootRow);
  const edges: string[] = new Array(rows.length);
  const derived: string[] = [];
  const stored: string[] = [];
  // Step order of the stamps: (step, text) pairs, sorted at the end.
  const steps: Stamp[] = [];
  // The JSON text of each row's node id, for its callees' "source".
  const nodeIds = new Map<number, string>();
  const data: RowData = {
    time0: 0,
    step0: 0,
    time1: 0,
    step1: 0,
    status: "Open",
    input: [],
    output: undefined,
  };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const nodeId = requests.nodeIdOf(row);
    const nodeJson = str(nodeId);
    nodeIds.set(row, nodeJson);
    const parent = requests.parentRow(row);
    if (requests.readRow(row, data)) {
      const id = requests.idOf(row);
      const idJson = str(id);
      const source = parent >= 0
        ? nodeIds.get(parent) ?? str(requests.nodeIdOf(parent))
        : (requests.sourceIdOf(row) === null ? "null" : str(requests.sourceIdOf(row)));
      const created = `{"time":${num(data.time0)},"step":${num(data.step0)},"identifier":${
        str(`Created request ${id}`)
      }}`;
      steps.push({ time: data.time0, step: data.step0, identifier: created });
      const head = `{"identifier":${idJson},"source":${source},"target":${nodeJson},"stamp":`;
      const inputJson = args(data.input);
      const first =
        `${head}${created},"details":{"inputArgs":${inputJson},"status":"Open","output":null},"parent":null}`;
      if (data.status === "Open") edges[i] = first;
      else {
        const ended = `{"time":${num(data.time1)},"step":${num(data.step1)},"identifier":${
          str(`${data.status} request ${id}`)
        }}`;
        steps.push({ time: data.time1, step: data.step1, identifier: ended });
        edges[i] =
          `${head}${ended},"details":{"inputArgs":${inputJson},"status":"${data.status}","output":${
            value(data.output)
          }},"parent":${first}}`;
      }
      if (nodes.isDerivedRow(row, nodeId)) {
        const node = requests.nodeOf(row)!;
        derived.push(
          `{"identifier":${nodeJson},"nodeType":${str(node.nodeType)},"name":${
            str(node.name)
          },"stamp":${created},"details":{},"parent":null}`,
        );
        continue;
      }
    } else {
      const versions = requests.versionsOf(row);
      for (const v of versions) steps.push({ ...v.stamp, identifier: stamp(v.stamp) });
      edges[i] = edge(versions[versions.length - 1]);
      if (nodes.isDerived(nodeId)) {
        derived.push(vertex(nodes.get(nodeId)!));
        continue;
      }
    }
    const node = nodes.get(nodeId);
    if (node) stored.push(vertex(node));
  }
  const root = requests.versionsOf(rootRow);
  const last = root[root.length - 1];
  return `{"name":${str(nodes.get(requests.nodeIdOf(rootRow))?.name ?? "")},"runId":${
    str(last.identifier)
  },"status":"${last.status}","startTime":${num(root[0].stamp.time)},"endTime":${
    last.status === "Open" ? "null" : num(last.stamp.time)
  },"nodes":[${derived.join(",")}${derived.length && stored.length ? "," : ""}${
    stored.join(",")
  }],"edges":[${edges.join(",")}],"steps":[${
    inStepOrder(steps).map((s) => s.identifier).join(",")
  }]}`;
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

/** Stamps sorted by step, stably, without a comparison sort when steps are dense. */
function inStepOrder(stamps: Stamp[]): Stamp[] {
  let min = Infinity, max = -Infinity, sorted = true;
  for (let i = 0; i < stamps.length; i++) {
    const step = stamps[i].step;
    if (i > 0 && step < stamps[i - 1].step) sorted = false;
    if (step < min) min = step;
    if (step > max) max = step;
  }
  if (sorted) return stamps;
  const range = max - min + 1;
  if (!Number.isInteger(min) || !Number.isInteger(max) || range > 4 * stamps.length + 64) {
    return stamps.slice().sort((a, b) => a.step - b.step);
  }
  const counts = new Int32Array(range + 1);
  for (const s of stamps) counts[s.step - min + 1]++;
  for (let i = 1; i <= range; i++) counts[i] += counts[i - 1];
  const out = new Array<Stamp>(stamps.length);
  for (const s of stamps) out[counts[s.step - min]++] = s;
  return out;
}
