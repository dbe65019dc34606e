/**
 * Timing helpers shared by the benchmarks.
 *
 * @module
 */

/**
 * The fastest of a few rounds.
 *
 * @param fn One round.
 * @param rounds How many rounds (default 5).
 * @returns The best round's time in ms.
 */
export async function best(fn: () => Promise<unknown>, rounds = 5): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await fn();
    min = Math.min(min, performance.now() - start);
  }
  return min;
}

/**
 * The median of some samples.
 *
 * @param values The samples.
 * @returns The middle one (upper middle for an even count).
 */
export function median(values: readonly number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
