/**
 * One entry of a job's execution history.
 *
 * @module
 */

/**
 * A routine emitted an event: which routine, which event, with what, when.
 * `JobState` records one for every emit, in time order.
 *
 * @example Reading a record
 * ```ts
 * import { ExecutionRecord } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const record = new ExecutionRecord("source", "output", { data: "a" }, 1_700_000_000_000);
 * assert.equal(record.routineId, "source");
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

  /**
   * Makes an ExecutionRecord.
   *
   * @param routineId The routine's id in its flow.
   * @param eventName The event.
   * @param data The payload.
   * @param timestamp When, in ms since the epoch; now by default.
   */
  constructor(
    routineId: string,
    eventName: string,
    data: Record<string, unknown>,
    timestamp: number = Date.now(),
  ) {
    this.routineId = routineId;
    this.eventName = eventName;
    this.data = data;
    this.timestamp = timestamp;
  }
}
