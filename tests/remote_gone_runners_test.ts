/**
 * What a crashed runner leaves in Redis goes away: its calls queue and
 * done stream are removed by another runner once the crashed one's liveness key has
 * expired, and no live runner's is touched. Against a real redis-server,
 * a real runner process killed with SIGKILL and a real worker process.
 */
import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { Runner } from "../mod.ts";
import { startRedis } from "./helpers/redis.ts";
import { startWorker } from "./helpers/workers.ts";
import { square } from "./fixtures/remote_nodes.ts";
import { RemoteKeys, runnerLiveness } from "../src/remote/protocol.ts";
import { sweepGoneRunners } from "../src/remote/_gone_runners.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const CRASHING = new URL("./fixtures/crashing_runner.ts", import.meta.url).pathname;
const KEYS = new RemoteKeys("switchyard");
/** A short time to live for runners' liveness keys, so a crashed runner is gone in seconds. */
const TTL_MS = 2_000;

type Redis = InstanceType<typeof import("../src/remote/_bullmq.ts")["Redis"]>;

/** Every key matching a pattern, read with SCAN. */
async function scan(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys.sort();
}

async function waitFor<T>(probe: () => Promise<T | null>, what: string): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} never happened`);
}

/** Runs a test with short-lived liveness keys for the runners of this process. */
function withShortLiveness(fn: () => Promise<void>): () => Promise<void> {
  return async () => {
    const saved = { ...runnerLiveness };
    runnerLiveness.ttlMs = TTL_MS;
    runnerLiveness.refreshMs = TTL_MS / 8;
    try {
      await fn();
    } finally {
      Object.assign(runnerLiveness, saved);
    }
  };
}

Deno.test(
  "remote: a runner starting removes the calls queue and done stream of a SIGKILLed runner once its liveness key expired, and not a live runner's",
  withShortLiveness(async () => {
    await using server = await startRedis();
    await using _worker = await startWorker({
      redis: server.url,
      queue: "remote-test",
      args: ["--module", FIXTURES],
    });
    const { Queue, Redis } = await import("../src/remote/_bullmq.ts");
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    const marker = await Deno.makeTempFile();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-worker-options", CRASHING, server.url, marker, `${TTL_MS}`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Its output, read to the end; set once it exited.
    let ended: string | null = null;
    const output = child.output().then((o) => ended = new TextDecoder().decode(o.stderr));
    let calls: InstanceType<typeof Queue> | undefined;
    try {
      // The crashing runner took its remote node's call back to it from its
      // calls queue, and hangs in it when killed.
      await waitFor(async () => {
        if (ended !== null) throw new Error(`The crashing runner exited early:\n${ended}`);
        return (await Deno.readTextFile(marker)) === "hanging" ? true : null;
      }, "the call back to the crashing runner");
      const [dead] = await redis.zrange(KEYS.runners, 0, -1);
      child.kill("SIGKILL");
      await output;
      const deadQueue = `switchyard:${KEYS.callsQueue(dead)}:*`;
      const left = ["active", "meta", "events", "id"].map((s) => deadQueue.replace("*", s));
      left.push(KEYS.doneStream(dead));
      for (const key of left) assert.equal(await redis.exists(key), 1, key);

      // A live runner, with a call planned for an hour from now in its calls queue.
      await using live = new Runner({ remote: { redis: server.url }, loggingSetting: "NONE" });
      assert.equal((await live.run(square, 2)).answer, 4);
      const liveId = (await redis.zrange(KEYS.runners, 0, -1)).find((id) => id !== dead)!;
      calls = new Queue(KEYS.callsQueue(liveId), { connection: redis, prefix: "switchyard" });
      await calls.add("call", { t: "call" }, { jobId: "later", delay: 3_600_000 });
      const liveQueue = `switchyard:${KEYS.callsQueue(liveId)}:*`;
      const planned = ["meta", "delayed", "later"].map((s) => liveQueue.replace("*", s));
      for (const key of planned) assert.equal(await redis.exists(key), 1, key);

      // Gone for good: its liveness key expired, its last refresh is two
      // times to live old, and nothing was removed before that.
      await waitFor(async () => {
        const refreshed = Number(await redis.zscore(KEYS.runners, dead));
        const expired = await redis.exists(KEYS.runnerAlive(dead)) === 0;
        return expired && Date.now() - refreshed > 2 * TTL_MS ? true : null;
      }, "the crashed runner's key expiring");
      for (const key of left) assert.equal(await redis.exists(key), 1, key);

      // Two runners start at once; both sweep.
      await using a = new Runner({ remote: { redis: server.url }, loggingSetting: "NONE" });
      await using b = new Runner({ remote: { redis: server.url }, loggingSetting: "NONE" });
      const [ranA, ranB] = await Promise.all([a.run(square, 3), b.run(square, 4)]);
      assert.deepEqual([ranA.answer, ranB.answer], [9, 16]);
      // Its entry goes last, once its queue is removed.
      await waitFor(
        async () => await redis.zscore(KEYS.runners, dead) === null ? true : null,
        "the removal of the crashed runner's calls queue",
      );
      assert.deepEqual(await scan(redis, deadQueue), []);
      assert.equal(await redis.exists(KEYS.doneStream(dead)), 0);
      // The worker stopped waiting for the gone runner: its job failed as such.
      const sent = new Queue("remote-test", { connection: redis, prefix: "switchyard" });
      try {
        const [failed] = await waitFor(async () => {
          const jobs = await sent.getFailed();
          return jobs.length > 0 ? jobs : null;
        }, "the failure of the crashed runner's job");
        assert.equal(failed.name, "callsBack");
        assert.match(failed.failedReason, new RegExp(`RunnerGoneError: .* runner ${dead}`));
      } finally {
        await sent.close();
      }
      for (const key of planned) assert.equal(await redis.exists(key), 1, key);
      assert.equal(await redis.exists(KEYS.doneStream(liveId)), 1);
      assert.equal(await (await calls.getJob("later"))?.getState(), "delayed");
      assert.equal(await redis.exists(KEYS.runnerAlive(liveId)), 1);
      assert.notEqual(await redis.zscore(KEYS.runners, liveId), null);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone already.
      }
      await output;
      await calls?.close();
      await redis.quit();
      await Deno.remove(marker);
    }
  }),
);

Deno.test("remote: two sweeps at once remove a gone runner's calls queue and done stream once, skip a listed runner whose key lives, and go past a failure", async () => {
  await using server = await startRedis();
  const lib = await import("../src/remote/_bullmq.ts");
  const redis = new lib.Redis(server.url, { maxRetriesPerRequest: null });
  const old = Date.now() - 10 * TTL_MS;
  const queues: { close(): Promise<void> }[] = [];
  try {
    // Each listed as last refreshed long ago, with a call waiting in its calls queue.
    for (const id of ["gone-1", "skewed-live", "broken"]) {
      await redis.zadd(KEYS.runners, old, id);
      const queue = new lib.Queue(KEYS.callsQueue(id), { connection: redis, prefix: "switchyard" });
      queues.push(queue);
      await queue.add("call", { t: "call" });
      await redis.xadd(KEYS.doneStream(id), "*", "open", "1");
    }
    // Its clock is behind, but its liveness key is there: it is alive.
    await redis.set(KEYS.runnerAlive("skewed-live"), "1", "PX", 60_000);
    // A key of the wrong type makes BullMQ's removal of this queue fail.
    await redis.del("switchyard:sy-calls-broken:meta");
    await redis.set("switchyard:sy-calls-broken:meta", "not a hash");
    // A member that is no runner id names no queue: only its entry goes.
    await redis.zadd(KEYS.runners, old, "../x:y");

    const records: LogRecord[] = [];
    configureSync({
      reset: true,
      sinks: { capture: (record) => void records.push(record) },
      loggers: [
        { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
        { category: ["switchyard"], sinks: ["capture"], lowestLevel: "info" },
      ],
    });
    const sweep = (self: string) =>
      sweepGoneRunners({ lib: lib.bullmq, commands: redis, keys: KEYS, self, ttlMs: TTL_MS });
    let results: string[][];
    try {
      results = await Promise.all([sweep("sweeper-a"), sweep("sweeper-b")]);
    } finally {
      resetSync();
    }
    assert.deepEqual(results.flat(), ["gone-1"]);
    // One sweep removed it, the other left it alone; the failure is one warning.
    const lines = records.map((r) => `${r.level} ${r.properties.runner}`).sort();
    assert.deepEqual(lines, ["info gone-1", "warning broken"]);
    assert.deepEqual(await scan(redis, "switchyard:sy-calls-gone-1:*"), []);
    assert.equal(await redis.exists(KEYS.doneStream("gone-1")), 0);
    assert.equal(await redis.exists(KEYS.doneStream("skewed-live")), 1);
    assert.ok((await scan(redis, "switchyard:sy-calls-skewed-live:*")).length > 0);
    assert.ok((await scan(redis, "switchyard:sy-calls-broken:*")).length > 0);
    assert.deepEqual(await redis.zrange(KEYS.runners, 0, -1), ["broken", "skewed-live"]);
  } finally {
    for (const queue of queues) await queue.close();
    await redis.quit();
  }
});
