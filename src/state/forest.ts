/**
 * A store of immutable, versioned records.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
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
 * A version that would break a record's history: its `parent` is not the
 * record's current version, it starts a second history for an identifier
 * that has one, or it is stamped at a lower step than the version it
 * follows.
 *
 * @example A stale version is refused
 * ```ts
 * import { Forest, ForestVersionError, StampManager, type ForestRecord } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const stamper = new StampManager();
 * const forest = new Forest<ForestRecord>();
 * forest.upsert({ identifier: "n", stamp: stamper.createStamp("v1"), parent: null });
 * assert.throws(
 *   () => forest.upsert({ identifier: "n", stamp: stamper.createStamp("v2"), parent: null }),
 *   ForestVersionError,
 * );
 * ```
 */
export class ForestVersionError extends Error {
  /** Always `"ForestVersionError"`. */
  override readonly name = "ForestVersionError";
}

/**
 * Checks that `record` may follow `current` (the identifier's newest
 * version, `undefined` for none) in a version chain.
 *
 * @param record The new version.
 * @param current The current version.
 * @throws {ForestVersionError} If it may not.
 */
export function checkVersion(record: ForestRecord, current: ForestRecord | undefined): void {
  const parent = record.parent;
  if (current === undefined) {
    if (parent === null || parent === undefined) return;
    throw new ForestVersionError(
      `Cannot store a version of '${record.identifier}' as 'parent' must be null for a new record: current value is the version at step ${parent.stamp?.step}`,
    );
  }
  if (parent === null || parent === undefined) {
    throw new ForestVersionError(
      `Cannot store a second root for '${record.identifier}' as 'parent' must be its current version (step ${current.stamp.step}): current value is null`,
    );
  }
  if (!sameVersion(parent, current)) {
    throw new ForestVersionError(
      `Cannot store a version of '${record.identifier}' as 'parent' must be its current version (step ${current.stamp.step}): current value is the version at step ${parent.stamp?.step}`,
    );
  }
  if (!(record.stamp?.step >= current.stamp.step)) {
    throw new ForestVersionError(
      `Cannot store a version of '${record.identifier}' as 'stamp.step' must be at least its parent's (${current.stamp.step}): current value is ${
        describeValue(record.stamp?.step)
      }`,
    );
  }
}

/** Versions are compared by identity, else by identifier and stamp. */
function sameVersion(a: ForestRecord, b: ForestRecord): boolean {
  return a === b ||
    (a.identifier === b.identifier && a.stamp?.step === b.stamp.step &&
      a.stamp?.time === b.stamp.time);
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
   * @param record The record; its `parent` must be the current version
   *   (`null` for a new record) and its step at least the parent's.
   * @throws {TypeError} If the record has no string identifier.
   * @throws {ForestVersionError} If the version does not follow the current one.
   */
  upsert(record: T): void {
    if (typeof record?.identifier !== "string") {
      throw new TypeError(
        `Cannot store a record as 'identifier' must be a string: current value is ${
          describeValue(record?.identifier)
        }`,
      );
    }
    checkVersion(record, this.get(record.identifier));
    this.store(record);
  }

  /**
   * Puts a checked version in place as the newest of its identifier.
   *
   * @param record The version.
   */
  protected store(record: T): void {
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
        `Cannot travel back as 'step' must be a finite number: current value is ${
          describeValue(step)
        }`,
      );
    }
    const copy = this.empty();
    for (const newest of this.values()) {
      let version: T | null = newest;
      while (version && version.stamp.step > step) version = version.parent;
      if (version) copy.adoptVersion(version);
    }
    return copy;
  }

  /**
   * Stores a version as the newest of its identifier together with the
   * versions before it (a copy of another forest's record).
   *
   * @param version The version; its `parent` chain comes along.
   */
  protected adoptVersion(version: T): void {
    if (this.#heap.has(version.identifier)) {
      throw new ForestVersionError(
        `Cannot adopt '${version.identifier}' as 'identifier' must be new to the forest: current value is taken`,
      );
    }
    this.#heap.set(version.identifier, version);
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
