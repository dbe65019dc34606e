/**
 * A worker checks the runners of its running jobs once per period, one
 * check per runner whatever its number of jobs, and stops every job of a
 * runner found gone. Against a real redis-server, a real worker process
 * and a real runner process killed with SIGKILL.
 */
import assert from "node:assert/strict";
import { startRedis } from "./helpers/redis.ts";
import { startWorker } from "./helpers/workers.ts";
import { ALIVE_REFRESH_MS, RemoteKeys } from "../src/remote/protocol.ts";
import { RunnerWatch } from "../src/remote/_runner_watch.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const FANNING = new URL("./fixtures/fanning_runner.ts", import.meta.url).pathname;
const KEYS = new RemoteKeys("switchyard");
/** Jobs of the one runner in flight at once on the one worker. */
const JOBS = 20;
/** A short time to live for the runner's liveness key, so the killed runner is gone in seconds. */
const TTL_MS = 2_000;

type Redis = InstanceType<typeof import("../src/remote/_bullmq.ts")["Redis"]>;

async function waitFor<T>(probe: () => Promise<T | null>, what: string): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`${what} never happened`);
}

/** How many EXISTS commands the server ran since it started (scripts' included). */
async function existsCalls(redis: Redis): Promise<number> {
  const stats = await redis.info("commandstats");
  return Number(/^cmdstat_exists:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

/** The text of each of the markers `<dir>/0` … `<dir>/<JOBS - 1>`, "" for one not written yet. */
function markers(dir: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: JOBS }, (_, i) => Deno.readTextFile(`${dir}/${i}`).catch(() => "")),
  );
}

Deno.test(
  `remote: ${JOBS} jobs of one live runner cost one liveness check per period, and all stop with RunnerGoneError once the runner is SIGKILLed`,
  async () => {
    await using server = await startRedis();
    await using _worker = await startWorker({
      redis: server.url,
      queue: "remote-test",
      concurrency: JOBS,
      args: ["--module", FIXTURES],
    });
    const { Queue, Redis } = await import("../src/remote/_bullmq.ts");
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    const dir = await Deno.makeTempDir();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-worker-options",
        FANNING,
        server.url,
        dir,
        `${JOBS}`,
        `${TTL_MS}`,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Its output, read to the end; set once it exited.
    let ended: string | null = null;
    const output = child.output().then((o) => ended = new TextDecoder().decode(o.stderr));
    const sent = new Queue("remote-test", { connection: redis, prefix: "switchyard" });
    try {
      await waitFor(async () => {
        if (ended !== null) throw new Error(`The fanning runner exited early:\n${ended}`);
        return (await markers(dir)).every((m) => m === "waiting") ? true : null;
      }, `all ${JOBS} jobs waiting on the worker`);
      const [runnerId] = await redis.zrange(KEYS.runners, 0, -1);

      // A window of at least three periods with every job in flight.
      const before = await existsCalls(redis);
      const start = performance.now();
      const after = await waitFor(async () => {
        const calls = await existsCalls(redis);
        const long = performance.now() - start >= 3 * ALIVE_REFRESH_MS;
        return long && calls - before >= 2 ? calls : null;
      }, "three periods of liveness checks");
      const periods = (performance.now() - start) / ALIVE_REFRESH_MS;
      assert.equal(await redis.exists(KEYS.runnerAlive(runnerId)), 1);
      assert.equal((await markers(dir)).filter((m) => m === "waiting").length, JOBS);
      // One check of the one runner per period (the window's edges may
      // each add one, and BullMQ's scripts run a few EXISTS of their own);
      // a check per job would be JOBS per period.
      const checks = after - before;
      assert.ok(
        checks <= periods + 4,
        `${checks} EXISTS over ${periods.toFixed(1)} periods with ${JOBS} jobs of one runner`,
      );

      child.kill("SIGKILL");
      await output;
      await waitFor(
        async () => (await markers(dir)).every((m) => m === "RunnerGoneError") ? true : null,
        `all ${JOBS} jobs stopped`,
      );
      const failed = await waitFor(async () => {
        const jobs = await sent.getFailed();
        return jobs.length === JOBS ? jobs : null;
      }, `the failure of all ${JOBS} jobs`);
      for (const job of failed) {
        assert.equal(job.name, "waitForAbort");
        // The node's own error, or the pool's when the node took longer
        // than its grace period to end after the stop (a busy machine).
        assert.match(
          job.failedReason,
          new RegExp(`RunnerGoneError: Stopped node 'waitForAbort' as runner ${runnerId} `),
        );
        assert.equal(job.attemptsMade, 1);
      }
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone already.
      }
      await output;
      await sent.close();
      await redis.quit();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("remote: a runner watch stops every job of a runner found gone, at once for a job starting after, only that runner's, and checks only while jobs are watched", async () => {
  await using server = await startRedis();
  const { Redis } = await import("../src/remote/_bullmq.ts");
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  try {
    await redis.set(KEYS.runnerAlive("a"), "1");
    await redis.set(KEYS.runnerAlive("b"), "1");
    const watch = new RunnerWatch(redis, KEYS, 50);
    const stopped: string[] = [];
    for (let i = 0; i < 5; i++) watch.watch("a", () => stopped.push(`a${i}`));
    watch.watch("b", () => stopped.push("b"));
    assert.equal(watch.ticking, true);
    // A job that ended is not stopped.
    watch.watch("a", () => stopped.push("ended"))();
    assert.equal(await watch.isAlive("a"), true);

    await redis.del(KEYS.runnerAlive("a"));
    await waitFor(async () => stopped.length >= 5 ? true : null, "the stop of a's jobs");
    assert.deepEqual(stopped.sort(), ["a0", "a1", "a2", "a3", "a4"]);
    assert.equal(watch.isGone("a"), true);
    assert.equal(watch.isGone("b"), false);
    assert.equal(watch.ticking, true);
    // A job of a runner found gone stops as it starts, before any check.
    let atOnce = false;
    watch.watch("a", () => atOnce = true)();
    assert.equal(atOnce, true);

    // Watched still, b is stopped once its key goes; then nothing is
    // watched and the check stops.
    await redis.del(KEYS.runnerAlive("b"));
    await waitFor(async () => stopped.includes("b") ? true : null, "the stop of b's job");
    assert.equal(stopped.length, 6);
    assert.equal(watch.ticking, false);
    // A job that ends is watched no more: the check stops with the last one.
    const ends = watch.watch("e", () => stopped.push("e"));
    assert.equal(watch.ticking, true);
    ends();
    assert.equal(watch.ticking, false);
    // A runner checked on its own and found gone is remembered as well.
    assert.equal(await watch.isAlive("c"), false);
    assert.equal(watch.isGone("c"), true);
  } finally {
    await redis.quit();
  }
});

Deno.test("remote: a closed runner watch checks nothing more", async () => {
  await using server = await startRedis();
  const { Redis } = await import("../src/remote/_bullmq.ts");
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  try {
    const watch = new RunnerWatch(redis, KEYS, 50);
    let stopped = 0;
    watch.watch("a", () => stopped++);
    assert.equal(watch.ticking, true);
    watch.close();
    assert.equal(watch.ticking, false);
    // Watched after the close, with no liveness key: no check runs and
    // nothing is stopped.
    watch.watch("b", () => stopped++);
    assert.equal(watch.ticking, false);
    assert.equal(stopped, 0);
  } finally {
    await redis.quit();
  }
});
