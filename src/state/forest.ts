/**
 * A store of immutable, versioned records.
 *
 * @module
 */
import type { Stamp } from "./stamp.ts";

/** The fields every record kept in a {@linkcode Forest} carries. */
export interface ForestRecord {
  /** Identifier shared by every version of one record. */
  readonly identifier: string;
  /** When this version was made. */
  readonly stamp: Stamp;
  /** The previous version of the same record, or `null` for the first. */
  readonly parent: this | null;
}

/**
 * Keeps immutable records, each update a new version linked to the one
 * before it, and can show the forest as it stood at an earlier step.
 *
 * Records are never mutated: {@linkcode Forest.upsert} stores a new object
 * whose `parent` is the version it replaces.
 *
 * @typeParam T The record type.
 *
 * @example Versions and the time machine
 * ```ts
 * import { Forest, StampManager, type ForestRecord } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * interface Note extends ForestRecord { readonly text: string }
 * const stamper = new StampManager();
 * const forest = new Forest<Note>();
 * forest.upsert({ identifier: "n", text: "draft", stamp: stamper.createStamp("v1"), parent: null });
 * forest.upsert({ identifier: "n", text: "final", stamp: stamper.createStamp("v2"), parent: forest.get("n")! });
 * assert.equal(forest.get("n")?.text, "final");
 * assert.equal(forest.timeMachine(0).get("n")?.text, "draft");
 * ```
 */
export class Forest<T extends ForestRecord> {
  // Invariant: #heap maps each identifier to its newest version, and every
  // older version is reachable through `parent` links from it.
  #heap = new Map<string, T>();

  /**
   * Stores a record as the newest version of its identifier.
   *
   * @param record The record; its `parent` should be the current version.
   * @throws {TypeError} If the record has no string identifier.
   */
  upsert(record: T): void {
    if (typeof record?.identifier !== "string") {
      throw new TypeError(
        `Cannot store a record as 'identifier' must be a string: current value is ${
          String(record?.identifier)
        }`,
      );
    }
    this.#heap.set(record.identifier, record);
  }

  /**
   * The newest version of a record.
   *
   * @param identifier The record's identifier.
   * @returns The record, or `undefined` when there is none.
   */
  get(identifier: string): T | undefined {
    return this.#heap.get(identifier);
  }

  /**
   * Whether a record exists.
   *
   * @param identifier The record's identifier.
   * @returns `true` when the forest holds it.
   */
  has(identifier: string): boolean {
    return this.#heap.has(identifier);
  }

  /** How many records (not versions) the forest holds. */
  get size(): number {
    return this.#heap.size;
  }

  /**
   * The newest version of every record, in insertion order.
   *
   * @returns An iterator over the records.
   */
  values(): IterableIterator<T> {
    return this.#heap.values();
  }

  /**
   * Every version of one record, oldest first.
   *
   * @param identifier The record's identifier.
   * @returns The versions; empty when the record is unknown.
   */
  history(identifier: string): T[] {
    const versions: T[] = [];
    for (let v = this.#heap.get(identifier) ?? null; v; v = v.parent) {
      versions.push(v);
    }
    return versions.reverse();
  }

  /**
   * The forest as it stood once the given step had happened: each record at
   * its newest version stamped at or before `step`; records created later
   * are absent.
   *
   * @param step The step to travel back to.
   * @returns A new forest of the same class.
   * @throws {RangeError} If `step` is not a finite number.
   */
  timeMachine(step: number): this {
    if (!Number.isFinite(step)) {
      throw new RangeError(
        `Cannot travel back as 'step' must be a finite number: current value is ${step}`,
      );
    }
    const copy = this.empty();
    for (const newest of this.#heap.values()) {
      let version: T | null = newest;
      while (version && version.stamp.step > step) version = version.parent;
      if (version) copy.upsert(version);
    }
    return copy;
  }

  /**
   * A new, empty forest of the same class; subclasses whose constructor
   * takes arguments override it.
   *
   * @returns The empty forest.
   */
  protected empty(): this {
    return new (this.constructor as new () => this)();
  }
}
