/**
 * The order of stamps by their steps, stable and without sorting when it
 * can: what the saved run's step list and the event log's lines both need.
 *
 * @module
 */

/**
 * The order of `count` stamps by step, stable: `null` when they are in
 * order already; a counting sort when steps are dense integers.
 *
 * @param steps The steps.
 * @param count How many of them to order.
 * @returns The indices in step order, or `null` when they are in order.
 *
 * @example
 * ```ts
 * import { stepOrder } from "./step_order.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...stepOrder(Float64Array.of(5, 1, 3, 1), 4)!], [1, 3, 2, 0]);
 * assert.equal(stepOrder(Float64Array.of(1, 2, 2), 3), null);
 * ```
 */
export function stepOrder(steps: Float64Array, count: number): Int32Array | null {
  let min = Infinity, max = -Infinity, sorted = true;
  for (let i = 0; i < count; i++) {
    const step = steps[i];
    if (i > 0 && step < steps[i - 1]) sorted = false;
    if (step < min) min = step;
    if (step > max) max = step;
  }
  if (sorted) return null;
  const range = max - min + 1;
  if (!Number.isInteger(min) || !Number.isInteger(max) || range > 4 * count + 64) {
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => steps[a] - steps[b]);
    return Int32Array.from(order);
  }
  const counts = new Int32Array(range + 1);
  for (let i = 0; i < count; i++) counts[steps[i] - min + 1]++;
  for (let i = 1; i <= range; i++) counts[i] += counts[i - 1];
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[counts[steps[i] - min]++] = i;
  return order;
}
