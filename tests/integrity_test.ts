import assert from "node:assert/strict";
import { call, node, Runner, UnknownParentError } from "../mod.ts";
import { saveRunSnapshot, snapshotOf } from "../persistence.ts";
import {
  AsyncExecutionStrategy,
  Coordinator,
  Forest,
  type ForestRecord,
  ForestVersionError,
  NodeForest,
  Publisher,
  RequestCancellation,
  RequestFailure,
  RequestForest,
  RequestSuccess,
  RTPublisher,
  RTState,
  StampManager,
  Task,
} from "../engine.ts";
import { ExecutionInfo, parseExecutorConfig } from "../mod.ts";

Deno.test("stamps read from allStamps are frozen copies: changing one changes no record", async () => {
  await using runner = new Runner({ loggingSetting: "NONE" });
  const info = await runner.run(node(async () => 1, { name: "one" }));
  const [created] = info.allStamps;
  assert.ok(Object.isFrozen(created));
  assert.throws(() => {
    (created as { step: number }).step = 99;
  }, TypeError);
  const copy = { ...created, step: 99 };
  assert.equal(copy.step, 99);
  assert.equal(info.allStamps[0].step, 0);
  const record = info.requestHeap.insertionRequests[0];
  assert.equal(record.parent?.stamp.step, 0);
  assert.equal(record.parent?.stamp.identifier, `Created request ${record.identifier}`);
  assert.equal(record.stamp.identifier, `Completed request ${record.identifier}`);
});

