/**
 * Kill -9 storm on a fleet: 3 `switchyard worker` processes serve 300 tasks
 * of 100–300 ms while one of them is SIGKILLed (and replaced) every 700 ms.
 * Every task must complete with the right answer: a killed worker's jobs
 * are redelivered (short lock and stall settings) and run again.
 *
 * @module
 */
import { callBatch, node, Runner } from "../mod.ts";
import type { RemoteAttemptRecord } from "../engine.ts";
import { startRedis } from "../tests/helpers/redis.ts";
import { startWorker, type WorkerProcess } from "../tests/helpers/workers.ts";
import { stormTask } from "../tests/fixtures/remote_nodes.ts";

const TASKS = 300;
const KILL_EVERY_MS = 700;
const FIXTURES = new URL("../tests/fixtures/", import.meta.url).pathname;

const storm = node(async function storm(n: number) {
  return await callBatch(
    stormTask,
    Array.from({ length: n }, (_, i) => [i, 100 + (i * 37) % 200]),
  );
}, { name: "storm" });

await using redis = await startRedis();
const spawn = () =>
  startWorker({
    redis: redis.url,
    queue: "remote-storm",
    concurrency: 2,
    fastStall: true,
    args: ["--module", FIXTURES],
  });
const workers: WorkerProcess[] = [await spawn(), await spawn(), await spawn()];
let kills = 0;
let running = true;
const killer = (async () => {
  while (running) {
    await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
    if (!running) break;
    const victim = workers.splice(Math.floor(Math.random() * workers.length), 1)[0];
    await victim.kill();
    kills++;
    workers.push(await spawn());
  }
})();

const started = performance.now();
await using runner = new Runner({ remote: { redis: redis.url }, loggingSetting: "NONE" });
let answers: number[] = [];
try {
  answers = (await runner.run(storm, TASKS)).answer as number[];
} finally {
  running = false;
  await killer;
  for (const worker of workers) await worker.kill();
}
const ms = performance.now() - started;

const info = runner.info;
const tasks = [...info.requestHeap.values()].filter((r) =>
  info.nodeHeap.get(r.sinkId)?.name === "stormTask"
);
const attempts = (r: (typeof tasks)[number]) => (r.attempts ?? []) as RemoteAttemptRecord[];
const redelivered = tasks.filter((r) => attempts(r).length > 1).length;
const lostAttempts = tasks.flatMap(attempts).filter((a) => a?.outcome === "lost").length;
const correct = answers.filter((a, i) => a === i * 2).length;
const lost = TASKS - tasks.filter((r) => r.status === "Completed").length;
console.log(
  `tasks sent ${TASKS}, completed ${
    tasks.filter((r) => r.status === "Completed").length
  }, correct ${correct}, ` +
    `worker processes killed ${kills}, tasks redelivered ${redelivered} (${lostAttempts} attempts lost with their worker), ` +
    `lost ${lost}; ${(ms / 1000).toFixed(1)} s`,
);
if (lost !== 0 || correct !== TASKS) {
  console.error("FAILED: a task was lost or answered wrongly");
  Deno.exit(1);
}
