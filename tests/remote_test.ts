/**
 * Remote execution against a real redis-server and real `switchyard worker`
 * processes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type DenoOutput, runDeno } from "./helpers/deno.ts";
import {
  type ExecutionInfo,
  GlobalTimeoutError,
  node,
  NodeTimeoutError,
  type RequestRecord,
  Runner,
} from "../mod.ts";
import { encodeValue, type RemoteAttemptRecord } from "../engine.ts";
import { startRedis } from "./helpers/redis.ts";
import { remoteTotal } from "../src/execution/load_gauges.ts";
import { loadRun } from "../persistence.ts";
import { formatRunTree } from "../src/cli/main.ts";
import { startWorker, type WorkerProcess } from "./helpers/workers.ts";
import {
  echo,
  fails,
  flaky,
  nested,
  slow,
  square,
  sumOfSquares,
  timesOut,
  waitForAbort,
} from "./fixtures/remote_nodes.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const QUEUE = "remote-test";

function nameOf(info: ExecutionInfo, record: RequestRecord): string | undefined {
  return info.nodeHeap.get(record.sinkId)?.name;
}

function requestsNamed(info: ExecutionInfo, name: string | RegExp): RequestRecord[] {
  return [...info.requestHeap.values()].filter((r) => {
    const n = nameOf(info, r) ?? "";
    return typeof name === "string" ? n === name : name.test(n);
  });
}

function attemptsOf(_info: ExecutionInfo, request: RequestRecord): RemoteAttemptRecord[] {
  return (request.attempts ?? []) as RemoteAttemptRecord[];
}

async function fleet(count: number, extra: string[] = [], fastStall = false) {
  const redis = await startRedis();
  const workers: WorkerProcess[] = [];
  for (let i = 0; i < count; i++) {
    workers.push(
      await startWorker({
        redis: redis.url,
        queue: QUEUE,
        args: ["--module", FIXTURES, ...extra],
        fastStall,
      }),
    );
  }
  return {
    redis,
    workers,
    async [Symbol.asyncDispose]() {
      for (const worker of workers) await worker.kill();
      await redis.stop();
    },
  };
}

/**
 * Runs one job so the worker's Web Worker has started: a worker's first
 * job waits for its Web Worker to load the node's module, and a stop sent
 * in that window is not seen by the node's signal.
 */
async function warmUp(runner: Runner): Promise<void> {
  await runner.run(square, 1);
}

