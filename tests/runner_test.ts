import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import {
  call,
  callBatch,
  currentSignal,
  getContext,
  GlobalTimeoutError,
  node,
  NodeTimeoutError,
  putContext,
  RequestCancelledError,
  Runner,
  StateManager,
} from "../mod.ts";
import { removeStaleTempFiles } from "../src/persistence/run_store.ts";

const quiet = { loggingSetting: "NONE" } as const;
const double = node(async (x: number) => x * 2, { name: "double" });

Deno.test("Runner.run() tracks 100 parallel child calls", async () => {
  const fanOut = node(async (n: number) => {
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => call(double, i)),
    );
    return results.reduce((a, b) => a + b, 0);
  }, { name: "fanOut" });
  await using runner = new Runner(quiet);
  const info = await runner.run(fanOut, 100);
  assert.equal(info.answer, 9900);
  assert.equal(info.requestHeap.size, 101);
  const root = info.requestHeap.insertionRequests[0];
  assert.equal(info.requestHeap.children(root.sinkId).length, 100);
  assert.ok(
    [...info.requestHeap.values()].every((r) => r.status === "Completed"),
  );
});

Deno.test("Runner.run() keeps parents through nesting of depth 5, timers and Promise.all", async () => {
  const deep: ReturnType<typeof node<[number], number>> = node(
    async (depth: number) => {
      if (depth === 0) return 1;
      await new Promise((resolve) => setTimeout(resolve, 0));
      const [a, b] = await Promise.all([
        call(deep, depth - 1),
        call(deep, depth - 1),
      ]);
      return a + b;
    },
    { name: "deep" },
  );
  await using runner = new Runner(quiet);
  const info = await runner.run(deep, 5);
  assert.equal(info.answer, 32);
  assert.equal(info.requestHeap.size, 63);
  // Every request except the root was made by the node instance of another request.
  const nodeIds = new Set([...info.requestHeap.values()].map((r) => r.sinkId));
  for (const request of info.requestHeap.values()) {
    if (request.sourceId !== null) assert.ok(nodeIds.has(request.sourceId));
  }
  const depthOf = (id: string | null): number => {
    if (id === null) return 0;
    const parent = [...info.requestHeap.values()].find((r) => r.sinkId === id)!;
    return 1 + depthOf(parent.sourceId);
  };
  assert.equal(
    Math.max(...[...info.requestHeap.values()].map((r) => depthOf(r.sourceId))),
    5,
  );
});

Deno.test("Runner.run() leaves exactly two stamps per call", async () => {
  const pair = node(
    async () => [await call(double, 1), await call(double, 2)],
    { name: "pair" },
  );
  await using runner = new Runner(quiet);
  const info = await runner.run(pair);
  assert.equal(info.requestHeap.size, 3);
  assert.equal(info.allStamps.length, 6);
  for (const request of info.requestHeap.values()) {
    assert.equal(info.requestHeap.history(request.identifier).length, 2);
  }
  const steps = info.allStamps.map((s) => s.step);
  assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
});

Deno.test("Runner.run() gives that run's info; runner.info keeps every run", async () => {
  await using runner = new Runner(quiet);
  const first = await runner.run(double, 1);
  assert.equal(runner.info.answer, 2);
  assert.equal(first.answer, 2);
  await runner.run(double, 2);
  const info = await runner.run(double, 3);
  const answer: number = info.answer;
  assert.equal(answer, 6);
  assert.equal(info.requestHeap.insertionRequests.length, 1);
  assert.equal(info.allStamps.length, 2);
  assert.equal(JSON.parse(info.graphSerialization()).length, 1);
  assert.equal(first.answer, 2);
  assert.equal(first.requestHeap.size, 1);
  assert.deepEqual(runner.info.answer, [2, 4, 6]);
  assert.equal(runner.info.requestHeap.insertionRequests.length, 3);
});

const failing = node(async (): Promise<number> => {
  throw new RangeError("child broke");
}, { name: "failing" });
const forgiving = node(async () => {
  try {
    return await call(failing);
  } catch (error) {
    return `caught ${(error as Error).message}`;
  }
}, { name: "forgiving" });

Deno.test("Runner.run() completes when a parent catches a failed child", async () => {
  await using runner = new Runner(quiet);
  const info = await runner.run(forgiving);
  assert.equal(info.answer, "caught child broke");
  assert.equal(info.status, "Completed");
  const child = [...info.requestHeap.values()].find((r) => r.sourceId !== null)!;
  assert.equal(child.status, "Failed");
  assert.ok(child.output instanceof RangeError);
});

