/**
 * `deno task bench workers`: the worker pool against the raw platform and
 * workerpool (npm), in one run.
 *
 * - tiny tasks over 2 workers (tasks/s): raw pipelined `postMessage` on bare
 *   Deno workers, workerpool, the strategy alone, and full tracked runs;
 * - CPU-bound 16 × 50 ms on all cores: speedup against running them serially;
 * - cold start to first result: a new Runner's first worker node, next to a
 *   bare worker's first echo.
 *
 * @module
 */
import workerpool from "workerpool";
import { callBatch, node, Runner } from "../mod.ts";
import { Task, WorkerExecutionStrategy } from "../engine.ts";
import { best } from "./_measure.ts";

const TINY = 20_000;
const ROUNDS = 5;
const cores = navigator.hardwareConcurrency;

const inc = node(function inc(x: number) {
  return x + 1;
}, { worker: true });

const spin = node(function spin(ms: number) {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) n++;
  return n;
}, { worker: true });

function spinHere(ms: number): number {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) n++;
  return n;
}

const RAW_WORKER = `data:application/javascript,${
  encodeURIComponent(
    "self.onmessage = (e) => self.postMessage(e.data + 1);",
  )
}`;

async function rawPipelined(workers: Worker[], n: number): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  let left = n;
  for (const w of workers) {
    w.onmessage = () => {
      if (--left === 0) resolve();
    };
  }
  for (let i = 0; i < n; i++) workers[i % workers.length].postMessage(i);
  await promise;
}

async function rawColdStart(): Promise<number> {
  const start = performance.now();
  const worker = new Worker(RAW_WORKER, { type: "module" });
  const { promise, resolve } = Promise.withResolvers<void>();
  worker.onmessage = () => resolve();
  worker.postMessage(1);
  await promise;
  const ms = performance.now() - start;
  worker.terminate();
  return ms;
}

async function runnerColdStart(): Promise<number> {
  const start = performance.now();
  await using runner = new Runner({
    workers: { size: 1 },
    loggingSetting: "NONE",
  });
  await runner.run(inc, 1);
  return performance.now() - start;
}

function rate(ms: number, n: number): number {
  return n / (ms / 1000);
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

// Tiny tasks over 2 workers: every contender is warm, and rounds take
// turns, so a busy machine slows them all alike.
const raw = Array.from(
  { length: 2 },
  () => new Worker(RAW_WORKER, { type: "module" }),
);
// workerpool's own choice under Deno: worker_threads (its web mode cannot
// load its module in a Deno Web Worker).
const pool = workerpool.pool(
  new URL("./_workerpool_worker.ts", import.meta.url).pathname,
  { maxWorkers: 2, workerType: "thread" },
);
const strategy = new WorkerExecutionStrategy({ size: 2 });
const fanOut = node(async function fanOut(n: number) {
  const args = Array.from({ length: n }, (_, i) => [i] as [number]);
  return (await callBatch(inc, args)).length;
}, { name: "fanOut" });
const runner = new Runner({ workers: { size: 2 }, loggingSetting: "NONE" });
// The same tracked fan-out to an async node: what tracking alone costs.
const incHere = node((x: number) => x + 1, { name: "incHere" });
const fanOutHere = node(async function fanOutHere(n: number) {
  const args = Array.from({ length: n }, (_, i) => [i] as [number]);
  return (await callBatch(incHere, args)).length;
}, { name: "fanOutHere" });

const contenders: Record<string, (n: number) => Promise<unknown>> = {
  raw: (n) => rawPipelined(raw, n),
  workerpool: (n) => Promise.all(Array.from({ length: n }, (_, i) => pool.exec("inc", [i]))),
  strategy: (n) =>
    Promise.all(
      Array.from(
        { length: n },
        (_, i) => strategy.execute(new Task(String(i), inc, [i])),
      ),
    ),
  tracked: (n) => runner.run(fanOut, n),
  trackedHere: (n) => runner.run(fanOutHere, n),
};
const bestMs: Record<string, number> = {};
for (const [name, run] of Object.entries(contenders)) {
  await run(2_000);
  bestMs[name] = Infinity;
}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(contenders)) {
    const start = performance.now();
    await run(TINY);
    bestMs[name] = Math.min(bestMs[name], performance.now() - start);
  }
}
for (const w of raw) w.terminate();
await pool.terminate();
await strategy.shutdown();
await runner.shutdown();
const rawMs = bestMs.raw;
const poolMs = bestMs.workerpool;
const strategyMs = bestMs.strategy;
const trackedMs = bestMs.tracked;
const hereMs = bestMs.trackedHere;

const rawRate = rate(rawMs, TINY);
console.log(
  `\nTiny tasks (x + 1), ${TINY} per round, 2 workers, best of ${ROUNDS}`,
);
console.table({
  "raw pipelined postMessage": {
    "tasks/s": fmt(rawRate),
    "vs raw": "1.00",
  },
  "workerpool (npm)": {
    "tasks/s": fmt(rate(poolMs, TINY)),
    "vs raw": (rate(poolMs, TINY) / rawRate).toFixed(2),
  },
  "WorkerExecutionStrategy.execute": {
    "tasks/s": fmt(rate(strategyMs, TINY)),
    "vs raw": (rate(strategyMs, TINY) / rawRate).toFixed(2),
    "vs workerpool": (rate(strategyMs, TINY) / rate(poolMs, TINY)).toFixed(1),
  },
  "Runner + call() (tracked)": {
    "tasks/s": fmt(rate(trackedMs, TINY)),
    "vs raw": (rate(trackedMs, TINY) / rawRate).toFixed(2),
    "vs workerpool": (rate(trackedMs, TINY) / rate(poolMs, TINY)).toFixed(1),
  },
  "(same, async node: tracking alone)": {
    "tasks/s": fmt(rate(hereMs, TINY)),
    "vs raw": (rate(hereMs, TINY) / rawRate).toFixed(2),
  },
});

// CPU-bound: 16 × 50 ms.
const serialMs = await best(() => {
  for (let i = 0; i < 16; i++) spinHere(50);
  return Promise.resolve();
});
const cpuMs = await (async () => {
  const burst = node(async function burst() {
    return await callBatch(spin, Array.from({ length: 16 }, () => [50]));
  }, { name: "burst" });
  await using runner = new Runner({
    workers: { size: cores },
    loggingSetting: "NONE",
  });
  await runner.run(burst); // warm: every worker started
  return await best(() => runner.run(burst));
})();
const speedup = serialMs / cpuMs;
console.log(
  `\nCPU-bound 16 × 50 ms, ${cores} workers (warm pool), best of ${ROUNDS}`,
);
console.table({
  "serial, main thread": { ms: serialMs.toFixed(0) },
  "worker pool": {
    ms: cpuMs.toFixed(0),
    speedup: speedup.toFixed(2),
    "vs cores": (speedup / cores).toFixed(2),
  },
});

// Cold start.
let rawCold = Infinity;
let ourCold = Infinity;
for (let i = 0; i < 5; i++) {
  rawCold = Math.min(rawCold, await rawColdStart());
  ourCold = Math.min(ourCold, await runnerColdStart());
}
console.log("\nCold start to first result, best of 5");
console.table({
  "bare Worker, first echo": { ms: rawCold.toFixed(1) },
  "new Runner, first worker node": {
    ms: ourCold.toFixed(1),
    "vs bare": (ourCold / rawCold).toFixed(2),
  },
});
