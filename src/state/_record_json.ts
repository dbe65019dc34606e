/**
 * The JSON of records stored by hand rather than kept as rows (rare),
 * written through strings: the stamps, requests and node instances a
 * saved run shows for them.
 *
 * @module
 */
import { JsonBytes } from "../core/json_bytes.ts";
import { toJsonSafe } from "../core/json_safe.ts";
import type { Vertex } from "./execution_info.ts";
import type { NodeRecord } from "./node_forest.ts";
import type { RequestRecord } from "./request_forest.ts";
import type { Stamp } from "./stamp.ts";

const str = JSON.stringify;

/**
 * A number as JSON, or `toJsonSafe`'s placeholder when JSON cannot hold it.
 *
 * @param n The number.
 * @returns Its JSON text.
 */
export function numberJson(n: number): string {
  return Number.isFinite(n) ? String(n) : str(`[Number: ${n}]`);
}

function valueJson(v: unknown): string {
  const out = new JsonBytes(64);
  out.value(v);
  return out.toString();
}

/**
 * A stamp as JSON.
 *
 * @param s The stamp.
 * @returns Its JSON text.
 */
export function stampJson(s: Stamp): string {
  return `{"time":${numberJson(s.time)},"step":${numberJson(s.step)},"identifier":${
    str(s.identifier)
  }}`;
}

function argsJson(input: readonly unknown[]): string {
  return `[${input.map(valueJson).join(",")}]`;
}

/**
 * A request version as an edge of a saved run, with the versions before it.
 *
 * @param r The request version.
 * @returns Its JSON text.
 */
export function edgeJson(r: RequestRecord): string {
  return `{"identifier":${str(r.identifier)},"source":${
    r.sourceId === null ? "null" : str(r.sourceId)
  },"target":${str(r.sinkId)},"stamp":${stampJson(r.stamp)},"details":{"inputArgs":${
    argsJson(r.input)
  },"status":"${r.status}","output":${valueJson(r.output)}${
    r.attempts === undefined ? "" : `,"attempts":${valueJson(r.attempts)}`
  }},"parent":${r.parent ? edgeJson(r.parent) : "null"}}`;
}

/**
 * A node instance as a vertex of a saved run.
 *
 * @param n The node record.
 * @returns Its JSON text.
 */
export function vertexJson(n: NodeRecord): string {
  if (n.parent !== null) return str(toJsonSafe(toVertex(n)));
  return `{"identifier":${str(n.identifier)},"nodeType":${str(n.nodeType)},"name":${
    str(n.name)
  },"stamp":${stampJson(n.stamp)},"details":{},"parent":null}`;
}

/**
 * A node record as the vertex a serialized run shows, with its version
 * chain as nested parents.
 *
 * @param n The record.
 * @returns The vertex.
 */
export function toVertex(n: NodeRecord): Vertex {
  return {
    identifier: n.identifier,
    nodeType: n.nodeType,
    name: n.name,
    stamp: n.stamp,
    details: {},
    parent: n.parent ? toVertex(n.parent) : null,
  };
}
