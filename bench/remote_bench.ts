/**
 * `deno task bench remote`: the remote strategy against raw BullMQ, on one
 * private redis-server, in one run.
 *
 * - tiny tasks, 2 worker processes × concurrency 4 (tasks/s): raw BullMQ
 *   (`Queue.add` of every job, completions counted from `QueueEvents`, bare
 *   `Worker` processes returning `x + 1`) against the same through a
 *   `Runner` with `remote` (a fan-out of tracked `call()`s to `switchyard
 *   worker` processes, which run each job in a Web Worker);
 * - added latency: one job at a time, p50 of each, and the difference;
 * - CPU-bound 16 × 200 ms: two worker processes (concurrency 1) against one.
 *
 * @module
 */
import { Queue, QueueEvents } from "npm:bullmq@^6.7.0";
import { Redis } from "npm:ioredis@^5.4.0";
import { call, callBatch, node, Runner } from "../mod.ts";
import { startRedis } from "../tests/helpers/redis.ts";
import { startWorker, type WorkerProcess } from "../tests/helpers/workers.ts";
import { inc, spin } from "./_remote_nodes.ts";
import { median } from "./_measure.ts";

const TINY = Number(Deno.env.get("REMOTE_BENCH_N") ?? 2000);
const LATENCY_SAMPLES = 300;
const CONCURRENCY = 4;
const BENCH_DIR = new URL(".", import.meta.url).pathname;

const fanOut = node(async function fanOut(n: number) {
  return (await callBatch(inc, Array.from({ length: n }, (_, i) => [i]))).length;
}, { name: "fanOut" });

const oneByOne = node(async function oneByOne(n: number) {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await call(inc, i);
    samples.push(performance.now() - start);
  }
  return samples;
}, { name: "oneByOne" });

const cpuBound = node(async function cpuBound(tasks: number, ms: number) {
  return (await callBatch(spin, Array.from({ length: tasks }, () => [ms]))).length;
}, { name: "cpuBound" });

async function rawWorker(redis: string, queue: string): Promise<WorkerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("_bullmq_raw_worker.ts", import.meta.url).pathname,
      redis,
      queue,
      String(CONCURRENCY),
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("serving queue")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`raw worker ended:\n${text}`);
    text += value;
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const exited = child.status.then(async (s) => (await drained, s.code));
  const stop = async () => {
    child.kill("SIGTERM");
    return await exited;
  };
  return {
    pid: child.pid,
    stderr: () => text,
    exited,
    stop,
    kill: async () => void await stop(),
    [Symbol.asyncDispose]: async () => void await stop(),
  };
}

/** Raw BullMQ: adds `n` jobs at once, resolves when `n` completions were seen. */
async function rawBurst(queue: Queue, events: QueueEvents, n: number, base: number) {
  const { promise, resolve } = Promise.withResolvers<void>();
  let left = n;
  const onDone = () => {
    if (--left === 0) resolve();
  };
  events.on("completed", onDone);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) => queue.add("inc", { x: i }, { jobId: `j${base + i}` })),
  );
  await promise;
  const ms = performance.now() - start;
  events.off("completed", onDone);
  return ms;
}

async function rawLatency(queue: Queue, events: QueueEvents, n: number, base: number) {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const job = await queue.add("inc", { x: i }, { jobId: `l${base + i}` });
    await job.waitUntilFinished(events);
    samples.push(performance.now() - start);
  }
  return samples;
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(9);