Deno.test("Runner.run() rejects at the first failure with endOnError", async () => {
  await using runner = new Runner({ ...quiet, endOnError: true });
  await assert.rejects(runner.run(forgiving), {
    name: "RangeError",
    message: "child broke",
  });
  assert.equal(runner.info.status, "Failed");
});

Deno.test("Runner.run() rejects with the node's own error", async () => {
  await using runner = new Runner(quiet);
  await assert.rejects(runner.run(failing), RangeError);
  assert.equal(runner.info.status, "Failed");
});

Deno.test("Runner.run() times out with GlobalTimeoutError and aborts the running node", async () => {
  const aborted = Promise.withResolvers<unknown>();
  const stuck = node(() => {
    currentSignal().addEventListener(
      "abort",
      (e) => aborted.resolve((e.target as AbortSignal).reason),
    );
    return new Promise<never>(() => {}); // never settles on its own
  }, { name: "stuck" });
  const parent = node(async () => await call(stuck), { name: "parent" });
  await using runner = new Runner({ ...quiet, timeout: 20 });
  const error = await runner.run(parent).catch((e) => e);
  assert.ok(error instanceof GlobalTimeoutError, String(error));
  assert.equal(error.timeout, 20);
  assert.ok((await aborted.promise) instanceof GlobalTimeoutError);
  const statuses = [...runner.info.requestHeap.values()].map((r) => r.status);
  assert.deepEqual(statuses, ["Cancelled", "Cancelled"]);
  assert.equal(runner.info.allStamps.length, 4);
});

Deno.test("RTState.cancel() cancels one request and leaves its siblings running", async () => {
  const started = Promise.withResolvers<string>();
  const release = Promise.withResolvers<void>();
  let sawAbort = false;
  const victim = node(async () => {
    started.resolve(getContext("unused", "x"));
    await new Promise<void>((resolve) =>
      currentSignal().addEventListener("abort", () => {
        sawAbort = true;
        resolve();
      })
    );
    return "victim";
  }, { name: "victim" });
  const sibling = node(async () => {
    await release.promise;
    return "sibling";
  }, { name: "sibling" });
  const parent = node(async () => {
    const results = await Promise.allSettled([call(victim), call(sibling)]);
    return results.map((r) => r.status === "fulfilled" ? r.value : (r.reason as Error).name);
  }, { name: "parent" });
  await using runner = new Runner(quiet);
  const running = runner.run(parent);
  await started.promise;
  const victimRequest = [...runner.info.requestHeap.values()].find((r) =>
    runner.info.nodeHeap.get(r.sinkId)?.name === "victim"
  )!;
  assert.deepEqual(runner.rtState.cancel(victimRequest.identifier), [
    victimRequest.identifier,
  ]);
  assert.ok(sawAbort);
  release.resolve();
  const info = await running;
  assert.deepEqual(info.answer, ["RequestCancelledError", "sibling"]);
  const byName = (name: string) =>
    [...info.requestHeap.values()].find((r) => info.nodeHeap.get(r.sinkId)?.name === name)!;
  assert.equal(byName("victim").status, "Cancelled");
  assert.equal(byName("sibling").status, "Completed");
  assert.ok(byName("victim").output instanceof RequestCancelledError);
});

Deno.test("RTState.cancel() rejects an unknown id", async () => {
  await using runner = new Runner(quiet);
  assert.throws(
    () => runner.rtState.cancel("nope"),
    /'requestOrNodeId' must name a request or node: current value is "nope"/,
  );
});

Deno.test("node() timeout fails the call with NodeTimeoutError", async () => {
  const slow = node(() => new Promise<never>(() => {}), {
    name: "slow",
    timeout: 5,
  });
  await using runner = new Runner(quiet);
  await assert.rejects(runner.run(slow), NodeTimeoutError);
  assert.equal(runner.info.status, "Failed");
});

Deno.test("node() retries a failing function", async () => {
  let attempts = 0;
  const flaky = node(async () => {
    if (++attempts < 3) throw new Error("flaky");
    return attempts;
  }, { name: "flaky", retries: 2 });
  await using runner = new Runner(quiet);
  assert.equal((await runner.run(flaky)).answer, 3);
});

