import assert from "node:assert/strict";
import {
  BroadcastEvent,
  RequestCreation,
  RequestFailure,
  Task,
  WorkerExecutionStrategy,
} from "../engine.ts";
import {
  call,
  GlobalTimeoutError,
  node,
  NodeTimeoutError,
  Runner,
  WorkerTaskError,
} from "../mod.ts";
import {
  broadcasts,
  callsLocal,
  catchesChild,
  fanOut,
  hiddenRef,
  readsContext,
  readsFile,
  square,
  waitForAbort,
} from "./fixtures/worker_nodes.ts";

const quiet = { loggingSetting: "NONE" as const };

function failureOf(runner: Runner, name: string): unknown {
  const record = [...runner.info.requestHeap.values()].find((r) =>
    runner.info.nodeHeap.get(r.sinkId)?.name === name
  );
  assert.ok(record, `no request to '${name}'`);
  assert.equal(record.status, "Failed");
  return record.output;
}

async function assertNextTaskSucceeds(runner: Runner): Promise<void> {
  const { answer } = await runner.run(ok, 1);
  assert.equal(Array.isArray(answer) ? answer.at(-1) : answer, 2);
}

const ok = node(function ok(x: number) {
  return x + 1;
}, { worker: true });

Deno.test("WorkerExecutionStrategy runs worker: true and module nodes and reuses its workers", async () => {
  const strategy = new WorkerExecutionStrategy({ size: 2 });
  assert.equal(strategy.workerCount, 0);
  const results = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) => strategy.execute(new Task(`r${i}`, i % 2 ? ok : square, [i])),
    ),
  );
  assert.deepEqual(
    results,
    Array.from({ length: 20 }, (_, i) => i % 2 ? i + 1 : i * i),
  );
  assert.equal(strategy.workerCount, 2);
  await strategy.shutdown();
  assert.equal(strategy.workerCount, 0);
  await assert.rejects(
    strategy.execute(new Task("late", ok, [1])),
    /shut down/,
  );
});

Deno.test("WorkerExecutionStrategy never holds more workers than its size", async () => {
  const strategy = new WorkerExecutionStrategy({ size: 2 });
  const runs = Array.from(
    { length: 6 },
    (_, i) => strategy.execute(new Task(`r${i}`, ok, [i])),
  );
  assert.equal(strategy.workerCount, 2);
  await Promise.all(runs);
  assert.equal(strategy.workerCount, 2);
  await strategy.shutdown();
});

Deno.test("Quick tasks are never queued on a worker behind a long one", async () => {
  const block = node(function block(gate: SharedArrayBuffer) {
    Atomics.wait(new Int32Array(gate), 0, 0);
    return "released";
  }, { worker: true });
  const strategy = new WorkerExecutionStrategy({ size: 2 });
  // Both workers start, and `ok` is known to be quick (so it is pipelined).
  await Promise.all(
    [1, 2].map((i) => strategy.execute(new Task(`w${i}`, ok, [i]))),
  );
  const gate = new SharedArrayBuffer(4);
  const blocked = strategy.execute(new Task("a", block, [gate]));
  const others = [1, 2, 3, 4, 5].map((i) => strategy.execute(new Task(`r${i}`, ok, [i])));
  // Had one been sent to the blocked worker, this would never resolve.
  assert.deepEqual(await Promise.all(others), [2, 3, 4, 5, 6]);
  Atomics.store(new Int32Array(gate), 0, 1);
  Atomics.notify(new Int32Array(gate), 0);
  assert.equal(await blocked, "released");
  await strategy.shutdown();
});

Deno.test("WorkerExecutionStrategy.shutdown() stops running and queued tasks and leaves no worker", async () => {
  const forever = node(function forever() {
    return new Promise(() => {});
  }, { worker: true });
  const strategy = new WorkerExecutionStrategy({ size: 1, gracePeriod: 0 });
  const running = strategy.execute(new Task("a", forever, [])).catch((e) => e);
  const queued = strategy.execute(new Task("b", forever, [])).catch((e) => e);
  await strategy.shutdown();
  for (const error of await Promise.all([running, queued])) {
    assert.ok(error instanceof WorkerTaskError);
    assert.equal(error.reason, "shutdown");
  }
  assert.equal(strategy.workerCount, 0);
});

