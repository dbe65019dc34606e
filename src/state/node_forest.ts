/**
 * Nodes: one record per node instance that served a request.
 *
 * @module
 */
import { checkVersion, Forest, type ForestRecord } from "./forest.ts";
import type { RequestForest } from "./request_forest.ts";

/** One node instance. */
export interface NodeRecord extends ForestRecord {
  /** The node's name. */
  readonly name: string;
  /** How it ran: `"async"`, `"worker"`, `"state"`, `"routine"`, … */
  readonly nodeType: string;
}

/**
 * The forest of node instances of a run. The node instances the runtime
 * makes are not stored twice: a forest made with the run's
 * {@linkcode RequestForest} reads them from the requests they serve (a
 * fresh record per read); records stored with `upsert` are kept as given.
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
export class NodeForest extends Forest<NodeRecord> {
  // Invariant: a node id is served from #requests only when the base forest
  // holds no version of it; #shadowed counts the ids held in both.
  readonly #requests: RequestForest | null;
  #shadowed = 0;

  /**
   * Makes an empty forest.
   *
   * @param requests The run's requests, whose runtime-made node instances
   *   this forest shows; none by default.
   */
  constructor(requests: RequestForest | null = null) {
    super();
    this.#requests = requests;
  }

  #derived(identifier: string): NodeRecord | undefined {
    const requests = this.#requests;
    if (requests === null) return undefined;
    const row = requests.rowOfNode(identifier);
    const node = row < 0 ? undefined : requests.nodeOf(row);
    if (node === undefined) return undefined;
    return {
      identifier,
      name: node.name,
      nodeType: node.nodeType,
      stamp: Object.freeze(requests.createdStamp(row)),
      parent: null,
    };
  }

  /**
   * Whether a node id is shown from the requests (not stored here).
   *
   * @param identifier The node id.
   * @returns `true` for a runtime-made node instance with one version.
   */
  isDerived(identifier: string): boolean {
    return !super.has(identifier) && this.#derived(identifier) !== undefined;
  }

  /**
   * Whether a runtime-made row's node instance is shown from the requests
   * (no version of it is stored here), without building its record.
   *
   * @param row A row of the requests this forest shows.
   * @param identifier That row's node id.
   * @returns `true` when it is.
   */
  isDerivedRow(row: number, identifier: string): boolean {
    return this.#requests !== null && this.#requests.hasNode(row) &&
      (super.size === 0 || !super.has(identifier));
  }

  /**
   * Stores a record copied from another forest, with the versions before it.
   *
   * @param record The newest version; its `parent` chain comes along.
   * @throws {ForestVersionError} If the forest knows that node already.
   */
  adopt(record: NodeRecord): void {
    this.adoptVersion(record);
  }

  /**
   * Stores a version of a node instance.
   *
   * @param record The record; `parent` must be the current version.
   */
  override upsert(record: NodeRecord): void {
    const inBase = super.has(record.identifier);
    const current = this.get(record.identifier);
    if (typeof record?.identifier !== "string") super.upsert(record);
    checkVersion(record, current);
    if (!inBase && current !== undefined) this.#shadowed++;
    this.store(record);
  }

  /**
   * The newest version of a node instance.
   *
   * @param identifier The node id.
   * @returns The record, or `undefined`.
   */
  override get(identifier: string): NodeRecord | undefined {
    return super.get(identifier) ?? this.#derived(identifier);
  }

  /**
   * Whether a node instance exists.
   *
   * @param identifier The node id.
   * @returns `true` when known.
   */
  override has(identifier: string): boolean {
    return super.has(identifier) || this.#derived(identifier) !== undefined;
  }

  /** How many node instances the forest shows. */
  override get size(): number {
    return super.size + (this.#requests?.nodeCount ?? 0) - this.#shadowed;
  }

  /**
   * The newest version of every node instance: those of the requests
   * first, in request order, then those stored here.
   *
   * @returns An iterator over the records.
   */
  override *values(): IterableIterator<NodeRecord> {
    const requests = this.#requests;
    if (requests !== null) {
      for (let row = 0; row < requests.rowCount; row++) {
        if (!requests.hasNode(row)) continue;
        const id = requests.nodeIdOf(row);
        if (!super.has(id)) yield this.#derived(id)!;
      }
    }
    yield* super.values();
  }

  /**
   * Every version of one node instance, oldest first.
   *
   * @param identifier The node id.
   * @returns The versions.
   */
  override history(identifier: string): NodeRecord[] {
    if (super.has(identifier)) return super.history(identifier);
    const derived = this.#derived(identifier);
    return derived ? [derived] : [];
  }

  /**
   * An empty forest (showing no requests).
   *
   * @returns The empty forest.
   */
  protected override empty(): this {
    return new NodeForest() as this;
  }
}
