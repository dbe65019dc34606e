/**
 * Timings for the states' log lines.
 *
 * @module
 */

/**
 * A time in ms, rounded to the microsecond.
 *
 * @param ms A `performance.now()` value or a difference of two.
 * @returns The rounded value.
 */
export function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
