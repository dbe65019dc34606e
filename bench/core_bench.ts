/**
 * Tracked call overhead: a fan-out of 100k no-op children through a Runner,
 * next to p-queue dispatching the same no-op functions and a raw
 * `Promise.all`, plus retained heap per request and run-timeout latency.
 *
 * @module
 */
import PQueue from "p-queue";
import { call, currentSignal, node, Runner } from "../mod.ts";
import { best } from "./_measure.ts";

const N = 100_000;
const ROUNDS = 5;
const gc = (globalThis as { gc?: () => void }).gc;

const noop = async () => {};
const child = node(noop, { name: "noop" });
const fanOut = node(async (n: number) => {
  const calls = new Array(n);
  for (let i = 0; i < n; i++) calls[i] = call(child);
  await Promise.all(calls);
}, { name: "fanOut" });

async function tracked(): Promise<void> {
  await using runner = new Runner({ loggingSetting: "NONE" });
  await runner.run(fanOut, N);
}

async function pQueue(): Promise<void> {
  const queue = new PQueue({ concurrency: Infinity });
  const tasks = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = queue.add(noop);
  await Promise.all(tasks);
}

async function raw(): Promise<void> {
  const tasks = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = noop();
  await Promise.all(tasks);
}

const limit = 50;
const latencies: number[] = [];
// Measured first, before the big runs leave garbage for the GC.
for (let i = 0; i < 5; i++) {
  const stuck = node(() =>
    new Promise<never>((_, reject) => {
      currentSignal().addEventListener("abort", () => reject(new Error("aborted")));
    }), { name: "stuck" });
  await using runner = new Runner({ loggingSetting: "NONE", timeout: limit });
  const start = performance.now();
  await runner.run(stuck).catch(() => {});
  latencies.push(performance.now() - start);
}

await tracked(); // warm up
await pQueue();
// The contenders take turns round by round, each after a full GC, so load
// and leftover garbage hit them alike; each keeps its best round.
let rawMs = Infinity, pqMs = Infinity, trackedMs = Infinity;
for (let round = 0; round < ROUNDS; round++) {
  gc?.();
  rawMs = Math.min(rawMs, await best(raw, 1));
  gc?.();
  pqMs = Math.min(pqMs, await best(pQueue, 1));
  gc?.();
  trackedMs = Math.min(trackedMs, await best(tracked, 1));
}

let retained = NaN;
if (gc) {
  gc();
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const runner = new Runner({ loggingSetting: "NONE" });
  await runner.run(fanOut, N);
  gc();
  gc();
  retained = (Deno.memoryUsage().heapUsed - before) /
    runner.info.requestHeap.size;
  await runner.shutdown();
}

const us = (ms: number) => (ms * 1000 / N).toFixed(2);
console.log(`fan-out of ${N} no-op children, best of ${ROUNDS}`);
console.log("| runner            | total ms | µs per call | time ÷ tracked time |");
console.log("| ----------------- | -------- | ----------- | ------------------- |");
console.log(
  `| switchyard call() | ${trackedMs.toFixed(1)} | ${us(trackedMs)} | 1.00× |`,
);
console.log(
  `| p-queue add()     | ${pqMs.toFixed(1)} | ${us(pqMs)} | ${(pqMs / trackedMs).toFixed(2)}× |`,
);
console.log(
  `| raw Promise.all   | ${rawMs.toFixed(1)} | ${us(rawMs)} | ${(rawMs / trackedMs).toFixed(2)}× |`,
);
console.log(
  `retained heap per tracked request: ${
    gc ? `${retained.toFixed(0)} bytes` : "n/a (run with --v8-flags=--expose-gc)"
  }`,
);
console.log(
  `run timeout ${limit} ms: rejected after ${Math.max(...latencies).toFixed(1)} ms at worst (${
    (Math.max(...latencies) / limit).toFixed(2)
  }× the limit)`,
);
