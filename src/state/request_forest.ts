/**
 * Requests: one record per call, versioned from `Open` to its end.
 *
 * @module
 */
import { Forest, type ForestRecord } from "./forest.ts";
import type { Stamp } from "./stamp.ts";

/** Where a request stands. */
export type RequestStatus = "Open" | "Completed" | "Failed" | "Cancelled";

// --- Attempts of a retried request (a separate addition to the record) ---

/**
 * One attempt of a request whose node has `retries`: when it ran, how it
 * ended, and how long the runtime waited before the next one.
 */
export interface AttemptRecord {
  /** 1 for the first run, 2 for the first retry, … */
  readonly attempt: number;
  /** When the attempt started (ms since the epoch). */
  readonly start: number;
  /** When it ended (ms since the epoch). */
  readonly end: number;
  /** How it ended. */
  readonly status: "Completed" | "Failed";
  /** What it threw (failed attempts). */
  readonly error?: unknown;
  /** The wait before the next attempt in ms (failed attempts that were retried). */
  readonly retryDelay?: number;
}

/** One version of a request: who called whom, with what, and what came back. */
export interface RequestRecord extends ForestRecord {
  /** The calling node instance, or `null` for a top-level (insertion) request. */
  readonly sourceId: string | null;
  /** The node instance that serves the request. */
  readonly sinkId: string;
  /** The arguments of the call. */
  readonly input: readonly unknown[];
  /** The returned value, the error for a failure or cancellation, `undefined` while open. */
  readonly output: unknown;
  /** Where the request stands. */
  readonly status: RequestStatus;
  /**
   * Every attempt, in order, on the end version of a request whose node
   * has `retries`; absent otherwise (one attempt).
   */
  readonly attempts?: readonly AttemptRecord[];
}

/**
 * The forest of requests of a run, indexed by caller so that children and
 * open tails are found without a scan of the whole forest.
 *
 * @example Creating and closing a request
 * ```ts
 * import { RequestForest, StampManager } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const stamper = new StampManager();
 * const requests = new RequestForest();
 * requests.create("r1", null, "n1", [2], stamper.createStamp("created r1"));
 * requests.update("r1", 4, "Completed", stamper.createStamp("completed r1"));
 * assert.equal(requests.answer, 4);
 * assert.deepEqual(requests.history("r1").map((r) => r.status), ["Open", "Completed"]);
 * ```
 */
export class RequestForest extends Forest<RequestRecord> {
  // Invariants: #bySource lists, per calling node, the ids of the requests it
  // made in creation order; #insertions lists the top-level ids in order.
  #bySource = new Map<string, string[]>();
  #insertions: string[] = [];
  // Invariant: #open counts the requests whose newest version is "Open".
  #open = 0;

  /**
   * Stores a record as the newest version of its request, indexing new
   * requests by caller.
   *
   * @param record The record.
   */
  override upsert(record: RequestRecord): void {
    this.#store(record, this.get(record.identifier));
  }

  /** Stores a version, given the version it replaces (if any). */
  #store(record: RequestRecord, previous: RequestRecord | undefined): void {
    if (previous === undefined) this.#index(record);
    this.#open += (record.status === "Open" ? 1 : 0) - (previous?.status === "Open" ? 1 : 0);
    super.upsert(record);
  }

  #index(record: RequestRecord): void {
    if (record.sourceId === null) this.#insertions.push(record.identifier);
    else {
      const siblings = this.#bySource.get(record.sourceId);
      if (siblings) siblings.push(record.identifier);
      else this.#bySource.set(record.sourceId, [record.identifier]);
    }
  }

  /**
   * Records a new open request.
   *
   * @param identifier The request's id.
   * @param sourceId The caller's node id, or `null` at top level.
   * @param sinkId The callee's node id.
   * @param input The call's arguments.
   * @param stamp When it was created.
   * @returns The new record.
   * @throws {Error} If a request with that id exists already.
   */
  create(
    identifier: string,
    sourceId: string | null,
    sinkId: string,
    input: readonly unknown[],
    stamp: Stamp,
  ): RequestRecord {
    if (this.has(identifier)) {
      throw new Error(
        `Cannot create request '${identifier}' as it exists already`,
      );
    }
    const record: RequestRecord = {
      identifier,
      sourceId,
      sinkId,
      input,
      output: undefined,
      status: "Open",
      stamp,
      parent: null,
    };
    this.#store(record, undefined);
    return record;
  }

  /**
   * Records a new version of a request with its outcome.
   *
   * @param identifier The request's id.
   * @param output The returned value or the error.
   * @param status The new status.
   * @param stamp When it happened.
   * @param attempts The attempts of a retried request, if any.
   * @returns The new version.
   * @throws {RangeError} If no request has that id.
   */
  update(
    identifier: string,
    output: unknown,
    status: RequestStatus,
    stamp: Stamp,
    attempts?: readonly AttemptRecord[],
  ): RequestRecord {
    const previous = this.get(identifier);
    if (!previous) {
      throw new RangeError(
        `Cannot update request as 'identifier' must name a known request: current value is '${identifier}'`,
      );
    }
    const record: RequestRecord = {
      identifier,
      sourceId: previous.sourceId,
      sinkId: previous.sinkId,
      input: previous.input,
      output,
      status,
      stamp,
      parent: previous,
    };
    if (attempts !== undefined) {
      (record as { attempts?: readonly AttemptRecord[] }).attempts = Object.freeze([...attempts]);
    }
    this.#store(record, previous);
    return record;
  }

  /**
   * The requests a node instance made, in creation order.
   *
   * @param nodeId The calling node's id.
   * @returns Their newest versions.
   */
  children(nodeId: string): RequestRecord[] {
    const ids = this.#bySource.get(nodeId);
    return ids ? ids.map((id) => this.get(id)!) : [];
  }

  /** How many requests are open. */
  get openCount(): number {
    return this.#open;
  }

  /**
   * The deepest open requests: those open with no open child.
   *
   * @returns Their newest versions.
   */
  openTails(): RequestRecord[] {
    const tails: RequestRecord[] = [];
    for (const request of this.values()) {
      if (request.status !== "Open") continue;
      const childIds = this.#bySource.get(request.sinkId) ?? [];
      if (!childIds.some((child) => this.get(child)?.status === "Open")) {
        tails.push(request);
      }
    }
    return tails;
  }

  /** The top-level requests, one per run, in order. */
  get insertionRequests(): RequestRecord[] {
    return this.#insertions.map((id) => this.get(id)!);
  }

  /**
   * The output of the run: the single top-level request's output, or the
   * list of outputs when there were several runs (`undefined` when none).
   */
  get answer(): unknown {
    const outputs = this.#insertions.map((id) => this.get(id)!.output);
    if (outputs.length === 0) return undefined;
    return outputs.length === 1 ? outputs[0] : outputs;
  }
}
