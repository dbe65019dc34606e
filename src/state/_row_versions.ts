/**
 * The version history of the request rows: what a row needs beyond its
 * first and newest version's numbers, kept only for the rows that have it.
 *
 * @module
 */
import type { Stamp } from "./stamp.ts";
import { STATUS_NAMES } from "./_rows.ts";
import type { RowColumns } from "./_row_columns.ts";
import type { AttemptRecord, RequestRecord } from "./request_forest.ts";

/** A version between a request's first and its newest (rare: ends are final). */
interface Middle {
  status: number;
  output: unknown;
  time: number;
  step: number;
  text: string | undefined;
  attempts: readonly AttemptRecord[] | undefined;
}

/**
 * The sparse side of a row's history, next to its {@linkcode RowColumns}:
 * the first version's output once a second version replaced it, stamp
 * texts other than the default ones, the versions between the first and
 * the newest, and the attempts of a retried request. A row the runtime
 * created and ended has none of these.
 */
export class RowVersions {
  // Invariant: row r's first version is (status0, output out0 — or the
  // columns' output while it has one version —, t0, s0, text0) and its
  // newest (status, output, t1, s1, text1); middle keeps the ones in
  // between, oldest first. A missing text is the default one.
  #out0 = new Map<number, unknown>();
  #text0 = new Map<number, string>();
  #text1 = new Map<number, string>();
  #middle = new Map<number, Middle[]>();
  #attempts = new Map<number, readonly AttemptRecord[]>();

  /**
   * Makes `(code, output, time, step)` the newest version of a row, the
   * current newest moving to the history.
   *
   * @param cols The rows' columns.
   * @param row The row.
   * @param code The new status code.
   * @param output The new output.
   * @param time The new version's time.
   * @param step Its step.
   * @param text Its stamp's text when not the default one.
   * @param attempts The attempts of a retried request.
   */
  push(
    cols: RowColumns,
    row: number,
    code: number,
    output: unknown,
    time: number,
    step: number,
    text?: string,
    attempts?: readonly AttemptRecord[],
  ): void {
    const versions = cols.nver[row];
    if (versions === 1) {
      if (cols.output[row] !== undefined) this.#out0.set(row, cols.output[row]);
    } else {
      const middle = this.#middle.get(row) ?? [];
      middle.push({
        status: cols.status[row],
        output: cols.output[row],
        time: cols.t1[row],
        step: cols.s1[row],
        text: this.#text1.get(row),
        attempts: this.#attempts.get(row),
      });
      this.#middle.set(row, middle);
    }
    if (versions < 255) cols.nver[row] = versions + 1;
    cols.status[row] = code;
    cols.output[row] = output;
    cols.t1[row] = time;
    cols.s1[row] = step;
    if (text === undefined) this.#text1.delete(row);
    else this.#text1.set(row, text);
    if (attempts === undefined) this.#attempts.delete(row);
    else this.#attempts.set(row, Object.freeze([...attempts]));
  }

  /**
   * Whether a row has nothing here: its versions are the plain ones.
   *
   * @param row The row.
   * @returns `true` when the columns alone describe it.
   */
  isPlain(row: number): boolean {
    return !(
      (this.#text0.size > 0 && this.#text0.has(row)) ||
      (this.#text1.size > 0 && this.#text1.has(row)) ||
      (this.#out0.size > 0 && this.#out0.has(row)) ||
      (this.#attempts.size > 0 && this.#attempts.has(row))
    );
  }

  /**
   * The text of a row's creation stamp, when not the default one.
   *
   * @param row The row.
   * @returns The text, or `undefined`.
   */
  createdText(row: number): string | undefined {
    return this.#text0.get(row);
  }

  /**
   * Sets the text of a row's creation stamp (not the default one).
   *
   * @param row The row.
   * @param text The text.
   */
  setCreatedText(row: number, text: string): void {
    this.#text0.set(row, text);
  }

  /**
   * Every version of a row, oldest first, as fresh records.
   *
   * @param cols The rows' columns.
   * @param row The row.
   * @param ids The request's id, its caller's and its node's.
   * @param maxStep Only versions stamped at or before this step.
   * @returns The versions, each linked to the one before.
   */
  versionsOf(
    cols: RowColumns,
    row: number,
    ids: { identifier: string; sourceId: string | null; sinkId: string },
    maxStep: number,
  ): RequestRecord[] {
    const { identifier, sourceId, sinkId } = ids;
    const input = cols.input[row];
    const single = cols.nver[row] === 1;
    const make = (
      status: number,
      output: unknown,
      stamp: Stamp,
      parent: RequestRecord | null,
      attempts?: readonly AttemptRecord[],
    ): RequestRecord => {
      const record: RequestRecord = {
        identifier,
        sourceId,
        sinkId,
        input,
        output,
        status: STATUS_NAMES[status],
        stamp: Object.freeze(stamp),
        parent,
      };
      if (attempts !== undefined) (record as { attempts?: unknown }).attempts = attempts;
      return record;
    };
    if (cols.s0[row] > maxStep) return [];
    const first = make(
      single ? cols.status[row] : cols.status0[row],
      single ? cols.output[row] : this.#out0.get(row),
      this.createdStamp(cols, row, identifier),
      null,
    );
    const versions = [first];
    if (single) return versions;
    for (const m of this.#middle.get(row) ?? []) {
      if (m.step > maxStep) return versions;
      const text = m.text ?? `${STATUS_NAMES[m.status]} request ${identifier}`;
      versions.push(
        make(
          m.status,
          m.output,
          { time: m.time, step: m.step, identifier: text },
          versions.at(-1)!,
          m.attempts,
        ),
      );
    }
    if (cols.s1[row] > maxStep) return versions;
    const code = cols.status[row];
    const text = this.#text1.get(row) ?? `${STATUS_NAMES[code]} request ${identifier}`;
    versions.push(
      make(
        code,
        cols.output[row],
        { time: cols.t1[row], step: cols.s1[row], identifier: text },
        versions.at(-1)!,
        this.#attempts.get(row),
      ),
    );
    return versions;
  }

  /**
   * The first stamp (creation) of a row.
   *
   * @param cols The rows' columns.
   * @param row The row.
   * @param identifier The request's id.
   * @returns The stamp.
   */
  createdStamp(cols: RowColumns, row: number, identifier: string): Stamp {
    const text = this.#text0.get(row) ?? `Created request ${identifier}`;
    return { time: cols.t0[row], step: cols.s0[row], identifier: text };
  }
}