/** CPU time (user + system) a process has used, in ms; NaN where /proc is missing. */
function cpuMs(pid: number): number {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** CPU ms used by the producer, the workers (together) and Redis while `fn` runs. */
async function cpuOf(workers: number[], fn: () => Promise<unknown>): Promise<number[]> {
  const pids = [Deno.pid, ...workers, redisPid];
  const before = pids.map(cpuMs);
  await fn();
  const used = pids.map((pid, i) => cpuMs(pid) - before[i]);
  return [used[0], used.slice(1, -1).reduce((a, b) => a + b, 0), used.at(-1)!];
}

await using redis = await startRedis();
const redisPid = Number(
  new TextDecoder().decode(
    (await new Deno.Command("pgrep", { args: ["-f", `redis-server 127.0.0.1:${redis.port}`] })
      .output()).stdout,
  ).trim(),
);
const rows: string[][] = [];
const cpu: Record<string, number[]> = {};

// Raw BullMQ peer.
{
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const eventsConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue("raw-tiny", { connection, prefix: "raw" });
  const events = new QueueEvents("raw-tiny", { connection: eventsConnection, prefix: "raw" });
  await events.waitUntilReady();
  const workers = [await rawWorker(redis.url, "raw-tiny"), await rawWorker(redis.url, "raw-tiny")];
  try {
    await rawBurst(queue, events, 500, 0); // warm-up
    let raw = 0;
    cpu["raw BullMQ"] = await cpuOf(
      workers.map((w) => w.pid),
      async () => raw = await rawBurst(queue, events, TINY, 1_000_000),
    );
    const rawLat = await rawLatency(queue, events, LATENCY_SAMPLES, 0);
    rows.push(["raw BullMQ", String(raw), String(median(rawLat))]);
  } finally {
    for (const w of workers) await w.stop();
    await queue.close();
    await events.close();
    await connection.quit();
    await eventsConnection.quit();
  }
}

// The remote strategy.
{
  const workers = [
    await startWorker({
      redis: redis.url,
      queue: "bench-tiny",
      concurrency: CONCURRENCY,
      args: ["--module", BENCH_DIR],
    }),
    await startWorker({
      redis: redis.url,
      queue: "bench-tiny",
      concurrency: CONCURRENCY,
      args: ["--module", BENCH_DIR],
    }),
  ];
  try {
    await using runner = new Runner({ remote: { redis: redis.url }, loggingSetting: "NONE" });
    await runner.run(fanOut, 500); // warm-up: every Web Worker started
    const start = performance.now();
    cpu["remote strategy"] = await cpuOf(
      workers.map((w) => w.pid),
      () => runner.run(fanOut, TINY),
    );
    const ms = performance.now() - start;
    const info = await runner.run(oneByOne, LATENCY_SAMPLES);
    const samples = (info.answer as unknown[]).at(-1) as number[];
    rows.push(["remote strategy", String(ms), String(median(samples))]);
  } finally {
    for (const w of workers) await w.stop();
  }
}

const [raw, remote] = rows.map(([name, ms, p50]) => ({ name, ms: Number(ms), p50: Number(p50) }));
console.log(`tiny tasks: ${TINY} over 2 worker processes × concurrency ${CONCURRENCY}`);
console.log(
  "| what            |   tasks/s |   p50 ms | CPU µs/task: producer | workers |   redis |",
);
console.log(
  "| --------------- | --------: | -------: | --------------------: | ------: | ------: |",
);
for (const r of [raw, remote]) {
  const [producer, workers, redisCpu] = cpu[r.name].map((ms) => (ms * 1000 / TINY).toFixed(0));
  console.log(
    `| ${r.name.padEnd(15)} | ${fmt(TINY / r.ms * 1000)} | ${fmt(r.p50, 3).slice(1)} | ${
      producer.padStart(21)
    } | ${workers.padStart(7)} | ${redisCpu.padStart(7)} |`,
  );
}
console.log(
  `strategy throughput / raw BullMQ: ${(raw.ms / remote.ms).toFixed(2)}× (target ≥ 0.8×)`,
);
console.log(
  `added p50 latency over raw BullMQ: ${(remote.p50 - raw.p50).toFixed(3)} ms (target ≤ 0.5 ms)`,
);

// CPU-bound: one worker process, then two.
{
  const TASKS = 16;
  const MS = 200;
  const one = await startWorker({
    redis: redis.url,
    queue: "bench-cpu",
    concurrency: 1,
    args: ["--module", BENCH_DIR],
  });
  let two: WorkerProcess | null = null;
  try {
    await using runner = new Runner({ remote: { redis: redis.url }, loggingSetting: "NONE" });
    await runner.run(cpuBound, 2, 1); // warm-up
    let start = performance.now();
    await runner.run(cpuBound, TASKS, MS);
    const single = performance.now() - start;
    two = await startWorker({
      redis: redis.url,
      queue: "bench-cpu",
      concurrency: 1,
      args: ["--module", BENCH_DIR],
    });
    await runner.run(cpuBound, 4, 1); // warm-up of the second
    start = performance.now();
    await runner.run(cpuBound, TASKS, MS);
    const double = performance.now() - start;
    console.log(`\nCPU-bound ${TASKS} × ${MS} ms (concurrency 1 per worker process)`);
    console.log(`| worker processes |       ms |`);
    console.log(`| ---------------- | -------: |`);
    console.log(`| 1                | ${fmt(single)} |`);
    console.log(`| 2                | ${fmt(double)} |`);
    console.log(`speedup of 2 over 1: ${(single / double).toFixed(2)}× (target ≥ 1.8×)`);
  } finally {
    await one.stop();
    await two?.stop();
  }
}
