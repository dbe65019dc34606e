/**
 * A saved run as a flat list of requests in tree order, the shape the CLI
 * and the visualizer draw from.
 *
 * @module
 */
import type { Edge, SerializedRun } from "../state/execution_info.ts";
import type { AttemptRecord, RequestStatus } from "../state/request_forest.ts";

/** One request of a saved run, placed in its tree. */
export interface RequestRow {
  /** The request id. */
  id: string;
  /** The calling request's id, `null` for a top-level request. */
  parent: string | null;
  /** Depth in the tree (0 for top-level requests). */
  depth: number;
  /** The node instance serving it. */
  node: string;
  /** The node's name. */
  name: string;
  /** How the node ran. */
  nodeType: string;
  /** Where the request stands. */
  status: RequestStatus;
  /** When it was created (ms since the epoch). */
  start: number;
  /** When it ended, `null` while open. */
  end: number | null;
  /** The creation step. */
  step: number;
  /** The call's arguments (JSON-safe). */
  input: unknown[];
  /** What it returned, or the error for a failure or cancellation. */
  output: unknown;
  /** Every attempt of a retried request; absent for one attempt. */
  attempts?: readonly AttemptRecord[];
}

/**
 * Flattens saved runs into rows in depth-first order, children in
 * creation order.
 *
 * @param runs The `runs` of a snapshot or loaded run.
 * @returns One row per request.
 *
 * @example Rows of a saved run
 * ```ts
 * import { call, node, Runner } from "@switchyard/core";
 * import { requestRows } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * const leaf = node(async (x: number) => x + 1, { name: "leaf" });
 * const root = node(async () => [await call(leaf, 1), await call(leaf, 2)], { name: "root" });
 * await using runner = new Runner({ loggingSetting: "NONE" });
 * const info = await runner.run(root);
 * const rows = requestRows(info.serializedRuns());
 * assert.deepEqual(rows.map((r) => [r.name, r.depth, r.output]), [
 *   ["root", 0, [2, 3]],
 *   ["leaf", 1, 2],
 *   ["leaf", 1, 3],
 * ]);
 * ```
 */
export function requestRows(runs: readonly SerializedRun[]): RequestRow[] {
  const rows: RequestRow[] = [];
  for (const run of runs) {
    const names = new Map(run.nodes.map((n) => [n.identifier, n]));
    const byCaller = new Map<string | null, Edge[]>();
    const requestOfNode = new Map<string, string>();
    for (const edge of run.edges) {
      requestOfNode.set(edge.target, edge.identifier);
      const siblings = byCaller.get(edge.source);
      if (siblings) siblings.push(edge);
      else byCaller.set(edge.source, [edge]);
    }
    for (const siblings of byCaller.values()) {
      siblings.sort((a, b) => firstVersion(a).stamp.step - firstVersion(b).stamp.step);
    }
    const stack: Array<{ edge: Edge; depth: number }> = [];
    const roots = run.edges.filter((e) => e.source === null || !requestOfNode.has(e.source)).sort((
      a,
      b,
    ) => firstVersion(a).stamp.step - firstVersion(b).stamp.step);
    for (let i = roots.length - 1; i >= 0; i--) {
      stack.push({ edge: roots[i], depth: 0 });
    }
    while (stack.length) {
      const { edge, depth } = stack.pop()!;
      const created = firstVersion(edge);
      const node = names.get(edge.target);
      rows.push({
        id: edge.identifier,
        parent: edge.source === null ? null : requestOfNode.get(edge.source) ?? null,
        depth,
        node: edge.target,
        name: node?.name ?? "?",
        nodeType: node?.nodeType ?? "?",
        status: edge.details.status,
        start: created.stamp.time,
        end: edge.details.status === "Open" ? null : edge.stamp.time,
        step: created.stamp.step,
        input: edge.details.inputArgs,
        output: edge.details.output,
      });
      if (Array.isArray(edge.details.attempts)) {
        rows[rows.length - 1].attempts = edge.details.attempts;
      }
      const children = byCaller.get(edge.target) ?? [];
      for (let i = children.length - 1; i >= 0; i--) {
        stack.push({ edge: children[i], depth: depth + 1 });
      }
    }
  }
  return rows;
}

function firstVersion(edge: Edge): Edge {
  let version = edge;
  while (version.parent) version = version.parent;
  return version;
}