Deno.test("WorkerExecutionStrategy with dedicated: true gives each task its own worker", async () => {
  const strategy = new WorkerExecutionStrategy({ size: 1, dedicated: true });
  const runs = [1, 2, 3].map((i) => strategy.execute(new Task(`r${i}`, ok, [i])));
  assert.equal(strategy.workerCount, 3);
  assert.deepEqual(await Promise.all(runs), [2, 3, 4]);
  assert.equal(strategy.workerCount, 0);
  await strategy.shutdown();
});

Deno.test("A call() inside a worker node is a tracked child request, even on a pool of one", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const info = await runner.run(fanOut, 3);
  assert.equal(info.answer, 6 + 9);
  const [top] = info.requestHeap.insertionRequests;
  const children = info.requestHeap.children(top.sinkId);
  assert.deepEqual(
    children.map((c) => info.nodeHeap.get(c.sinkId)?.name).sort(),
    ["double", "square"],
  );
  assert.ok(children.every((c) => c.status === "Completed"));
});

Deno.test("A worker node catches the error of a child it called, and both are recorded", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const info = await runner.run(catchesChild);
  assert.match(
    String(info.answer),
    /^caught WorkerTaskError: Worker node 'failing' failed on worker #1: threw RangeError: no$/,
  );
  const [top] = info.requestHeap.insertionRequests;
  assert.equal(top.status, "Completed");
  const [child] = info.requestHeap.children(top.sinkId);
  assert.equal(child.status, "Failed");
  assert.equal(info.nodeHeap.get(child.sinkId)?.name, "failing");
});

Deno.test("A call() to a node the main thread cannot resolve fails clearly", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  await assert.rejects(
    runner.run(callsLocal),
    /WorkerCallRefusedError: Cannot call node 'local' from worker node 'callsLocal' as the main thread does not know it: module .*worker_nodes\.ts exports no node of that name/,
  );
});

Deno.test("A module worker node that is not exported fails listing the exports", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const error = await runner.run(hiddenRef.node, 1).catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  assert.equal(error.reason, "load");
  assert.match(error.message, /Cannot find worker node 'hidden' in module/);
  assert.match(
    error.message,
    /exports nodes .*'square'.* other values 'hiddenRef'/,
  );
});

Deno.test("A worker: true node that refers to an outer variable must be self-contained", async () => {
  const outer = 5;
  const leaky = node(function leaky() {
    return outer;
  }, { worker: true });
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const error = await runner.run(leaky).catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  assert.equal(error.reason, "self-contained");
  assert.match(
    error.message,
    /'leaky' must be self-contained.*refers to 'outer'/,
  );
});

const failures: [string, string, RegExp, () => unknown][] = [
  ["threw", "threw", /threw RangeError: bad input/, () => {
    throw new RangeError("bad input");
  }],
  [
    "closed",
    "closed",
    /closed itself/,
    () => new Promise(() => self.close()),
  ],
  [
    "exited",
    "exited",
    /exited \(Deno.exit\(3\)\)/,
    () => new Promise(() => Deno.exit(3)),
  ],
  [
    "unhandledrejection",
    "unhandledrejection",
    /promise rejection was not handled: Error: lost/,
    () =>
      new Promise(() => {
        Promise.reject(new Error("lost"));
      }),
  ],
  [
    "uncaught",
    "uncaught",
    /exception was not caught: Error: late/,
    () =>
      new Promise(() => {
        setTimeout(() => {
          throw new Error("late");
        });
      }),
  ],
];

