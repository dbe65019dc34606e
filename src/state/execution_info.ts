/**
 * The whole story of a run: requests, node instances and stamps.
 *
 * @module
 */
import { NodeForest, type NodeRecord } from "./node_forest.ts";
import {
  type AttemptRecord,
  RequestForest,
  type RequestRecord,
  type RequestStatus,
} from "./request_forest.ts";
import { type Stamp, StampManager } from "./stamp.ts";
import { safeStringify, toJsonSafe } from "../core/json_safe.ts";

/** A node version as drawn in a graph. */
export interface Vertex {
  /** Node instance id. */
  identifier: string;
  /** How it ran. */
  nodeType: string;
  /** The node's name. */
  name: string;
  /** When this version was recorded. */
  stamp: Stamp;
  /** Extra facts about the node. */
  details: Record<string, unknown>;
  /** The previous version, or `null`. */
  parent: Vertex | null;
}

/** A request version as drawn in a graph: an arrow from caller to callee. */
export interface Edge {
  /** Request id. */
  identifier: string;
  /** Calling node id, `null` for a top-level request. */
  source: string | null;
  /** Called node id. */
  target: string;
  /** When this version was recorded. */
  stamp: Stamp;
  /** What went in and what came out. */
  details: {
    inputArgs: unknown[];
    status: RequestStatus;
    output: unknown;
    /** Every attempt of a retried request; absent for one attempt. */
    attempts?: readonly AttemptRecord[];
  };
  /** The previous version, or `null`. */
  parent: Edge | null;
}

/** One top-level run as written by {@linkcode ExecutionInfo.graphSerialization}. */
export interface SerializedRun {
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
  /** Every node instance of the run. */
  nodes: Vertex[];
  /** Every request of the run. */
  edges: Edge[];
  /** Every stamp of the run, in step order. */
  steps: Stamp[];
}

/** The status of a whole execution: that of its top-level requests. */
export type ExecutionStatus = RequestStatus;

/**
 * Everything a run did: the request forest (who called whom, with what,
 * what came back), the node forest and the stamps that order them.
 *
 * @example Reading a run
 * ```ts
 * import { call, node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const double = node(async (x: number) => x * 2, { name: "double" });
 * const twice = node(async (x: number) => await call(double, await call(double, x)), { name: "twice" });
 * await using runner = new Runner();
 * const info = await runner.run(twice, 3);
 * assert.equal(info.answer, 12);
 * assert.equal(info.status, "Completed");
 * assert.equal(info.name, "twice");
 * assert.equal(info.requestHeap.size, 3);
 * assert.equal(info.allStamps.length, 6);
 * ```
 */
export class ExecutionInfo {
  /** The requests of the run. */
  readonly requestHeap: RequestForest;
  /** The node instances of the run. */
  readonly nodeHeap: NodeForest;
  /** The stamp source of the run. */
  readonly stamper: StampManager;

  /**
   * Wraps existing forests; most callers want {@linkcode ExecutionInfo.createNew}.
   *
   * @param requestHeap The requests.
   * @param nodeHeap The node instances.
   * @param stamper The stamps.
   */
  constructor(
    requestHeap: RequestForest,
    nodeHeap: NodeForest,
    stamper: StampManager,
  ) {
    this.requestHeap = requestHeap;
    this.nodeHeap = nodeHeap;
    this.stamper = stamper;
  }

  /**
   * An empty execution.
   *
   * @returns A new ExecutionInfo with empty forests.
   */
  static createNew(): ExecutionInfo {
    return new ExecutionInfo(
      new RequestForest(),
      new NodeForest(),
      new StampManager(),
    );
  }

  /** The output of the run, or the list of outputs of several runs. */
  get answer(): unknown {
    return this.requestHeap.answer;
  }

  /** Every stamp, in creation order. */
  get allStamps(): Stamp[] {
    return this.stamper.allStamps;
  }

  /**
   * `"Open"` while any top-level request is open (or none exists), else
   * `"Failed"` if any failed, `"Cancelled"` if any was cancelled, else
   * `"Completed"`.
   */
  get status(): ExecutionStatus {
    const roots = this.requestHeap.insertionRequests;
    if (roots.length === 0 || roots.some((r) => r.status === "Open")) {
      return "Open";
    }
    if (roots.some((r) => r.status === "Failed")) return "Failed";
    if (roots.some((r) => r.status === "Cancelled")) return "Cancelled";
    return "Completed";
  }

  /** The first top-level node's name (`""` before any run). */
  get name(): string {
    const root = this.requestHeap.insertionRequests[0];
    return root ? this.nodeHeap.get(root.sinkId)?.name ?? "" : "";
  }

