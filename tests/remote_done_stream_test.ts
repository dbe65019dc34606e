/**
 * Each runner hears only its own outcomes: two runners send jobs to one
 * queue served by one worker process, and each runner's done stream holds
 * the outcomes of its own jobs alone; no runner reads the queue's events
 * stream; a runner whose reading connection is cut mid-run goes on from
 * the last entry it read. Against a real redis-server and a real worker
 * process.
 */
import assert from "node:assert/strict";
import { call, type ExecutionInfo, node, Runner } from "../mod.ts";
import { startRedis } from "./helpers/redis.ts";
import { startWorker } from "./helpers/workers.ts";
import { stormTask, sumOfSquares } from "./fixtures/remote_nodes.ts";
import { RemoteKeys } from "../src/remote/protocol.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const KEYS = new RemoteKeys("switchyard");

/** The request ids (= job ids) of a run's `square` requests. */
function squareIds(info: ExecutionInfo): Set<string> {
  const ids = new Set<string>();
  for (const record of info.requestHeap.values()) {
    if (info.nodeHeap.get(record.sinkId)?.name === "square") ids.add(record.identifier);
  }
  return ids;
}

Deno.test("remote: two runners sharing a queue each get only their own outcomes, on their own done stream", async () => {
  await using server = await startRedis();
  await using _worker = await startWorker({
    redis: server.url,
    queue: "remote-test",
    args: ["--module", FIXTURES],
  });
  const { Redis } = await import("../src/remote/_bullmq.ts");
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  try {
    const a = new Runner({ remote: { redis: server.url }, loggingSetting: "NONE" });
    const b = new Runner({ remote: { redis: server.url }, loggingSetting: "NONE" });
    try {
      // Each connects with one job; then entries anyone with access to
      // Redis could write land in both streams, and are skipped.
      const warm = await Promise.all([a.run(sumOfSquares, 1), b.run(sumOfSquares, 1)]);
      const runners = await redis.zrange(KEYS.runners, 0, -1);
      assert.equal(runners.length, 2);
      for (const runner of runners) {
        for (const junk of ["not json", "null", "7", '{"t":"done","id":"nobody"}']) {
          await redis.xadd(KEYS.doneStream(runner), "*", "m", junk);
        }
      }
      // Both at once, so the worker takes their jobs in turns.
      const [ranA, ranB] = await Promise.all([a.run(sumOfSquares, 30), b.run(sumOfSquares, 40)]);
      const sum = (n: number) => Array.from({ length: n }, (_, i) => i * i).reduce((x, y) => x + y);
      assert.deepEqual([ranA.answer, ranB.answer], [sum(30), sum(40)]);
      const ids = [
        new Set([...squareIds(warm[0]), ...squareIds(ranA)]),
        new Set([...squareIds(warm[1]), ...squareIds(ranB)]),
      ];
      assert.deepEqual(ids.map((s) => s.size), [31, 41]);

      // One done stream per runner, each holding the outcomes of that
      // runner's jobs, all of them and nothing else (fewer entries than
      // one stream node holds, so none was trimmed).
      const heard: Set<string>[] = [];
      for (const runner of runners) {
        const entries = await redis.xrange(KEYS.doneStream(runner), "-", "+");
        const outcomes = entries.filter(([, fields]) => fields[0] === "m" && fields[1][0] === "{")
          .map(([, fields]) => JSON.parse(fields[1]) as { t: string; id: string })
          .filter((o) => o.id !== "nobody");
        assert.ok(outcomes.every((o) => o.t === "done"));
        heard.push(new Set(outcomes.map((o) => o.id)));
        assert.equal(outcomes.length, heard.at(-1)!.size, "each outcome once");
      }
      const [first, second] = heard[0].has([...ids[0]][0]) ? heard : [heard[1], heard[0]];
      assert.deepEqual([...first].sort(), [...ids[0]].sort());
      assert.deepEqual([...second].sort(), [...ids[1]].sort());

      // Nobody reads the queue's events stream: no BullMQ events reader
      // (its connection's name ends in ":qe") is connected.
      const clients = (await redis.client("LIST") as string).trim().split("\n");
      assert.ok(clients.length > 4, "the runners' and the worker's connections are listed");
      assert.deepEqual(clients.filter((line) => /\bname=\S*:qe\b/.test(line)), []);
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
    // Each runner deleted its stream as it shut down.
    const left = await redis.keys(KEYS.doneStream("*"));
    assert.deepEqual(left, []);
  } finally {
    await redis.quit();
  }
});

/** `n` remote tasks of `ms` each, at once; their values. */
const batch = node(async function batch(n: number, ms: number) {
  return await Promise.all(Array.from({ length: n }, (_, i) => call(stormTask, i, ms)));
});

Deno.test("remote: a runner whose done-stream connection is cut mid-run misses no outcome", async () => {
  await using server = await startRedis();
  await using _worker = await startWorker({
    redis: server.url,
    queue: "remote-storm",
    concurrency: 4,
    args: ["--module", FIXTURES],
  });
  const { Redis } = await import("../src/remote/_bullmq.ts");
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  try {
    await using runner = new Runner({ remote: { redis: server.url }, loggingSetting: "NONE" });
    assert.deepEqual((await runner.run(batch, 1, 0)).answer, [0]);
    const [id] = await redis.zrange(KEYS.runners, 0, -1);
    const stream = KEYS.doneStream(id);
    /** The ids of the clients blocked reading a stream: the runner's reader alone. */
    const readers = async () =>
      ((await redis.client("LIST")) as string).split("\n")
        .filter((line) => /\bcmd=xread\b/.test(line))
        .map((line) => line.match(/\bid=(\d+)/)![1]);
    let ended = false;
    const run = runner.run(batch, 80, 20).finally(() => ended = true);
    // Once some outcomes are in (80 tasks of 20 ms on 4 slots take 400 ms
    // or more), the reader's connection is cut.
    for (let i = 0; i < 500 && await redis.xlen(stream) < 1 + 5; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const [before] = await readers();
    assert.ok(before, "the runner reads its done stream");
    assert.equal(await redis.client("KILL", "ID", before), 1);
    assert.equal(ended, false, "the cut came before the run ended");
    // Bounded: an outcome lost would leave the run waiting for ever.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const info = await Promise.race([
      run,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("outcomes were lost")), 60_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.deepEqual(info.answer, Array.from({ length: 80 }, (_, i) => i * 2));
    // It read on a new connection.
    const [after] = await readers();
    assert.ok(after !== undefined && after !== before);
  } finally {
    await redis.quit();
  }
});
