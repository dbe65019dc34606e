/**
 * The core workload of the benches: one node fanning out `n` tracked
 * `call()`s of a no-op node with `Promise.all`.
 *
 * @module
 */
import { call, node } from "../mod.ts";

/** The no-op child every fan-out calls. */
export const child = node(async () => {}, { name: "noop" });

/** Calls {@linkcode child} `n` times at once and waits for all. */
export const fanOut = node(async (n: number) => {
  const calls = new Array(n);
  for (let i = 0; i < n; i++) calls[i] = call(child);
  await Promise.all(calls);
}, { name: "fanOut" });
