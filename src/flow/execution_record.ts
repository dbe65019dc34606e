/**
 * One entry of a job's execution history.
 *
 * @module
 */

/**
 * What a history record tells: an event a routine emitted, or a failure of
 * one of its activations (with what its error handler decided).
 */
export type ExecutionRecordKind = "emit" | "error";

/**
 * A routine emitted an event, or one of its activations failed: which
 * routine, which event, with what, when. `JobState` records one for every
 * emit and every failure, in time order. A failure's record has `kind`
 * `"error"`, `eventName` `"error"` and `data`
 * `{ slot, attempt, action, error: { name, message } }`, where `action` is
 * what the error handler decided (`"retry"`, `"continue"`, `"skip"`, or
 * `"stop"` for a failure that failed the job).
 *
 * @example Reading a record
 * ```ts
 * import { ExecutionRecord } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const record = new ExecutionRecord("source", "output", { data: "a" }, 1_700_000_000_000);
 * assert.equal(record.routineId, "source");
 * assert.equal(record.kind, "emit");
 * assert.deepEqual(JSON.parse(JSON.stringify(record)).data, { data: "a" });
 * ```
 */
export class ExecutionRecord {
  /** The routine that emitted. */
  readonly routineId: string;
  /** The event's name. */
  readonly eventName: string;
  /** The payload. */
  readonly data: Record<string, unknown>;
  /** When, in ms since the epoch. */
  readonly timestamp: number;
  /** An emit, or a failure. */
  readonly kind: ExecutionRecordKind;

  /**
   * Makes an ExecutionRecord.
   *
   * @param routineId The routine's id in its flow.
   * @param eventName The event.
   * @param data The payload.
   * @param timestamp When, in ms since the epoch; now by default.
   * @param kind An emit (default) or a failure.
   */
  constructor(
    routineId: string,
    eventName: string,
    data: Record<string, unknown>,
    timestamp: number = Date.now(),
    kind: ExecutionRecordKind = "emit",
  ) {
    this.routineId = routineId;
    this.eventName = eventName;
    this.data = data;
    this.timestamp = timestamp;
    this.kind = kind;
  }
}
