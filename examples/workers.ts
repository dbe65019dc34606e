/**
 * Worker nodes: a CPU-heavy step runs in the worker pool, sandboxed, and
 * the calls it makes back to the main thread are tracked in the same tree.
 *
 * Run it with `deno task run workers [n]`.
 *
 * @module
 */
import { call, callBatch, node, Runner } from "../mod.ts";

/** Runs on the main thread: a worker node calls it through `call()`. */
export const label = node(
  (n: number, primes: number) => `${primes} primes below ${n}`,
  { name: "label" },
);

/**
 * Counts primes below `n` in a worker with no permissions at all, then asks
 * the main thread to label the result.
 */
export const countPrimes = node(async (n: number): Promise<string> => {
  let count = 0;
  for (let k = 2; k < n; k++) {
    let prime = true;
    for (let d = 2; d * d <= k; d++) {
      if (k % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return await call(label, n, count);
}, { name: "countPrimes", worker: import.meta.url, permissions: "none" });

/** Counts primes below several limits at once, one task per limit. */
export const survey = node(async function survey(limits: number[]) {
  return await callBatch(countPrimes, limits.map((n) => [n] as [number]));
});

/**
 * Runs the survey and prints the answers and the tree of requests.
 *
 * @param args `[n]`: the largest limit (default 200000).
 */
export async function main(args: string[]): Promise<void> {
  const top = Number(args[0] ?? 200_000);
  const limits = [top / 8, top / 4, top / 2, top].map(Math.floor);
  await using runner = new Runner({ loggingSetting: "QUIET" });
  const started = performance.now();
  const info = await runner.run(survey, limits);
  console.log(info.answer);
  console.log(
    `${info.requestHeap.size} requests in ${
      (performance.now() - started).toFixed(0)
    } ms on ${navigator.hardwareConcurrency} workers:`,
  );
  for (const request of info.requestHeap.values()) {
    const name = info.nodeHeap.get(request.sinkId)?.name;
    const depth = request.sourceId === null
      ? 0
      : info.nodeHeap.get(request.sourceId)?.name === "survey"
      ? 1
      : 2;
    console.log(`${"  ".repeat(depth)}${name}: ${request.status}`);
  }
}
