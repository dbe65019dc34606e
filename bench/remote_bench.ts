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
 * - CPU-bound 16 × 200 ms: two worker processes (concurrency 1) against one;
 * - shared queue: the same tiny tasks sent by 4 runners (in this process)
 *   to one queue against 1 runner: what Redis sends per task, and the
 *   runners' CPU per task, should not grow with the number of runners.
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

/** Two `switchyard worker` processes serving the tiny-task queue. */
async function tinyFleet(): Promise<WorkerProcess[]> {
  const start = () =>
    startWorker({
      redis: redis.url,
      queue: "bench-tiny",
      concurrency: CONCURRENCY,
      args: ["--module", BENCH_DIR],
    });
  return [await start(), await start()];
}

await using redis = await startRedis();
const redisPid = Number(
  new TextDecoder().decode(
    (await new Deno.Command("pgrep", { args: ["-f", `redis-server 127.0.0.1:${redis.port}`] })
      .output()).stdout,
  ).trim(),
);
const ROUNDS = Number(Deno.env.get("REMOTE_BENCH_ROUNDS") ?? 3);
const cpu: Record<string, number[][]> = { "raw BullMQ": [], "remote strategy": [] };
const ms: Record<string, number[]> = { "raw BullMQ": [], "remote strategy": [] };
const p50: Record<string, number[]> = { "raw BullMQ": [], "remote strategy": [] };

// Both fleets stay up (an idle BullMQ worker waits in a blocking Redis
// call), and rounds alternate, so load from elsewhere falls on both alike.
const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
const eventsConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
const queue = new Queue("raw-tiny", { connection, prefix: "raw" });
const events = new QueueEvents("raw-tiny", { connection: eventsConnection, prefix: "raw" });
await events.waitUntilReady();
const rawWorkers = [await rawWorker(redis.url, "raw-tiny"), await rawWorker(redis.url, "raw-tiny")];
const workers = await tinyFleet();
try {
  await using runner = new Runner({ remote: { redis: redis.url }, loggingSetting: "NONE" });
  await rawBurst(queue, events, 500, 0); // warm-up
  await runner.run(fanOut, 500); // warm-up: every Web Worker started
  for (let round = 0; round < ROUNDS; round++) {
    const base = (round + 1) * 1_000_000;
    let raw = 0;
    cpu["raw BullMQ"].push(
      await cpuOf(rawWorkers.map((w) => w.pid), async () => {
        raw = await rawBurst(queue, events, TINY, base);
      }),
    );
    ms["raw BullMQ"].push(raw);
    p50["raw BullMQ"].push(median(await rawLatency(queue, events, LATENCY_SAMPLES, base)));

    const start = performance.now();
    cpu["remote strategy"].push(
      await cpuOf(workers.map((w) => w.pid), () => runner.run(fanOut, TINY)),
    );
    ms["remote strategy"].push(performance.now() - start);
    const info = await runner.run(oneByOne, LATENCY_SAMPLES);
    p50["remote strategy"].push(median(info.answer as number[]));
  }
} finally {
  for (const w of [...rawWorkers, ...workers]) await w.stop();
  await queue.close();
  await events.close();
  await connection.quit();
  await eventsConnection.quit();
}

