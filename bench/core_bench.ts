/**
 * Tracked call overhead: a fan-out of 100k no-op children through a Runner,
 * next to p-queue dispatching the same no-op functions and a raw
 * `Promise.all`; retained heap per request; the same at 1M requests in one
 * run with its peak RSS; what serializing and saving a 100k-request run
 * cost next to the run itself; run-timeout latency.
 *
 * @module
 */
import PQueue from "p-queue";
import { currentSignal, type ExecutionInfo, node, Runner } from "../mod.ts";
import { median } from "./_measure.ts";
import { fanOut } from "./_fanout.ts";

const N = 100_000;
const ROUNDS = 7;
const gc = (globalThis as { gc?: () => void }).gc;
/** Lets the event loop turn (so V8 drops handles to the last run), then collects. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc?.();
}

const noop = async () => {};

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

async function timed(fn: () => Promise<unknown>): Promise<number> {
  await settle();
  const start = performance.now();
  await fn();
  return performance.now() - start;
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
// The contenders take turns round by round, each after the event loop
// turned and a full GC, so load and leftover garbage hit them alike.
const rawMs: number[] = [], pqMs: number[] = [], trackedMs: number[] = [];
const ratios: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  rawMs.push(await timed(raw));
  pqMs.push(await timed(pQueue));
  trackedMs.push(await timed(tracked));
  ratios.push(pqMs.at(-1)! / trackedMs.at(-1)!);
}

let retained = NaN;
if (gc) {
  await settle();
  await settle();
  const before = Deno.memoryUsage().heapUsed;
  const runner = new Runner({ loggingSetting: "NONE" });
  const info: ExecutionInfo = await runner.run(fanOut, N);
  await settle();
  await settle();
  retained = (Deno.memoryUsage().heapUsed - before) / info.requestHeap.size;
  await runner.shutdown();
}

// Serializing and saving a 100k-request run, next to the run itself.
const plainMs: number[] = [], serializeMs: number[] = [], savedMs: number[] = [];
const stateDir = await Deno.makeTempDir({ prefix: "switchyard-bench-" });
for (let round = 0; round < 3; round++) {
  let info: ExecutionInfo | undefined;
  plainMs.push(
    await timed(async () => {
      await using runner = new Runner({ loggingSetting: "NONE" });
      info = await runner.run(fanOut, N);
    }),
  );
  serializeMs.push(await timed(async () => info!.graphSerialization()));
  info = undefined;
  savedMs.push(
    await timed(async () => {
      await using runner = new Runner({
        loggingSetting: "NONE",
        saveState: true,
        stateDir,
        runIdentifier: `bench-${round}`,
      });
      await runner.run(fanOut, N);
    }),
  );
}
await Deno.remove(stateDir, { recursive: true });

// 1M requests in one run, in a process of its own (its own peak RSS).
const million = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL("./_core_million.ts", import.meta.url).pathname],
  stdout: "piped",
  stderr: "inherit",
}).output();
const big = JSON.parse(new TextDecoder().decode(million.stdout).trim().split("\n").at(-1)!) as {
  smallUs: number;
  largeUs: number;
  peakRssMiB: number;
};

const us = (ms: number) => (ms * 1000 / N).toFixed(2);
const t = median(trackedMs), p = median(pqMs), r = median(rawMs);
console.log(`fan-out of ${N} no-op children, median of ${ROUNDS} alternating rounds`);
console.log("| runner            | median ms | µs per call | time ÷ tracked time |");
console.log("| ----------------- | --------: | ----------: | ------------------: |");
console.log(`| switchyard call() | ${t.toFixed(1)} | ${us(t)} | 1.00× |`);
console.log(`| p-queue add()     | ${p.toFixed(1)} | ${us(p)} | ${(p / t).toFixed(2)}× |`);
console.log(`| raw Promise.all   | ${r.toFixed(1)} | ${us(r)} | ${(r / t).toFixed(2)}× |`);
console.log(
  `p-queue ÷ tracked, per round: ${ratios.map((x) => x.toFixed(2)).join(" ")} (median ${
    median(ratios).toFixed(2)
  }×)`,
);
console.log(
  `retained heap per tracked request: ${
    gc ? `${retained.toFixed(0)} bytes` : "n/a (run with --v8-flags=--expose-gc)"
  }`,
);
const plain = median(plainMs);
console.log(
  `100k-request run ${plain.toFixed(0)} ms; graphSerialization() ${
    median(serializeMs).toFixed(0)
  } ms (${(median(serializeMs) / plain).toFixed(2)}× the run); with saveState ${
    median(savedMs).toFixed(0)
  } ms (${(median(savedMs) / plain).toFixed(2)}× the unsaved run)`,
);
console.log(
  `1M requests in one run: ${big.largeUs.toFixed(2)} µs per call vs ${
    big.smallUs.toFixed(2)
  } at 100k (${(big.largeUs / big.smallUs).toFixed(2)}×), peak RSS ${
    big.peakRssMiB.toFixed(0)
  } MiB`,
);
console.log(
  `run timeout ${limit} ms: rejected after ${Math.max(...latencies).toFixed(1)} ms at worst (${
    (Math.max(...latencies) / limit).toFixed(2)
  }× the limit)`,
);