Deno.test("getContext() and putContext() share values across a run", async () => {
  const writer = node(
    async () => putContext("total", getContext<number>("total") + 1),
    {
      name: "writer",
    },
  );
  const reader = node(async () => {
    await callBatch(writer, [[], [], []]);
    return getContext("total");
  }, { name: "reader" });
  await using runner = new Runner(quiet, { total: 10 });
  assert.equal((await runner.run(reader)).answer, 13);
  assert.throws(() => getContext("total"), /no node is running/);
});

Deno.test("currentSignal(), getContext() and call() find their own node after awaits, across interleaved siblings", async () => {
  const leaf = node(async (tag: string) => tag, { name: "leaf" });
  const worker = node(async (tag: string) => {
    const before = currentSignal();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await Promise.resolve();
    const after = currentSignal();
    const child = await call(leaf, tag);
    await null;
    putContext(tag, getContext<number>("base") + 1);
    return { same: before === after, child };
  }, { name: "worker" });
  const root = node(async () => {
    const tags = Array.from({ length: 20 }, (_, i) => `t${i}`);
    return await Promise.all(tags.map((tag) => call(worker, tag)));
  }, { name: "root" });
  await using runner = new Runner(quiet, { base: 1 });
  const info = await runner.run(root);
  const results = info.answer as { same: boolean; child: string }[];
  assert.ok(results.every((r, i) => r.same && r.child === `t${i}`));
  // Every leaf was called by the worker that got its tag.
  const workers = info.requestHeap.children(info.requestHeap.insertionRequests[0].sinkId);
  assert.equal(workers.length, 20);
  for (const worker of workers) {
    const leaves = info.requestHeap.children(worker.sinkId);
    assert.deepEqual(leaves.map((leaf) => leaf.input[0]), [worker.input[0]]);
  }
  assert.equal(info.requestHeap.size, 41);
});

Deno.test("call() outside any run starts a run of its own", async () => {
  assert.equal(await call(double, 21), 42);
});