  /**
   * The sub-forest below some requests: them, every request made beneath
   * them, the node instances that served those, and their stamps.
   *
   * @param requestIds One request id or several.
   * @returns A new ExecutionInfo holding only that part.
   * @throws {RangeError} If an id names no request.
   *
   * @example The part of a run below one request
   * ```ts
   * import { call, node, Runner } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * const leaf = node(async () => "leaf", { name: "leaf" });
   * const mid = node(async () => await call(leaf), { name: "mid" });
   * const top = node(async () => [await call(mid), await call(leaf)], { name: "top" });
   * await using runner = new Runner();
   * const info = await runner.run(top);
   * const midRequest = [...info.requestHeap.values()].find((r) =>
   *   info.nodeHeap.get(r.sinkId)?.name === "mid"
   * )!;
   * const sub = info.getInfo(midRequest.identifier);
   * assert.equal(sub.requestHeap.size, 2);
   * ```
   */
  getInfo(requestIds: string | readonly string[]): ExecutionInfo {
    const ids = typeof requestIds === "string" ? [requestIds] : requestIds;
    const requests = new RequestForest();
    const nodes = new NodeForest();
    const stamps: Stamp[] = [];
    const queue: RequestRecord[] = ids.map((id) => {
      const request = this.requestHeap.get(id);
      if (!request) {
        throw new RangeError(
          `Cannot get info as 'requestIds' must name known requests: current value is '${id}'`,
        );
      }
      return request;
    });
    for (let i = 0; i < queue.length; i++) {
      const request = queue[i];
      if (requests.has(request.identifier)) continue;
      for (const version of this.requestHeap.history(request.identifier)) {
        requests.upsert(version);
        stamps.push(version.stamp);
      }
      const node = this.nodeHeap.get(request.sinkId);
      if (node && !nodes.has(node.identifier)) nodes.upsert(node);
      queue.push(...this.requestHeap.children(request.sinkId));
    }
    const stamper = new StampManager();
    stamper.adopt(stamps.sort((a, b) => a.step - b.step));
    return new ExecutionInfo(requests, nodes, stamper);
  }

  /**
   * The run as a graph: node instances as vertices, requests as edges, each
   * with its version history in `parent`.
   *
   * @returns The vertices and edges (values kept as they are).
   */
  toGraph(): { vertices: Vertex[]; edges: Edge[] } {
    return {
      vertices: [...this.nodeHeap.values()].map(toVertex),
      edges: [...this.requestHeap.values()].map(toEdge),
    };
  }

  /**
   * The run as JSON: an array with one {@linkcode SerializedRun} per
   * top-level run. Values JSON cannot hold (BigInt, cycles, functions,
   * class instances, …) are written as readable placeholders.
   *
   * @returns The JSON text; never throws.
   *
   * @example Serializing
   * ```ts
   * import { node, Runner } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * await using runner = new Runner();
   * const info = await runner.run(node(async () => 10n, { name: "big" }));
   * const [run] = JSON.parse(info.graphSerialization());
   * assert.equal(run.name, "big");
   * assert.equal(run.edges[0].details.output, "[BigInt: 10n]");
   * ```
   */
  graphSerialization(): string {
    return safeStringify(this.serializedRuns());
  }

  /**
   * The data behind {@linkcode ExecutionInfo.graphSerialization}, already
   * JSON-safe.
   *
   * @returns One entry per top-level run.
   */
  serializedRuns(): SerializedRun[] {
    return this.requestHeap.insertionRequests.map((root) => {
      const sub = this.getInfo(root.identifier);
      const { vertices, edges } = sub.toGraph();
      const steps = sub.allStamps;
      return toJsonSafe({
        name: this.nodeHeap.get(root.sinkId)?.name ?? "",
        runId: root.identifier,
        status: root.status,
        startTime: this.requestHeap.history(root.identifier)[0].stamp.time,
        endTime: root.status === "Open" ? null : root.stamp.time,
        nodes: vertices,
        edges,
        steps,
      }) as SerializedRun;
    });
  }
}

function toVertex(node: NodeRecord): Vertex {
  return {
    identifier: node.identifier,
    nodeType: node.nodeType,
    name: node.name,
    stamp: node.stamp,
    details: {},
    parent: node.parent ? toVertex(node.parent) : null,
  };
}

function toEdge(request: RequestRecord): Edge {
  return {
    identifier: request.identifier,
    source: request.sourceId,
    target: request.sinkId,
    stamp: request.stamp,
    details: {
      inputArgs: [...request.input],
      status: request.status,
      output: request.output,
      ...(request.attempts === undefined ? {} : { attempts: request.attempts }),
    },
    parent: request.parent ? toEdge(request.parent) : null,
  };
}
