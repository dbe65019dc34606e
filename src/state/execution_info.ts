/**
 * The whole story of a run: requests, node instances and stamps.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { NodeForest } from "./node_forest.ts";
import {
  type AttemptRecord,
  RequestForest,
  type RequestRecord,
  type RequestStatus,
} from "./request_forest.ts";
import { type Stamp, StampManager } from "./stamp.ts";
import { toJsonSafe } from "../core/json_safe.ts";
import { STAMP_CREATED, STATUS_NAMES } from "./_rows.ts";
import { serializeRuns } from "./graph_json.ts";
import { toVertex } from "./_record_json.ts";

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
export class ExecutionInfo<Answer = unknown> {
  readonly #requests: RequestForest;
  readonly #nodes: NodeForest;
  readonly #stamper: StampManager;

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
    this.#requests = requestHeap;
    this.#nodes = nodeHeap;
    this.#stamper = stamper;
    // The runtime's stamps name their request only when read.
    stamper.describeWith((kind, row) =>
      `${kind === STAMP_CREATED ? "Created" : STATUS_NAMES[kind - STAMP_CREATED]} request ${
        requestHeap.idOf(row)
      }`
    );
  }

  /**
   * An empty execution.
   *
   * @returns A new ExecutionInfo with empty forests.
   */
  static createNew(): ExecutionInfo {
    const requests = new RequestForest();
    return new ExecutionInfo(requests, new NodeForest(requests), new StampManager());
  }

  /** The requests of the run. */
  get requestHeap(): RequestForest {
    return this.#requests;
  }

  /** The node instances of the run. */
  get nodeHeap(): NodeForest {
    return this.#nodes;
  }

  /** The stamp source of the run. */
  get stamper(): StampManager {
    return this.#stamper;
  }

  /** The output of the run, or the list of outputs of several runs. */
  get answer(): Answer {
    return this.requestHeap.answer as Answer;
  }

  /**
   * One top-level run of this execution, as an ExecutionInfo of its own
   * (its `answer` is that run's output). Nothing is copied while this
   * execution holds that run only; once it holds others, the run's part is
   * copied at the first read.
   *
   * @param requestId The run's top-level request id.
   * @returns The run's ExecutionInfo.
   * @throws {RangeError} If the id names no top-level request.
   *
   * @example One run of a runner used twice
   * ```ts
   * import { node, Runner } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * const square = node(async (x: number) => x * x, { name: "square" });
   * await using runner = new Runner();
   * const first = await runner.run(square, 3);
   * const second = await runner.run(square, 4);
   * assert.equal(first.answer, 9);
   * assert.equal(second.answer, 16);
   * assert.equal(second.requestHeap.size, 1);
   * assert.deepEqual(runner.info.answer, [9, 16]);
   * ```
   */
  runInfo<R = unknown>(requestId: string): ExecutionInfo<R> {
    const row = this.requestHeap.rowOf(requestId);
    if (
      row < 0 || this.requestHeap.parentRow(row) >= 0 || this.requestHeap.sourceIdOf(row) !== null
    ) {
      throw new RangeError(
        `Cannot view a run as 'requestId' must name a top-level request: current value is ${
          describeValue(requestId)
        }`,
      );
    }
    return new RunInfo<R>(this, row);
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
    const requests = this.requestHeap;
    const statuses = requests.insertionRows.map((row) => requests.statusOf(row));
    if (statuses.length === 0 || statuses.includes("Open")) return "Open";
    if (statuses.includes("Failed")) return "Failed";
    if (statuses.includes("Cancelled")) return "Cancelled";
    return "Completed";
  }

  /** The first top-level node's name (`""` before any run). */
  get name(): string {
    const row = this.requestHeap.insertionRows[0];
    if (row === undefined) return "";
    return this.nodeHeap.get(this.requestHeap.nodeIdOf(row))?.name ?? "";
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
    const roots = ids.map((id) => {
      const row = this.requestHeap.rowOf(id);
      if (row < 0) {
        throw new RangeError(
          `Cannot get info as 'requestIds' must name known requests: current value is ${
            describeValue(id)
          }`,
        );
      }
      return row;
    });
    return this.subInfo(roots);
  }

  /**
   * The sub-forest below some rows of the request forest.
   *
   * @param roots The rows.
   * @returns A new ExecutionInfo holding only that part.
   */
  subInfo(roots: readonly number[]): ExecutionInfo {
    const source = this.requestHeap;
    const rows = subtreeRows(source, roots);
    const requests = source.copyRows(rows);
    const nodes = new NodeForest(requests);
    const stamps: Stamp[] = [];
    for (const row of rows) {
      for (const version of source.versionsOf(row)) stamps.push(version.stamp);
      const nodeId = source.nodeIdOf(row);
      if (!this.nodeHeap.isDerived(nodeId)) {
        const node = this.nodeHeap.get(nodeId);
        if (node && !nodes.has(nodeId)) nodes.adopt(node);
      }
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
    return serializeRuns(this);
  }

  /**
   * The data behind {@linkcode ExecutionInfo.graphSerialization}, already
   * JSON-safe.
   *
   * @returns One entry per top-level run.
   */
  serializedRuns(): SerializedRun[] {
    return this.requestHeap.insertionRows.map((rootRow) => {
      const root = this.requestHeap.recordOf(rootRow);
      const sub = this.subInfo([rootRow]);
      const { vertices, edges } = sub.toGraph();
      const steps = sub.allStamps;
      return toJsonSafe({
        name: this.nodeHeap.get(root.sinkId)?.name ?? "",
        runId: root.identifier,
        status: root.status,
        startTime: this.requestHeap.createdStamp(rootRow).time,
        endTime: root.status === "Open" ? null : root.stamp.time,
        nodes: vertices,
        edges,
        steps,
      }) as SerializedRun;
    });
  }
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

/**
 * The rows below some rows (them included), breadth first, each once.
 *
 * @param requests The forest.
 * @param roots The rows to start from.
 * @returns The rows.
 */
export function subtreeRows(requests: RequestForest, roots: readonly number[]): number[] {
  const seen = new Set<number>();
  const rows: number[] = [];
  const queue = [...roots];
  for (let i = 0; i < queue.length; i++) {
    const row = queue[i];
    if (seen.has(row)) continue;
    seen.add(row);
    rows.push(row);
    for (const child of requests.childRows(row)) queue.push(child);
  }
  return rows;
}

/**
 * One top-level run of a larger execution: reads go to the execution while
 * it holds that run only, else to a copy of the run's part, made once.
 */
class RunInfo<Answer> extends ExecutionInfo<Answer> {
  readonly #source: ExecutionInfo;
  readonly #root: number;
  #copy: ExecutionInfo | null = null;

  constructor(source: ExecutionInfo, root: number) {
    super(source.requestHeap, source.nodeHeap, source.stamper);
    this.#source = source;
    this.#root = root;
  }

  #view(): ExecutionInfo {
    if (this.#copy !== null) return this.#copy;
    const requests = this.#source.requestHeap;
    if (requests.insertionRows.length === 1 && requests.insertionRows[0] === this.#root) {
      return this.#source;
    }
    return this.#copy = this.#source.subInfo([this.#root]);
  }

  override get requestHeap(): RequestForest {
    return this.#view().requestHeap;
  }

  override get nodeHeap(): NodeForest {
    return this.#view().nodeHeap;
  }

  override get stamper(): StampManager {
    return this.#view().stamper;
  }

  override get answer(): Answer {
    return this.#source.requestHeap.outputOf(this.#root) as Answer;
  }
}