console.log(
  `tiny tasks: ${TINY} over 2 worker processes × concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds`,
);
console.log(
  "| round | what            |   tasks/s |   p50 ms | CPU µs/task: producer | workers |   redis |",
);
console.log(
  "| ----: | --------------- | --------: | -------: | --------------------: | ------: | ------: |",
);
const ratios: number[] = [];
const added: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const name of ["raw BullMQ", "remote strategy"]) {
    const [producer, workerCpu, redisCpu] = cpu[name][round].map((v) =>
      (v * 1000 / TINY).toFixed(0)
    );
    console.log(
      `| ${String(round + 1).padStart(5)} | ${name.padEnd(15)} | ${
        fmt(TINY / ms[name][round] * 1000)
      } | ${fmt(p50[name][round], 3).slice(1)} | ${producer.padStart(21)} | ${
        workerCpu.padStart(7)
      } | ${redisCpu.padStart(7)} |`,
    );
  }
  ratios.push(ms["raw BullMQ"][round] / ms["remote strategy"][round]);
  added.push(p50["remote strategy"][round] - p50["raw BullMQ"][round]);
}
console.log(
  `strategy throughput / raw BullMQ: ${ratios.map((r) => r.toFixed(2)).join(", ")}× (median ${
    median(ratios).toFixed(2)
  }×; target ≥ 0.8×)`,
);
console.log(
  `added p50 latency over raw BullMQ: ${added.map((a) => a.toFixed(3)).join(", ")} ms (median ${
    median(added).toFixed(3)
  } ms; target ≤ 0.5 ms)`,
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
    // Warm-up of the second: tasks long enough that both processes take some.
    await runner.run(cpuBound, 4, 50);
    start = performance.now();
    const info = await runner.run(cpuBound, TASKS, MS);
    const double = performance.now() - start;
    // Which process ran each task: an uneven split shows in the wall time.
    const perPid = new Map<number, number>();
    for (const request of info.requestHeap.values()) {
      const attempt = request.attempts?.at(-1) as { pid?: number } | undefined;
      if (attempt?.pid !== undefined) perPid.set(attempt.pid, (perPid.get(attempt.pid) ?? 0) + 1);
    }
    console.log(`\nCPU-bound ${TASKS} × ${MS} ms (concurrency 1 per worker process)`);
    console.log(`| worker processes |       ms |`);
    console.log(`| ---------------- | -------: |`);
    console.log(`| 1                | ${fmt(single)} |`);
    console.log(`| 2                | ${fmt(double)} |`);
    console.log(`tasks per process with 2: ${[...perPid.values()].join(" / ")}`);
    console.log(`speedup of 2 over 1: ${(single / double).toFixed(2)}× (target ≥ 1.8×)`);
  } finally {
    await one.stop();
    await two?.stop();
  }
}

/** What Redis has sent its clients so far, in bytes. */
async function bytesSent(client: Redis): Promise<number> {
  return Number((await client.info("stats")).match(/total_net_output_bytes:(\d+)/)?.[1]);
}

// Shared queue: 1 runner, then 4, each sending its share of the same tasks.
{
  const SHARED_ROUNDS = 2;
  const fleet = await tinyFleet();
  const stats = new Redis(redis.url);
  const rows: { runners: number; perSec: number; cpu: number[]; bytes: number }[] = [];
  try {
    for (let round = 0; round < SHARED_ROUNDS; round++) {
      for (const count of [1, 4]) {
        const runners = Array.from(
          { length: count },
          () => new Runner({ remote: { redis: redis.url }, loggingSetting: "NONE" }),
        );
        try {
          await Promise.all(runners.map((r) => r.run(fanOut, 100))); // warm-up
          const sentBefore = await bytesSent(stats);
          const start = performance.now();
          const used = await cpuOf(
            fleet.map((w) => w.pid),
            () => Promise.all(runners.map((r) => r.run(fanOut, TINY / count))),
          );
          const took = performance.now() - start;
          const bytes = await bytesSent(stats) - sentBefore;
          rows.push({ runners: count, perSec: TINY / took * 1000, cpu: used, bytes });
        } finally {
          for (const r of runners) await r.shutdown();
        }
      }
    }
  } finally {
    for (const w of fleet) await w.stop();
    await stats.quit();
  }
  console.log(`\nshared queue: ${TINY} tiny tasks from 1 runner, then 4, ${SHARED_ROUNDS} rounds`);
  console.log(
    "| runners |   tasks/s | CPU µs/task: runners | workers |   redis | Redis bytes sent/task |",
  );
  console.log(
    "| ------: | --------: | -------------------: | ------: | ------: | --------------------: |",
  );
  for (const { runners, perSec, cpu, bytes } of rows) {
    const [producer, workerCpu, redisCpu] = cpu.map((v) => (v * 1000 / TINY).toFixed(0));
    console.log(
      `| ${String(runners).padStart(7)} | ${fmt(perSec)} | ${producer.padStart(20)} | ${
        workerCpu.padStart(7)
      } | ${redisCpu.padStart(7)} | ${(bytes / TINY).toFixed(0).padStart(21)} |`,
    );
  }
  const per = (count: number, pick: (r: (typeof rows)[number]) => number) =>
    median(rows.filter((r) => r.runners === count).map(pick));
  console.log(
    `4 runners / 1, medians: Redis bytes sent per task ${
      (per(4, (r) => r.bytes) / per(1, (r) => r.bytes)).toFixed(2)
    }×, runners' CPU per task ${(per(4, (r) => r.cpu[0]) / per(1, (r) => r.cpu[0])).toFixed(2)}×`,
  );
}
