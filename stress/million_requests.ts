/**
 * One run with 1,000,000 tracked requests, mixed depth and width: reports
 * wall time, peak RSS and retained bytes per request.
 *
 * @module
 */
import { call, node, Runner } from "../mod.ts";

const TOTAL = Number(Deno.env.get("REQUESTS") ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;

// A node with `budget` requests below it spreads them over up to 10
// children, so the tree is 5-7 levels deep and wide at every level.
const spread: ReturnType<typeof node<[number], number>> = node(async (budget: number) => {
  if (budget <= 1) return 1;
  const width = Math.min(10, budget - 1);
  const share = Math.floor((budget - 1) / width);
  let rest = budget - 1 - share * width;
  const parts = Array.from({ length: width }, () => share + (rest-- > 0 ? 1 : 0));
  const counts = await Promise.all(parts.map((part) => call(spread, part)));
  return 1 + counts.reduce((a, b) => a + b, 0);
}, { name: "spread" });

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
}, 20);
gc?.();
const heapBefore = Deno.memoryUsage().heapUsed;
const start = performance.now();
const runner = new Runner({ loggingSetting: "NONE" });
const info = await runner.run(spread, TOTAL);
const wall = performance.now() - start;
gc?.();
const heapAfter = Deno.memoryUsage().heapUsed;
peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
clearInterval(sampler);
const requests = info.requestHeap.size;
if (info.answer !== TOTAL || requests !== TOTAL) {
  throw new Error(`Expected ${TOTAL} requests, got answer ${info.answer} and ${requests} records`);
}
const depth = (() => {
  let max = 0;
  const bySink = new Map([...info.requestHeap.values()].map((r) => [r.sinkId, r]));
  for (const request of info.requestHeap.values()) {
    let d = 0;
    for (let r = request; r.sourceId !== null; r = bySink.get(r.sourceId)!) d++;
    if (d > max) max = d;
  }
  return max;
})();
await runner.shutdown();
console.log(`| tracked requests | ${requests.toLocaleString("en")} (depth ${depth}) |`);
console.log(
  `| wall time        | ${(wall / 1000).toFixed(2)} s (${
    (wall * 1000 / requests).toFixed(2)
  } µs per request) |`,
);
console.log(`| peak RSS         | ${(peakRss / 2 ** 20).toFixed(0)} MiB |`);
console.log(
  `| retained heap    | ${
    gc
      ? `${((heapAfter - heapBefore) / requests).toFixed(0)} bytes per request`
      : "n/a (needs --expose-gc)"
  } |`,
);
