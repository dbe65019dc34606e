/**
 * `deno task bench process`: what process isolation costs, next to a Web
 * Worker task, in one run.
 *
 * - round trip of one tiny task, warm (sequential, median): a Web Worker
 *   node, a process-isolated node, and a raw `deno` child echoing over a
 *   pipe (the platform floor for a process);
 * - throughput of 2,000 tiny tasks on 2 workers / 2 processes;
 * - cold start to the first result: a new pool's first worker task and
 *   first process task.
 *
 * @module
 */
import { callBatch, node, Runner } from "../mod.ts";
import { median } from "./_measure.ts";

const SEQUENTIAL = 200;
const BATCH = 2_000;

const incWorker = node(function incWorker(x: number) {
  return x + 1;
}, { worker: true });
const incProcess = node(function incProcess(x: number) {
  return x + 1;
}, { worker: true, isolation: "process" });

function fanOut(target: typeof incWorker) {
  return node(async function fanOut(n: number) {
    const args = Array.from({ length: n }, (_, i) => [i] as [number]);
    return (await callBatch(target, args)).length;
  }, { name: `fanOut(${target.name})` });
}

async function roundTrips(runner: Runner, target: typeof incWorker): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const start = performance.now();
    await runner.run(target, i);
    samples.push(performance.now() - start);
  }
  return median(samples);
}

/** A bare child process echoing length-prefixed lines: the platform floor. */
async function rawProcessRoundTrip(): Promise<number> {
  const source =
    `const w = Deno.stdout; for await (const c of Deno.stdin.readable) w.writeSync(c);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `data:application/javascript,${encodeURIComponent(source)}`],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.getReader();
  const samples: number[] = [];
  const byte = new Uint8Array([1]);
  for (let i = 0; i < SEQUENTIAL + 20; i++) {
    const start = performance.now();
    await writer.write(byte);
    await reader.read();
    if (i >= 20) samples.push(performance.now() - start);
  }
  await writer.close();
  reader.releaseLock();
  await child.stdout.cancel();
  await child.status;
  return median(samples);
}

async function coldStart(target: typeof incWorker): Promise<number> {
  const start = performance.now();
  await using runner = new Runner({ workers: { size: 1 }, loggingSetting: "NONE" });
  await runner.run(target, 1);
  return performance.now() - start;
}

const workerCold = await coldStart(incWorker);
const processCold = await coldStart(incProcess);

const runner = new Runner({ workers: { size: 2 }, loggingSetting: "NONE" });
await runner.run(incWorker, 0);
await runner.run(incProcess, 0);
const workerTrip = await roundTrips(runner, incWorker);
const processTrip = await roundTrips(runner, incProcess);
const rawTrip = await rawProcessRoundTrip();

const throughput: Record<string, number> = {};
for (const target of [incWorker, incProcess]) {
  const batch = fanOut(target);
  await runner.run(batch, 200);
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    await runner.run(batch, BATCH);
    best = Math.min(best, performance.now() - start);
  }
  throughput[target.name] = BATCH / (best / 1000);
}
await runner.shutdown();

const ms = (x: number) => `${x.toFixed(2)} ms`;
console.log(`\nOne tiny task, warm, sequential (median of ${SEQUENTIAL} runs, each a tracked run)`);
console.table({
  "Web Worker node": { "round trip": ms(workerTrip), "vs worker": "1.00" },
  'isolation: "process" node': {
    "round trip": ms(processTrip),
    "vs worker": (processTrip / workerTrip).toFixed(2),
  },
  "raw deno child, 1-byte echo": {
    "round trip": ms(rawTrip),
    "vs worker": (rawTrip / workerTrip).toFixed(2),
  },
});
console.log(`\n${BATCH} tiny tasks in one run, pool of 2 (best of 3)`);
console.table({
  "Web Worker node": { "tasks/s": Math.round(throughput.incWorker), "vs worker": "1.00" },
  'isolation: "process" node': {
    "tasks/s": Math.round(throughput.incProcess),
    "vs worker": (throughput.incProcess / throughput.incWorker).toFixed(2),
  },
});
console.log("\nCold start: a new Runner to its first result");
console.table({
  "Web Worker node": { "first result": ms(workerCold), "vs worker": "1.00" },
  'isolation: "process" node': {
    "first result": ms(processCold),
    "vs worker": (processCold / workerCold).toFixed(2),
  },
});
