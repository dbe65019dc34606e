/**
 * Copying request rows into an empty store, as the time machine and
 * sub-forests do: each row with the versions stamped up to a step, its id,
 * caller and node unchanged.
 *
 * @module
 */
import { STATUS_CODES } from "./_rows.ts";
import type { RowColumns } from "./_row_columns.ts";
import type { RowIds } from "./_row_ids.ts";
import type { RowVersions } from "./_row_versions.ts";
import { keptText } from "./_recorded_rows.ts";
import type { RequestRows } from "./request_rows.ts";

/** The parts of a request store a copy reads or writes. */
export interface RowParts {
  /** Its columns. */
  readonly cols: RowColumns;
  /** Its version history. */
  readonly versions: RowVersions;
  /** Its ids. */
  readonly ids: RowIds;
}

/**
 * Copies some rows into an empty store. Only the rows are written: the
 * store counts its open and node rows and lists its top-level ones after.
 *
 * @param source The store copied, read through its own readers.
 * @param from Its parts.
 * @param to The empty store's parts.
 * @param rows The rows, in the order to keep them.
 * @param maxStep The last step to keep.
 */
export function copyRows(
  source: RequestRows,
  from: RowParts,
  to: RowParts,
  rows: Iterable<number>,
  maxStep: number,
): void {
  const moved = new Int32Array(from.cols.count).fill(-1);
  for (const row of rows) {
    const versions = source.versionsOf(row, maxStep);
    if (versions.length === 0 || moved[row] >= 0) continue;
    const into = to.cols.alloc();
    moved[row] = into;
    if (into !== row || from.ids.hasOwnId(row)) to.ids.setId(into, source.idOf(row));
    const parent = from.cols.parent[row];
    const sourceId = source.sourceIdOf(row);
    if (parent >= 0 && moved[parent] >= 0) to.cols.link(into, moved[parent]);
    else {
      if (sourceId !== null) to.ids.setCaller(into, sourceId);
      to.cols.link(into, -1);
    }
    const sinkId = from.ids.ownNodeIdOf(row);
    if (sinkId !== undefined) to.ids.setNodeId(into, sinkId);
    to.cols.input[into] = from.cols.input[row];
    const node = from.cols.nodeOf(row);
    if (node !== undefined) to.cols.setNode(into, node.name, node.nodeType);
    const [first, ...rest] = versions;
    to.cols.status[into] = to.cols.status0[into] = STATUS_CODES[first.status];
    to.cols.output[into] = first.output;
    to.cols.t0[into] = to.cols.t1[into] = first.stamp.time;
    to.cols.s0[into] = to.cols.s1[into] = first.stamp.step;
    const createdText = from.versions.createdText(row);
    if (createdText !== undefined) to.versions.setCreatedText(into, createdText);
    for (const v of rest) {
      to.versions.push(
        to.cols,
        into,
        STATUS_CODES[v.status],
        v.output,
        v.stamp.time,
        v.stamp.step,
        keptText(v.stamp.identifier, v.status, v.identifier),
        v.attempts,
      );
    }
  }
}
