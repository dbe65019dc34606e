/**
 * Growable columns of numbers, for records kept one row per request.
 *
 * @module
 */

/** A typed array that doubles when a row past its end is written. */
export type Column = Float64Array | Int32Array | Uint8Array;

/**
 * A copy of a column with room for `size` rows.
 *
 * @param column The column.
 * @param size The new length (at least the old one).
 * @returns The new column, holding the old values.
 */
export function grown<C extends Column>(column: C, size: number): C {
  const next = new (column.constructor as new (n: number) => C)(size);
  next.set(column);
  return next;
}

/** The status codes a row stores, by name and back. */
export const STATUS_NAMES = ["Open", "Completed", "Failed", "Cancelled"] as const;

/** The status code of each status name. */
export const STATUS_CODES: Readonly<Record<string, number>> = {
  Open: 0,
  Completed: 1,
  Failed: 2,
  Cancelled: 3,
};

/** Stamp kind of a request's creation; its end is `STAMP_CREATED + status code`. */
export const STAMP_CREATED = 1;

/** What a node instance's id adds to the id of the request it serves. */
export const NODE_SUFFIX = ":node";

/**
 * A fresh id prefix: 12 random hex digits and a dash, so that request ids
 * built from it and a row number are unique across runs.
 *
 * @returns The prefix.
 */
export function freshPrefix(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 12) + "-";
}