for (const [label, reason, message, fn] of failures) {
  Deno.test(`A worker node that ends by '${label}' fails only its task, and the next task succeeds`, async () => {
    const broken = node(fn, { name: `broken_${label}`, worker: true });
    await using runner = new Runner({ workers: { size: 1 }, ...quiet });
    const error = await runner.run(broken).catch((e) => e);
    assert.ok(error instanceof WorkerTaskError, String(error));
    assert.equal(error.reason, reason);
    assert.equal(error.nodeName, `broken_${label}`);
    assert.equal(error.workerId, 1);
    assert.match(error.message, /Worker node 'broken_\w+' failed on worker #1/);
    assert.match(error.message, message);
    assert.equal(failureOf(runner, `broken_${label}`), error);
    await assertNextTaskSucceeds(runner);
    assert.equal(runner.coordinator.systemDetail().open, 0);
  });
}

Deno.test("A worker node past its timeout is recorded with its worker, and the worker is replaced", async () => {
  const spin = node(function spin() {
    while (true) { /* never yields */ }
  }, { worker: true, timeout: 30 });
  await using runner = new Runner({
    workers: { size: 1, gracePeriod: 0 },
    ...quiet,
  });
  const error = await runner.run(spin).catch((e) => e);
  assert.ok(error instanceof NodeTimeoutError);
  assert.match(
    error.message,
    /Node 'spin' did not finish within its timeout of 30 ms on worker #1/,
  );
  assert.equal(failureOf(runner, "spin"), error);
  await assertNextTaskSucceeds(runner);
});

Deno.test("A cancelled worker node sees its AbortSignal before the hard stop", async () => {
  const seen = new SharedArrayBuffer(4);
  const started = Promise.withResolvers<string>();
  let requestId = "";
  const ended = Promise.withResolvers<RequestFailure>();
  await using runner = new Runner({
    workers: { size: 1, gracePeriod: 5_000 },
    ...quiet,
    subscriber: (m) => {
      if (m instanceof RequestCreation && m.nodeName === "waitForAbort") {
        requestId = m.requestId;
      }
      if (m instanceof BroadcastEvent && m.item === "listening") {
        started.resolve(requestId);
      }
      if (m instanceof RequestFailure) ended.resolve(m);
    },
  });
  const run = runner.run(waitForAbort, seen).catch((e) => e);
  runner.rtState.cancel(await started.promise, new Error("stop"));
  assert.match(String(await run), /was cancelled: stop/);
  const failure = await ended.promise;
  assert.equal(Atomics.load(new Int32Array(seen), 0), 1);
  assert.match(String(failure.error), /threw Error: saw abort/);
  await assertNextTaskSucceeds(runner);
});

Deno.test("A run timeout terminates a worker that ignores its signal, and replaces it", async () => {
  const stuck = node(function stuck() {
    while (true) { /* ignores its signal */ }
  }, { worker: true });
  const ended = Promise.withResolvers<RequestFailure>();
  const runner = new Runner({
    timeout: 30,
    workers: { size: 1, gracePeriod: 10 },
    ...quiet,
    subscriber: (m) => {
      if (m instanceof RequestFailure) ended.resolve(m);
    },
  });
  await assert.rejects(runner.run(stuck), GlobalTimeoutError);
  const failure = (await ended.promise).error;
  assert.ok(failure instanceof WorkerTaskError);
  assert.equal(failure.reason, "timeout");
  assert.match(
    failure.message,
    /'stuck' failed on worker #1: it did not stop within the 10 ms grace period after GlobalTimeoutError/,
  );
  await runner.shutdown();
});

Deno.test("A queued worker task that is cancelled never starts", async () => {
  const strategy = new WorkerExecutionStrategy({ size: 1 });
  const controller = new AbortController();
  const task = new Task("r1", ok, [1]);
  Object.defineProperty(task, "signal", { value: controller.signal });
  controller.abort(new Error("no longer needed"));
  const error = await strategy.execute(task).catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  assert.equal(error.reason, "cancelled");
  assert.equal(strategy.workerCount, 0);
  await strategy.shutdown();
});

Deno.test("An argument that cannot be cloned fails naming the node and position", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const pair = node(function pair(a: number, _b: unknown) {
    return a;
  }, { worker: true });
  const error = await runner.run(pair, 1, () => 2).catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  assert.equal(error.reason, "clone");
  assert.match(
    error.message,
    /Worker node 'pair' failed .*: argument 1 could not be cloned/,
  );
  const unclonable = node(function unclonable() {
    return () => 1;
  }, { worker: true });
  await assert.rejects(
    runner.run(unclonable),
    /Cannot return the result of worker node 'unclonable' as it could not be cloned/,
  );
  await assertNextTaskSucceeds(runner);
});

Deno.test("transfer: true moves ArrayBuffers into and out of the worker", async () => {
  const sum = node(function sum(bytes: Uint8Array) {
    let total = 0;
    for (const b of bytes) total += b;
    return { total, bytes };
  }, { worker: true, transfer: true });
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const bytes = new Uint8Array([1, 2, 3]);
  const { answer } = await runner.run(sum, bytes);
  assert.equal(bytes.buffer.byteLength, 0, "the argument was transferred");
  const result = answer as { total: number; bytes: Uint8Array };
  assert.equal(result.total, 6);
  assert.deepEqual([...result.bytes], [1, 2, 3]);
});