Deno.test("Forest refuses a stale parent, a second root and a step going back", () => {
  const stamper = new StampManager();
  const forest = new Forest<ForestRecord>();
  const v1 = { identifier: "a", stamp: stamper.createStamp("v1"), parent: null };
  forest.upsert(v1);
  const v2 = { identifier: "a", stamp: stamper.createStamp("v2"), parent: v1 };
  forest.upsert(v2);
  assert.throws(
    () => forest.upsert({ identifier: "a", stamp: stamper.createStamp("v3"), parent: v1 }),
    { name: "ForestVersionError", message: /'parent' must be its current version/ },
  );
  assert.throws(
    () => forest.upsert({ identifier: "a", stamp: stamper.createStamp("v3"), parent: null }),
    { name: "ForestVersionError", message: /second root/ },
  );
  assert.throws(
    () => forest.upsert({ identifier: "a", stamp: { ...v1.stamp }, parent: v2 }),
    { name: "ForestVersionError", message: /'stamp.step' must be at least its parent's/ },
  );
  assert.throws(
    () => forest.upsert({ identifier: "b", stamp: stamper.createStamp("b"), parent: v1 }),
    ForestVersionError,
  );
  // Nothing refused was kept: history and the time machine still agree.
  assert.deepEqual(forest.history("a").map((r) => r.stamp.identifier), ["v1", "v2"]);
  assert.equal(forest.timeMachine(0).get("a")?.stamp.identifier, "v1");
  assert.equal(forest.has("b"), false);
});

Deno.test("RequestForest refuses versions that break a request's history", () => {
  const stamper = new StampManager();
  const requests = new RequestForest();
  const created = requests.create("r", null, "r:node", [1], stamper.createStamp("c"));
  const later = stamper.createStamp("later");
  const ended = requests.update("r", 2, "Completed", later);
  assert.throws(
    () => requests.update("r", 3, "Failed", { ...created.stamp }),
    ForestVersionError,
  );
  assert.throws(
    () =>
      requests.upsert({
        ...ended,
        status: "Failed",
        stamp: stamper.createStamp("x"),
        parent: created,
      }),
    ForestVersionError,
  );
  assert.throws(
    () => requests.upsert({ ...created, stamp: stamper.createStamp("y"), parent: null }),
    ForestVersionError,
  );
  requests.upsert({
    ...ended,
    status: "Failed",
    output: 4,
    stamp: stamper.createStamp("z"),
    parent: ended,
  });
  assert.deepEqual(requests.history("r").map((r) => r.status), ["Open", "Completed", "Failed"]);
  assert.deepEqual(requests.timeMachine(later.step).get("r")?.output, 2);
  assert.equal(requests.timeMachine(created.stamp.step).get("r")?.status, "Open");
  const nodes = new NodeForest();
  nodes.upsert({
    identifier: "n",
    name: "n",
    nodeType: "async",
    stamp: created.stamp,
    parent: null,
  });
  assert.throws(
    () =>
      nodes.upsert({ identifier: "n", name: "m", nodeType: "async", stamp: later, parent: null }),
    ForestVersionError,
  );
});

Deno.test("Coordinator.handleItem() closes jobs on success and failure messages", async () => {
  const publisher = new RTPublisher();
  publisher.start();
  const coordinator = new Coordinator({ async: new AsyncExecutionStrategy() });
  coordinator.start(publisher);
  for (const id of ["ok", "bad", "gone"]) {
    coordinator.state.addJob(new Task(id, node(() => 0, { name: id })));
  }
  coordinator.handleItem(new RequestSuccess("ok", "ok:node", 1));
  coordinator.handleItem(new RequestFailure("bad", "bad:node", new Error("x")));
  publisher.publish(new RequestCancellation("gone", "gone:node", "why"));
  assert.equal(coordinator.state.getJob("ok")?.status, "closed");
  assert.equal(coordinator.state.getJob("ok")?.result, 1);
  assert.equal(coordinator.state.getJob("bad")?.status, "closed");
  assert.equal(coordinator.state.getJob("gone")?.result, "why");
  assert.equal(coordinator.state.openCount, 0);
  await coordinator.shutdown();
  publisher.shutdown();
});

Deno.test("new Task(id, node) defaults its arguments to none", async () => {
  const task = new Task("r1", node((...args: unknown[]) => args.length, { name: "count" }));
  assert.deepEqual(task.args, []);
  assert.equal(await task.invoke(), 0);
});

Deno.test("RTState.callNodes() with an unknown parentNodeId rejects with UnknownParentError", async () => {
  const publisher = new RTPublisher();
  publisher.start();
  const coordinator = new Coordinator({ async: new AsyncExecutionStrategy() });
  coordinator.start(publisher);
  const rt = new RTState(ExecutionInfo.createNew(), parseExecutorConfig(), coordinator, publisher);
  const leaf = node(async () => 1, { name: "leaf" });
  await assert.rejects(
    rt.callNodes({ parentNodeId: "ghost:node", node: leaf, args: [] }),
    (error: unknown) => error instanceof UnknownParentError && error.parentNodeId === "ghost:node",
  );
  // Nothing was recorded for it, and the run is not left open.
  assert.equal(rt.info.requestHeap.size, 0);
  assert.equal(await rt.callNodes({ parentNodeId: null, node: leaf, args: [] }), 1);
  const nodeId = rt.info.requestHeap.insertionRequests[0].sinkId;
  assert.equal(await rt.callNodes({ parentNodeId: nodeId, node: leaf, args: [] }), 1);
  assert.equal(rt.info.requestHeap.children(nodeId).length, 1);
  assert.equal(rt.info.status, "Completed");
  await rt.shutdown();
  await coordinator.shutdown();
  publisher.shutdown();
});

Deno.test("Publisher.drain() waits for async subscribers, bounded", async () => {
  const publisher = new Publisher<number>();
  publisher.start();
  const written: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  publisher.subscribe(async (n) => {
    await gate;
    written.push(n);
  });
  publisher.publish(1);
  assert.equal(publisher.pendingDeliveries, 1);
  assert.equal(await publisher.drain(0), false);
  release();
  assert.equal(await publisher.drain(10_000), true);
  assert.deepEqual(written, [1]);
  publisher.shutdown();
});

Deno.test("closing a runner waits for async subscriber work in flight", async () => {
  const written: string[] = [];
  const slow = node(async () => {
    await call(node(async () => 2, { name: "inner" }));
    return 1;
  }, { name: "slow" });
  {
    await using runner = new Runner({
      loggingSetting: "NONE",
      subscriber: async (message) => {
        if (message.kind !== "success") return;
        // Several turns of the event loop after the run has returned.
        for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
        written.push(message.requestId);
      },
    });
    await runner.run(slow);
  }
  assert.equal(written.length, 2);
});

Deno.test("graphSerialization() writes what serializedRuns() holds, for varied runs", async () => {
  const leaf = node(async (x: unknown) => {
    if (x === "fail") throw new RangeError("no");
    if (x === "big") return 10n;
    return { x, list: [1, "two", null] };
  }, { name: "leaf" });
  const top = node(async () => {
    const results = await Promise.allSettled([
      call(leaf, 1),
      call(leaf, "fail"),
      call(leaf, "big"),
      call(leaf, undefined),
    ]);
    return results.length;
  }, { name: "top" });
  let tries = 0;
  const flaky = node(async () => {
    if (tries++ === 0) throw new Error("first try");
    return "second try";
  }, { name: "flaky", retries: 1, retryDelay: 0 });
  await using runner = new Runner({ loggingSetting: "NONE" });
  await runner.run(top);
  await assert.rejects(runner.run(leaf, "fail"));
  await runner.run(flaky);
  assert.equal(runner.info.requestHeap.insertionRequests[2].attempts?.length, 2);
  const info = runner.info;
  const expected = JSON.stringify(info.serializedRuns());
  assert.equal(info.graphSerialization(), expected);
  const [first] = JSON.parse(info.graphSerialization());
  assert.equal(first.edges.length, 5);
  assert.equal(first.nodes.length, 5);
  assert.equal(first.steps.length, 10);
  // A hand-recorded execution (no runtime rows) and a sub-view serialize alike.
  const sub = info.getInfo(info.requestHeap.insertionRequests[0].identifier);
  assert.equal(sub.graphSerialization(), JSON.stringify(sub.serializedRuns()));
  const stamper = new StampManager();
  const requests = new RequestForest();
  const nodes = new NodeForest(requests);
  const made = new ExecutionInfo(requests, nodes, stamper);
  const c = stamper.createStamp("made by hand");
  requests.create("h1", null, "h1:node", [Infinity], c);
  nodes.upsert({ identifier: "h1:node", name: "hand", nodeType: "async", stamp: c, parent: null });
  requests.update("h1", new Map([["k", 1]]), "Completed", stamper.createStamp("done"));
  assert.equal(made.graphSerialization(), JSON.stringify(made.serializedRuns()));
});

Deno.test("saveRunSnapshot() writes the text JSON.stringify(snapshotOf()) gives, for varied runs", async () => {
  const leaf = node(async (x: unknown) => {
    if (x === "fail") throw new RangeError("no");
    if (x === "big") return 10n;
    return { x, text: 'quote " backslash \\ line\n é ✓', list: [1, "two", null, -0, NaN] };
  }, { name: "leaf ✓" });
  const top = node(async (n: number) => {
    const calls = [call(leaf, 1), call(leaf, "fail"), call(leaf, "big"), call(leaf, undefined)];
    for (let i = 0; i < n; i++) calls.push(call(leaf, i));
    return (await Promise.allSettled(calls)).length;
  }, { name: "top" });
  let tries = 0;
  const flaky = node(async () => {
    if (tries++ === 0) throw new Error("first try");
    return "second try";
  }, { name: "flaky", retries: 1, retryDelay: 0 });
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-snapshot-" });
  try {
    await using runner = new Runner({ loggingSetting: "NONE" });
    // Enough requests for the text to be written in several chunks.
    await runner.run(top, 5_000);
    await assert.rejects(runner.run(leaf, "fail"));
    await runner.run(flaky);
    for (const status of [undefined, "Failed"] as const) {
      const path = await saveRunSnapshot(stateDir, "varied", runner.info, { status });
      const text = await Deno.readTextFile(path);
      const saved = JSON.parse(text);
      const expected = snapshotOf("varied", runner.info, status ?? runner.info.status);
      expected.savedAt = saved.savedAt;
      assert.equal(text, JSON.stringify(expected));
      assert.ok(text.length > 2 << 20);
    }
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
