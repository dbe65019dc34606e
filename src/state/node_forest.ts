/**
 * Nodes: one record per node instance that served a request.
 *
 * @module
 */
import { Forest, type ForestRecord } from "./forest.ts";

/** One node instance. */
export interface NodeRecord extends ForestRecord {
  /** The node's name. */
  readonly name: string;
  /** How it ran: `"async"`, `"worker"`, `"state"`, `"routine"`, … */
  readonly nodeType: string;
}

/**
 * The forest of node instances of a run.
 *
 * @example Recording a node
 * ```ts
 * import { NodeForest, StampManager } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const nodes = new NodeForest();
 * nodes.upsert({
 *   identifier: "n1", name: "double", nodeType: "async",
 *   stamp: new StampManager().createStamp("created n1"), parent: null,
 * });
 * assert.equal(nodes.get("n1")?.name, "double");
 * ```
 */
export class NodeForest extends Forest<NodeRecord> {}