Deno.test("A worker node with retries runs again after a failure", async () => {
  const flaky = node(function flaky(counter: SharedArrayBuffer) {
    if (Atomics.add(new Int32Array(counter), 0, 1) < 2) {
      throw new Error("not yet");
    }
    return "done";
  }, { worker: true, retries: 2 });
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const counter = new SharedArrayBuffer(4);
  assert.equal((await runner.run(flaky, counter)).answer, "done");
  assert.equal(Atomics.load(new Int32Array(counter), 0), 3);
});

Deno.test("broadcast() in a worker node reaches subscribers; getContext() fails clearly", async () => {
  const seen: unknown[] = [];
  await using runner = new Runner({
    workers: { size: 1 },
    ...quiet,
    subscriber: (m) => {
      if (m instanceof BroadcastEvent) seen.push([m.nodeName, m.item]);
    },
  }, { key: 1 });
  await runner.run(broadcasts, 7);
  assert.deepEqual(seen, [["broadcasts", { progress: 7 }]]);
  await assert.rejects(
    runner.run(readsContext),
    /Cannot read context key 'key' in worker node 'readsContext' as the run context stays on the main thread/,
  );
});

Deno.test("A worker node with permissions 'none' that reads a file fails with NotCapable while the run goes on", async () => {
  const main = node(async function main(path: string) {
    const outcome = await call(readsFile, path).catch((e) => e);
    return [outcome, await call(square, 4)];
  }, { name: "main" });
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const info = await runner.run(main, new URL(import.meta.url).pathname);
  const [error, sixteen] = info.answer as [WorkerTaskError, number];
  assert.equal(sixteen, 16);
  assert.ok(error instanceof WorkerTaskError);
  assert.equal((error.cause as Error).name, "NotCapable");
  assert.match(
    error.message,
    /'readsFile' failed on worker #\d: threw NotCapable: Requires read access/,
  );
  assert.equal(failureOf(runner, "readsFile"), error);
});

Deno.test("workers.permissions sandboxes worker: true nodes", async () => {
  const peek = node(function peek(path: string) {
    return Deno.readTextFileSync(path).length;
  }, { worker: true });
  await using runner = new Runner({
    workers: { size: 1, permissions: "none" },
    ...quiet,
  });
  const error = await runner.run(peek, new URL(import.meta.url).pathname)
    .catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  assert.equal((error.cause as Error).name, "NotCapable");
});

Deno.test("Permissions a worker cannot be created with fail the task, not the runtime", async () => {
  const odd = node(function odd() {
    return 1;
  }, { worker: true, permissions: { read: 42 } });
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const error = await runner.run(odd).catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  assert.equal(error.reason, "spawn");
  assert.match(error.message, /could not start a worker with permissions/);
  await assertNextTaskSucceeds(runner);
});

Deno.test("A worker task stopped while its worker loads its module never starts its node", async () => {
  const dir = await Deno.makeTempDir();
  const mark = `${dir}/mark`;
  // The Web Worker reads these when it loads the module: it waits for the gate file.
  Deno.env.set("SWITCHYARD_TEST_GATE", `${dir}/gate`);
  Deno.env.set("SWITCHYARD_TEST_MARK", mark);
  const strategy = new WorkerExecutionStrategy({ size: 1 });
  try {
    const { gated } = await import("./fixtures/gated_nodes.ts");
    const controller = new AbortController();
    const task = new Task("r1", gated, []);
    Object.defineProperty(task, "signal", { value: controller.signal });
    const outcome = strategy.execute(task).catch((e) => e);
    await waitForText(mark, "loading");
    controller.abort(new Error("stopped during load"));
    // The stop is on its way to the worker before the load can end.
    await Deno.writeTextFile(`${dir}/gate`, "open");
    const error = await outcome;
    assert.ok(error instanceof WorkerTaskError, String(error));
    assert.equal(await Deno.readTextFile(mark), "loading", "the node ran after its stop");
  } finally {
    await strategy.shutdown();
    Deno.env.delete("SWITCHYARD_TEST_GATE");
    Deno.env.delete("SWITCHYARD_TEST_MARK");
    await Deno.remove(dir, { recursive: true });
  }
});

async function waitForText(path: string, text: string): Promise<void> {
  // Polls a file the worker writes: the test waits on the worker's action.
  for (let i = 0; i < 600; i++) {
    if (await Deno.readTextFile(path).catch(() => "") === text) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} never said ${text}`);
}