Deno.test("call() rejects something that is not a node", async () => {
  const bad = node(async () => await call((() => 1) as never), { name: "bad" });
  await using runner = new Runner(quiet);
  await assert.rejects(runner.run(bad), {
    name: "TypeError",
    message: /'node' must be a node made with node\(\): current value is \[Function/,
  });
  await assert.rejects(runner.run("nope" as never), TypeError);
});

Deno.test("new Runner() rejects bad configuration naming the field and value", () => {
  assert.throws(() => new Runner({ timeout: -1 }), {
    name: "TypeError",
    message: /'timeout' must be positive: current value is -1/,
  });
  assert.throws(
    () => new Runner({ loggingSetting: "LOUD" as never }),
    /'loggingSetting' must be one of .*current value is "LOUD"/,
  );
  assert.throws(
    () => new Runner({ subscriber: 42 as never }),
    /'subscriber' must be a function: current value is 42/,
  );
  assert.throws(
    () => new Runner({ colour: "red" } as never),
    /'colour' must not be given/,
  );
});

Deno.test("Runner.shutdown() is idempotent and refuses later runs", async () => {
  const runner = new Runner(quiet);
  await runner.shutdown();
  await runner.shutdown();
  await assert.rejects(runner.run(double, 1), /has shut down/);
});

Deno.test("Runner with saveState writes a parseable snapshot atomically", async () => {
  const stateDir = await Deno.makeTempDir();
  try {
    const weird = node(async () => {
      const cyclic: Record<string, unknown> = { big: 1n, fn: () => 1 };
      cyclic.self = cyclic;
      return cyclic;
    }, { name: "weird" });
    await using runner = new Runner({
      ...quiet,
      saveState: true,
      stateDir,
      runIdentifier: "run-1",
    });
    await runner.run(weird);
    const files = [...Deno.readDirSync(`${stateDir}/runs`)].map((e) => e.name);
    assert.deepEqual(files.sort(), ["run-1.events.jsonl", "run-1.json"]);
    const snapshot = JSON.parse(
      await Deno.readTextFile(`${stateDir}/runs/run-1.json`),
    );
    assert.equal(snapshot.format, "switchyard.run/1");
    assert.equal(snapshot.status, "Completed");
    assert.deepEqual(snapshot.runs[0].edges[0].details.output, {
      big: "[BigInt: 1n]",
      fn: "[Function: fn]",
      self: "[Circular]",
    });
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("Runner with logFile appends its log lines to the file", async () => {
  const logFile = await Deno.makeTempFile();
  try {
    {
      await using runner = new Runner({ loggingSetting: "REGULAR", logFile });
      await runner.run(double, 4);
      await runner.run(failing).catch(() => {});
    }
    const text = await Deno.readTextFile(logFile);
    assert.match(text, /\[INF\] switchyard\.runner: Run of double completed in [\d.]+ ms/);
    assert.match(
      text,
      /\[INF\] switchyard\.runner: Run of failing failed after [\d.]+ ms: RangeError: child broke\n/,
    );
  } finally {
    await new Runner({ loggingSetting: "NONE" }).shutdown();
    await Deno.remove(logFile);
  }
});

Deno.test("call() from another copy of the module is tracked by the running runner", async () => {
  // A second copy of the library, as when a user module imports it by another URL.
  const root = new URL("../", import.meta.url);
  const dir = await Deno.makeTempDir({
    dir: new URL(".switchyard/", root).pathname,
    prefix: "copy-",
  })
    .catch(async () => {
      await Deno.mkdir(new URL(".switchyard/", root), { recursive: true });
      return Deno.makeTempDir({ dir: new URL(".switchyard/", root).pathname, prefix: "copy-" });
    });
  try {
    await new Deno.Command("cp", {
      args: [
        "-r",
        new URL("src", root).pathname,
        new URL("mod.ts", root).pathname,
        new URL("workers", root).pathname,
        dir,
      ],
    })
      .output();
    const copy = await import(`file://${dir}/mod.ts`) as typeof import("../mod.ts");
    const leaf = copy.node(async (x: number) => x + 1, { name: "leaf" });
    const parent = node(async () => await copy.call(leaf, 1), { name: "parent" });
    await using runner = new Runner(quiet);
    const info = await runner.run(parent);
    assert.equal(info.answer, 2);
    assert.equal(info.requestHeap.size, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("call() outside any run leaves the logging a runner chose", async () => {
  const logFile = await Deno.makeTempFile();
  try {
    {
      await using runner = new Runner({ loggingSetting: "REGULAR", logFile });
      await runner.run(double, 1);
      assert.equal(await call(double, 2), 4); // a run of its own, default config
      await runner.run(double, 3);
    }
    const text = await Deno.readTextFile(logFile);
    assert.equal(text.match(/Run of double completed/g)?.length, 3);
  } finally {
    await new Runner({ loggingSetting: "NONE" }).shutdown();
    await Deno.remove(logFile);
  }
});

Deno.test("saveRunSnapshot() sweeps temporary files a killed writer left behind", async () => {
  const stateDir = await Deno.makeTempDir();
  try {
    const dir = `${stateDir}/runs`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/old.json.abc.tmp`, "{");
    await Deno.utime(`${dir}/old.json.abc.tmp`, 0, 0); // as if written long ago
    await Deno.writeTextFile(`${dir}/fresh.json.def.tmp`, "{"); // a write in progress
    await using runner = new Runner({
      ...quiet,
      saveState: true,
      stateDir,
      runIdentifier: "sweep",
    });
    await runner.run(double, 1);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["fresh.json.def.tmp", "sweep.events.jsonl", "sweep.json"]);
    assert.equal(await removeStaleTempFiles(dir, 0), 1); // the fresh one, once old enough
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("new Runner() never replaces a LogTape configuration the application installed", async () => {
  await new Runner({ loggingSetting: "REGULAR" }).shutdown(); // the library configured first
  const records: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { capture: (record) => void records.push(record) },
    loggers: [
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
      { category: ["switchyard"], sinks: ["capture"], lowestLevel: "info" },
    ],
  });
  try {
    await using runner = new Runner({ loggingSetting: "NONE" }); // asks explicitly
    await runner.run(double, 1);
    assert.ok(records.some((r) => String(r.rawMessage).includes("completed")));
  } finally {
    resetSync();
  }
});

Deno.test("A bad option names what the user made: the Runner or the StateManager", async () => {
  assert.throws(
    () => new Runner({ timeout: -5 }),
    (error: Error) =>
      error instanceof TypeError &&
      /^Cannot create Runner as 'timeout' must be positive: current value is -5/.test(
        error.message,
      ),
  );
  await StateManager.reset();
  assert.throws(
    () => StateManager.instance({ loggingSetting: "LOUD" as never }),
    (error: Error) =>
      error instanceof TypeError &&
      /^Cannot create the StateManager as 'loggingSetting' must be/.test(error.message),
  );
  await StateManager.reset();
});