async function waitForFile(path: string, pattern = /./): Promise<string> {
  // Polls a file the worker writes: the test waits on the worker's action.
  for (let i = 0; i < 600; i++) {
    try {
      const text = await Deno.readTextFile(path);
      if (pattern.test(text)) return text;
    } catch {
      // Not yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${path} was never written`);
}

Deno.test("remote: 200 tasks over 2 worker processes all complete with correct answers", async () => {
  await using f = await fleet(2);
  await using runner = new Runner({ remote: { redis: f.redis.url }, loggingSetting: "NONE" });
  const info = await runner.run(sumOfSquares, 200);
  let expected = 0;
  for (let i = 0; i < 200; i++) expected += i * i;
  assert.equal(info.answer, expected);
  const squares = requestsNamed(info, "square");
  assert.equal(squares.length, 200);
  assert.ok(squares.every((r) => r.status === "Completed"));
  assert.deepEqual(
    squares.map((r) => r.output).sort((a, b) => (a as number) - (b as number)),
    Array.from({ length: 200 }, (_, i) => i * i),
  );
  const pids = new Set(squares.flatMap((r) => attemptsOf(info, r).map((a) => a.pid)));
  assert.deepEqual([...pids].sort(), f.workers.map((w) => w.pid).sort());
});

Deno.test("remote: a worker SIGKILLed mid-task loses nothing: the job is redelivered as attempt 2", async () => {
  await using f = await fleet(2, [], true);
  const marker = await Deno.makeTempFile();
  try {
    await using runner = new Runner({ remote: { redis: f.redis.url }, loggingSetting: "NONE" });
    const run = runner.run(slow, 1500, marker);
    const started = await waitForFile(marker);
    const pid = Number(/started (\d+)/.exec(started)![1]);
    const victim = f.workers.find((w) => w.pid === pid)!;
    assert.ok(victim, `no worker with pid ${pid}`);
    await victim.kill();
    const info = await run;
    const [request] = requestsNamed(info, "slow");
    assert.equal(request.status, "Completed");
    const survivor = f.workers.find((w) => w !== victim)!;
    assert.deepEqual(request.output, { attempt: 2, pid: survivor.pid });
    const attempts = attemptsOf(info, request);
    assert.deepEqual(attempts.map((a) => [a.attempt, a.pid, a.outcome]), [
      [1, pid, "lost"],
      [2, survivor.pid, "completed"],
    ]);
  } finally {
    await Deno.remove(marker);
  }
});

Deno.test("remote: nested calls are tracked on the runner under the remote node", async () => {
  await using f = await fleet(1);
  let info: ExecutionInfo;
  {
    await using runner = new Runner({ remote: { redis: f.redis.url }, loggingSetting: "NONE" });
    info = await runner.run(nested, 3);
  }
  // The calls went through the runner's calls queue, which left nothing behind.
  const { Redis } = await import("../src/remote/_bullmq.ts");
  const redis = new Redis(f.redis.url);
  try {
    assert.deepEqual(await redis.keys("switchyard:sy-calls-*"), []);
    // Nor is it listed among the runners, nor alive.
    assert.deepEqual(await redis.zrange("switchyard:sy:runners", 0, -1), []);
    assert.deepEqual(await redis.keys("switchyard:sy:alive:*"), []);
  } finally {
    redis.disconnect();
  }
  assert.equal(info.answer, 37);
  const [outer] = requestsNamed(info, "nested");
  const children = info.requestHeap.children(outer.sinkId);
  assert.deepEqual(children.map((r) => [nameOf(info, r), r.status, r.output]), [
    ["double", "Completed", 6],
    ["square", "Completed", 36],
  ]);
  // The inner remote call ran on a worker too: it has its attempt record.
  const inner = children[1];
  assert.equal(attemptsOf(info, inner).length, 1);
  assert.equal(attemptsOf(info, inner)[0].pid, f.workers[0].pid);
});

Deno.test("remote: the remote gauges count a job waiting for a worker, then none once it ran", async () => {
  const redis = await startRedis();
  const workers: WorkerProcess[] = [];
  try {
    await using runner = new Runner({ remote: { redis: redis.url }, loggingSetting: "NONE" });
    const open = () => remoteTotal((r) => r.openCount);
    const waiting = () => remoteTotal((r) => r.waitingCount);
    assert.equal(open(), 0);
    const run = runner.run(square, 3);
    // No worker serves the queue yet: the job is sent and waits.
    for (let i = 0; i < 600 && open() === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(open(), 1);
    assert.equal(waiting(), 1);
    workers.push(
      await startWorker({ redis: redis.url, queue: QUEUE, args: ["--module", FIXTURES] }),
    );
    assert.equal((await run).answer, 9);
    assert.equal(open(), 0);
    assert.equal(waiting(), 0);
  } finally {
    for (const worker of workers) await worker.kill();
    await redis.stop();
  }
});

Deno.test("remote: cancellation reaches the remote node's currentSignal", async () => {
  await using f = await fleet(1);
  const marker = await Deno.makeTempFile();
  try {
    await using runner = new Runner({ remote: { redis: f.redis.url }, loggingSetting: "NONE" });
    await warmUp(runner);
    const run = runner.run(waitForAbort, marker);
    // Cancelled once the node runs on the worker.
    await waitForFile(marker, /^waiting$/);
    const [request] = requestsNamed(runner.info, "waitForAbort");
    runner.rtState.cancel(request.identifier, new Error("no longer needed"));
    await assert.rejects(run, { name: "RequestCancelledError" });
    assert.equal(await waitForFile(marker, /^(?!waiting$)./), "Error");
  } finally {
    await Deno.remove(marker);
  }
});

Deno.test("remote: a node timeout and a run timeout reach remote code", async () => {
  await using f = await fleet(1);
  const nodeMarker = await Deno.makeTempFile();
  const runMarker = await Deno.makeTempFile();
  try {
    await using runner = new Runner({ remote: { redis: f.redis.url }, loggingSetting: "NONE" });
    await warmUp(runner);
    await assert.rejects(runner.run(timesOut, nodeMarker), NodeTimeoutError);
    assert.equal(await waitForFile(nodeMarker), "NodeTimeoutError");

    await using timed = new Runner({
      remote: { redis: f.redis.url },
      timeout: 500,
      loggingSetting: "NONE",
    });
    await assert.rejects(timed.run(waitForAbort, runMarker), GlobalTimeoutError);
    assert.equal(await waitForFile(runMarker, /^(?!waiting$)./), "GlobalTimeoutError");
  } finally {
    await Deno.remove(nodeMarker);
    await Deno.remove(runMarker);
  }
});

Deno.test("remote: structured values round-trip through Redis", async () => {
  await using f = await fleet(1);
  await using runner = new Runner({ remote: { redis: f.redis.url }, loggingSetting: "NONE" });
  const value = {
    bytes: new Uint8Array([0, 1, 254, 255]),
    map: new Map<unknown, unknown>([["a", new Set([1, 2])], [3, new Date(86_400_000)]]),
    big: 2n ** 70n,
    missing: undefined,
    nested: [null, -0, NaN, Infinity],
    error: new RangeError("kept", { cause: "why" }),
  };
  const info = await runner.run(echo, value);
  const back = info.answer as typeof value;
  assert.deepEqual(back.bytes, value.bytes);
  assert.deepEqual(back.map, value.map);
  assert.equal(back.big, value.big);
  assert.ok("missing" in back && back.missing === undefined);
  assert.deepEqual(back.nested, value.nested);
  assert.equal(back.error.name, "RangeError");
  assert.equal(back.error.message, "kept");
  assert.equal(back.error.cause, "why");
});

Deno.test("remote: a failure keeps its name, stack and cause", async () => {
  await using f = await fleet(1);
  await using runner = new Runner({ remote: { redis: f.redis.url }, loggingSetting: "NONE" });
  const error = await runner.run(fails, "x").then(() => null, (e) => e);
  assert.ok(error instanceof Error);
  assert.equal(error.name, "RangeError");
  assert.equal(error.message, "bad input: x");
  assert.match(error.stack!, /remote_nodes\.ts/);
  const cause = error.cause as Error;
  assert.equal(cause.name, "TypeError");
  assert.equal(cause.message, "root cause");
  const [request] = requestsNamed(runner.info, "fails");
  assert.equal(request.status, "Failed");
  const [attempt] = attemptsOf(runner.info, request);
  assert.equal((attempt.error as Error).name, "RangeError");
  assert.equal((attempt.error as Error).message, "bad input: x");
  assert.equal(attempt.outcome, "failed");
  assert.equal(attempt.status, "Failed");
});

Deno.test("remote: retries become attempts, each recorded and shown by inspect, and the node reads its attempt", async () => {
  await using f = await fleet(1);
  const dir = await Deno.makeTempDir();
  try {
    {
      await using runner = new Runner({
        remote: { redis: f.redis.url, backoff: 10 },
        loggingSetting: "NONE",
        saveState: true,
        stateDir: dir,
        runIdentifier: "flaky-run",
      });
      const info = await runner.run(flaky);
      assert.equal(info.answer, 2);
      const [request] = requestsNamed(info, "flaky");
      assert.deepEqual(
        attemptsOf(info, request).map((a) => [
          a.attempt,
          a.outcome,
          (a.error as Error | undefined)?.message,
          a.pid,
        ]),
        [
          [1, "failed", "attempt 1 fails", f.workers[0].pid],
          [2, "completed", undefined, f.workers[0].pid],
        ],
      );
    }
    const tree = formatRunTree(await loadRun(dir, "flaky-run"), { color: false });
    const pid = f.workers[0].pid;
    assert.match(tree, new RegExp(`attempt 1 ✗ .* on [^ ]+/${pid}  Error: attempt 1 fails`));
    assert.match(tree, new RegExp(`attempt 2 ✓ .* on [^ ]+/${pid}`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("remote: without 'remote' in the config a node with a queue runs in the local pool", async () => {
  await using runner = new Runner({ workers: { size: 1 }, loggingSetting: "NONE" });
  const info = await runner.run(sumOfSquares, 3);
  assert.equal(info.answer, 5);
  assert.equal(runner.coordinator.systemDetail().modes.includes("remote"), true);
  // Recorded as what really ran it: the local pool, not a worker process.
  const squares = requestsNamed(info, "square");
  assert.equal(squares.length, 3);
  assert.ok(squares.every((r) => info.nodeHeap.get(r.sinkId)?.nodeType === "worker"));
  assert.ok(squares.every((r) => r.attempts === undefined));
});

Deno.test("remote: an unreachable Redis fails the run with a clear error, fast", async () => {
  const port = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  await using runner = new Runner({
    remote: { redis: `redis://127.0.0.1:${port}` },
    loggingSetting: "NONE",
  });
  await assert.rejects(runner.run(square, 2), (error: Error) => {
    assert.equal(error.name, "RemoteUnavailableError");
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*cannot be reached`));
    return true;
  });
});

Deno.test("remote: a Redis that refuses the URL's password fails the run and the worker saying so", async () => {
  await using redis = await startRedis();
  const { Redis } = await import("../src/remote/_bullmq.ts");
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  await admin.config("SET", "requirepass", "right-secret");
  admin.disconnect();
  const wrong = redis.url.replace("redis://", "redis://:wrong-secret@");
  await using runner = new Runner({ remote: { redis: wrong }, loggingSetting: "NONE" });
  await assert.rejects(runner.run(square, 2), (error: Error) => {
    assert.equal(error.name, "RemoteUnavailableError");
    assert.match(error.message, /refused the URL's credentials \(WRONGPASS/);
    assert.doesNotMatch(error.message, /wrong-secret/);
    return true;
  });
  const { code, stderr } = await workerCommand(["--redis", wrong, "--queue", QUEUE]);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /refused the URL's credentials/);
  assert.doesNotMatch(stderr, /wrong-secret/);
});

Deno.test("remote: an argument that cannot be encoded fails the call naming it", async () => {
  await using runner = new Runner({
    remote: { redis: "redis://127.0.0.1:1" },
    loggingSetting: "NONE",
  });
  await assert.rejects(
    runner.run(echo, { fine: 1, handler: () => 1 }),
    /Cannot send node 'echo' to queue 'remote-test' as argument 0 \(at \.handler\) cannot be encoded/,
  );
});

Deno.test("remote: a job for a module the worker does not allow fails without importing it", async () => {
  await using redis = await startRedis();
  // It serves only an empty folder of its own.
  const elsewhere = await Deno.makeTempDir({ prefix: "switchyard-elsewhere-" });
  await using _cleanup = {
    [Symbol.asyncDispose]: () => Deno.remove(elsewhere, { recursive: true }),
  };
  await using _strict = await startWorker({
    redis: redis.url,
    queue: "strict",
    args: ["--module", `${elsewhere}/`],
  });
  await using runner = new Runner({ remote: { redis: redis.url }, loggingSetting: "NONE" });
  await assert.rejects(
    runner.run(guarded),
    /Cannot run node 'guarded' as module file:.*remote_test\.ts is not allowed on this worker/,
  );
  // A node its module does not export cannot be found by a worker: refused on the runner.
  await assert.rejects(runner.run(unexported), /module file:.*remote_test\.ts does not export it/);
});

Deno.test("remote: a job naming an unknown export fails naming module and export", async () => {
  await using f = await fleet(1);
  const { Queue, Redis } = await import("../src/remote/_bullmq.ts");
  const connection = new Redis(f.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE, { connection, prefix: "switchyard" });
  try {
    await connection.set("switchyard:sy:alive:test-runner", "1");
    const module = new URL("./fixtures/remote_nodes.ts", import.meta.url).href;
    const job = await queue.add("ghost", {
      v: 1,
      module,
      export: "ghost",
      name: "ghost",
      args: "[[]]",
      requestId: "r-ghost",
      parentId: null,
      runnerId: "test-runner",
      attempt: 1,
      deadline: null,
      trace: null,
    }, { jobId: "r-ghost", attempts: 3 });
    const failed = await waitForAsync(async () => {
      const state = await job.getState();
      return state === "failed" ? await queue.getJob("r-ghost") : null;
    });
    assert.match(
      failed!.failedReason,
      new RegExp(`export 'ghost' of module ${module.replace(/[.]/g, "\\.")} as it is not a node`),
    );
    // Not retried: loading would fail again.
    assert.equal(failed!.attemptsMade, 1);
  } finally {
    await queue.close();
    await connection.quit();
  }
});

Deno.test("remote: a worker stops a job whose runner is gone", async () => {
  await using f = await fleet(1);
  const marker = await Deno.makeTempFile();
  const { Queue, Redis } = await import("../src/remote/_bullmq.ts");
  const connection = new Redis(f.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE, { connection, prefix: "switchyard" });
  try {
    {
      await using runner = new Runner({ remote: { redis: f.redis.url }, loggingSetting: "NONE" });
      await warmUp(runner);
    }
    const alive = "switchyard:sy:alive:gone-runner";
    await connection.set(alive, "1");
    const job = await queue.add("waitForAbort", {
      v: 1,
      module: new URL("./fixtures/remote_nodes.ts", import.meta.url).href,
      export: "waitForAbort",
      name: "waitForAbort",
      args: encodeValue([marker]),
      requestId: "r-gone",
      parentId: null,
      runnerId: "gone-runner",
      attempt: 1,
      deadline: null,
      trace: null,
    }, { jobId: "r-gone", attempts: 3 });
    await waitForAsync(async () => (await job.getState()) === "active" ? true : null);
    await connection.del(alive);
    assert.equal(await waitForFile(marker, /^(?!waiting$)./), "RunnerGoneError");
    const failed = await waitForAsync(async () =>
      (await job.getState()) === "failed" ? await queue.getJob("r-gone") : null
    );
    assert.match(
      failed!.failedReason,
      /RunnerGoneError: Stopped node 'waitForAbort' as runner gone-runner/,
    );
    assert.equal(failed!.attemptsMade, 1);
  } finally {
    await queue.close();
    await connection.quit();
    await Deno.remove(marker);
  }
});

/** Exported, but no worker allows this module. */
export const guarded = node(async function guarded() {
  return 1;
}, { worker: import.meta.url, queue: "strict" });

const unexported = node(async function unexported() {
  return 1;
}, { worker: import.meta.url, queue: "strict" });

/** Runs `switchyard worker` with these arguments to its end: exit code and stderr. */
function workerCommand(args: string[]): Promise<DenoOutput> {
  return runDeno([
    "run",
    "-A",
    new URL("../src/cli/main.ts", import.meta.url).pathname,
    "worker",
    ...args,
  ]);
}

Deno.test("remote: the worker command exits 2 on a bad queue name or URL", async () => {
  for (
    const args of [["--redis", "http://x", "--queue", "q"], [
      "--redis",
      "redis://127.0.0.1:1",
      "--queue",
      "a:b",
    ]]
  ) {
    const { code, stderr } = await workerCommand(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(stderr, /Cannot start a worker as '(redis|queue)' must be/);
  }
});

Deno.test("remote: the worker command exits 2 when a --module it serves does not exist", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-modules-" });
  try {
    const cases: [string[], RegExp][] = [
      [
        ["--module", join(dir, "nodes.ts")],
        /'modules\[0\]' must be an existing module file: current value is ".*nodes\.ts"/,
      ],
      [
        ["--module", `${dir}/`, "--module", join(dir, "gone") + "/"],
        /'modules\[1\]' must be an existing folder: current value is ".*gone\/"/,
      ],
      [
        ["--module", dir],
        /'modules\[0\]' must be a module file \(a folder takes a trailing '\/'\)/,
      ],
    ];
    for (const [extra, message] of cases) {
      const { code, stderr: text } = await workerCommand([
        "--redis",
        "redis://127.0.0.1:1",
        "--queue",
        "q",
        ...extra,
      ]);
      assert.equal(code, 2, text);
      assert.match(text, /^Cannot start a worker as /);
      assert.match(text, message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("remote: SIGTERM lets a running job finish before the worker exits 0", async () => {
  await using f = await fleet(1);
  const marker = await Deno.makeTempFile();
  try {
    await using runner = new Runner({ remote: { redis: f.redis.url }, loggingSetting: "NONE" });
    const run = runner.run(slow, 400, marker);
    await waitForFile(marker);
    assert.equal(await f.workers[0].stop(), 0);
    const info = await run;
    assert.deepEqual(info.answer, { attempt: 1, pid: f.workers[0].pid });
  } finally {
    await Deno.remove(marker);
  }
});

Deno.test("remote: Redis restarted mid-run fails the open request with a named error", async () => {
  await using f = await fleet(1);
  const marker = await Deno.makeTempFile();
  try {
    await using runner = new Runner({ remote: { redis: f.redis.url }, loggingSetting: "NONE" });
    const run = runner.run(slow, 60_000, marker);
    await waitForFile(marker);
    await f.redis.restart();
    await assert.rejects(run, (error: Error) => {
      assert.equal(error.name, "RemoteUnavailableError");
      assert.match(error.message, /lost when Redis restarted/);
      return true;
    });
  } finally {
    await Deno.remove(marker);
  }
});

Deno.test("deno task run fleet: two worker processes run the pipeline's Analyse state and its batches", async () => {
  const examples = new URL("../examples/", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-worker-options",
      "--config",
      new URL("../deno.json", import.meta.url).pathname,
      new URL("main.ts", examples).pathname,
      "fleet",
      examples.pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const pids = [...out.matchAll(/Worker process (\d+) serves queue 'fleet'/g)].map((m) => m[1]);
  assert.equal(pids.length, 2);
  assert.match(out, /Scanned .*: \d+ files/);
  assert.match(out, new RegExp(`fleetAnalyse: attempt 1 on [^/]+/(${pids.join("|")}) completed`));
  const batches = [
    ...out.matchAll(/fleetMeasure \(\d+ files\): attempt 1 on [^/]+\/(\d+) completed/g),
  ];
  assert.ok(batches.length > 0, out);
  assert.ok(batches.every((m) => pids.includes(m[1])), out);
});

async function waitForAsync<T>(probe: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("condition never held");
}

Deno.test("remote: without redis-server on the PATH the helper fails with one line naming the package", async () => {
  const helper = new URL("./helpers/redis.ts", import.meta.url).href;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { startRedis } from "${helper}"; await startRedis();`],
    env: { PATH: "/nonexistent" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 1);
  assert.match(
    new TextDecoder().decode(stderr),
    /redis-server is not installed: install the Debian package redis-server/,
  );
});

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes?: { key: string; value: { stringValue?: string } }[];
}

Deno.test("remote: a span made in remote node code nests under the remote request's span", async () => {
  // Runner and worker export to this OTLP/HTTP JSON receiver (Deno's built-in exporter).
  const spans: OtlpSpan[] = [];
  const both = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    if (new URL(req.url).pathname === "/v1/traces") {
      for (const rs of body.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      const names = new Set(spans.map((s) => s.name));
      if (names.has("spanned") && names.has("remote-inner")) both.resolve();
    }
    return Response.json({});
  });
  const env = {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  };
  try {
    await using redis = await startRedis();
    await using worker = await startWorker({
      redis: redis.url,
      queue: QUEUE,
      args: ["--module", FIXTURES],
      env,
    });
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-worker-options",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        new URL("./fixtures/traced_remote.ts", import.meta.url).pathname,
        redis.url,
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const { answer, id } = JSON.parse(new TextDecoder().decode(output.stdout).trim());
    assert.equal(answer, 42);
    // The worker exports its spans when it stops, at the latest.
    assert.equal(await worker.stop(), 0);
    // A guard, not a timing assumption: spans that never come fail the test.
    let guard: ReturnType<typeof setTimeout> | undefined;
    const arrived = await Promise.race([
      both.promise.then(() => true),
      new Promise<false>((resolve) => guard = setTimeout(() => resolve(false), 30_000)),
    ]);
    clearTimeout(guard);
    assert.ok(arrived, `spans received: ${spans.map((s) => s.name).join(", ")}`);
    const request = spans.find((s) =>
      s.name === "spanned" &&
      s.attributes?.some((a) => a.key === "switchyard.request_id" && a.value.stringValue === id)
    );
    assert.ok(request, "the runner exported the remote request's span");
    assert.equal(
      request.attributes?.find((a) => a.key === "switchyard.mode")?.value.stringValue,
      "remote",
    );
    const inner = spans.find((s) => s.name === "remote-inner")!;
    assert.equal(inner.traceId, request.traceId);
    assert.equal(inner.parentSpanId, request.spanId);
  } finally {
    await server.shutdown();
  }
});

Deno.test("remote: a worker stopped while a job's module loads gives the job back, its attempt not counted", async () => {
  const dir = await Deno.makeTempDir();
  const mark = `${dir}/mark`;
  try {
    await using redis = await startRedis();
    // Its module load never ends: the gate file is never made.
    const first = await startWorker({
      redis: redis.url,
      queue: QUEUE,
      concurrency: 1,
      args: ["--module", FIXTURES],
      env: {
        SWITCHYARD_TEST_GATE: `${dir}/gate`,
        SWITCHYARD_TEST_MARK: mark,
        SWITCHYARD_TEST_GATE_IN: "process",
      },
    });
    await using runner = new Runner({ remote: { redis: redis.url }, loggingSetting: "NONE" });
    const { gated } = await import("./fixtures/gated_nodes.ts");
    const run = runner.run(gated);
    await waitForFile(mark, /^loading$/);
    assert.equal(await first.stop(), 0);
    await using second = await startWorker({
      redis: redis.url,
      queue: QUEUE,
      concurrency: 1,
      args: ["--module", FIXTURES],
    });
    const info = await run;
    assert.equal(info.answer, "ran");
    const [request] = requestsNamed(info, "gated");
    assert.deepEqual(
      attemptsOf(info, request).map((a) => [a.attempt, a.pid, a.outcome]),
      [[1, second.pid, "completed"]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
