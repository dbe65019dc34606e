/**
 * Nodes the remote benchmark sends to `switchyard worker` processes.
 *
 * @module
 */
import { node } from "../mod.ts";

/** A tiny task. */
export const inc = node(function inc(x: number) {
  return x + 1;
}, { worker: import.meta.url, queue: "bench-tiny" });

/** Spins the CPU for `ms`. */
export const spin = node(function spin(ms: number) {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) n++;
  return n;
}, { worker: import.meta.url, queue: "bench-cpu" });
