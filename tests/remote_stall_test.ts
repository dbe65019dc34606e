/**
 * The stalled-queue warning of the remote strategy, against a real
 * redis-server and a real `switchyard worker` process.
 */
import assert from "node:assert/strict";
import { Runner } from "../mod.ts";
import { startRedis } from "./helpers/redis.ts";
import { startWorker, type WorkerProcess } from "./helpers/workers.ts";
import { square } from "./fixtures/remote_nodes.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const STALLED =
  /Queue 'remote-test' has had \d+ job\(s\) of node square waiting for \d+ ms and no worker/;

async function waitForLine(path: string, pattern: RegExp): Promise<string> {
  // Polls the runner's log file, bounded: the test waits on the runner's action.
  for (let i = 0; i < 600; i++) {
    const text = await Deno.readTextFile(path).catch(() => "");
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} never showed ${pattern}`);
}

Deno.test("remote: a queue no worker serves is named in one warning, and the run goes on once a worker comes", async () => {
  const redis = await startRedis();
  const logFile = await Deno.makeTempFile({ suffix: ".log" });
  const workers: WorkerProcess[] = [];
  try {
    await using runner = new Runner({
      remote: { redis: redis.url, stalledWarning: 100 },
      logFile,
      loggingSetting: "REGULAR",
    });
    const run = runner.run(square, 3);
    run.catch(() => {}); // awaited below; a failed assertion before must not leave it unhandled
    const text = await waitForLine(logFile, STALLED);
    assert.match(text, /has had 1 job\(s\) of node square/);
    assert.match(
      text,
      /`switchyard worker --queue remote-test` running on this Redis with prefix 'switchyard'\?/,
    );
    workers.push(
      await startWorker({ redis: redis.url, queue: "remote-test", args: ["--module", FIXTURES] }),
    );
    assert.equal((await run).answer, 9);
    const lines = (await Deno.readTextFile(logFile)).split("\n");
    assert.equal(lines.filter((line) => STALLED.test(line)).length, 1);
  } finally {
    for (const worker of workers) await worker.kill();
    await redis.stop();
    await Deno.remove(logFile);
  }
});

Deno.test("remote: a negative stalledWarning is refused when the runner is made", () => {
  assert.throws(
    () =>
      new Runner({
        remote: { redis: "redis://127.0.0.1:6379", stalledWarning: -1 },
        loggingSetting: "NONE",
      }),
    (error: unknown) =>
      error instanceof TypeError && /'remote\.stalledWarning'/.test(error.message) &&
      /-1/.test(error.message),
  );
});
