import assert from "node:assert/strict";
import { call, ExecutionInfo, node, Runner } from "../mod.ts";
import { Forest, type ForestRecord, RequestForest, StampManager } from "../engine.ts";

interface Item extends ForestRecord {
  readonly value: number;
}

Deno.test("Forest.timeMachine() reconstructs the forest as it stood at a step", () => {
  const stamper = new StampManager();
  const forest = new Forest<Item>();
  const put = (identifier: string, value: number) =>
    forest.upsert({
      identifier,
      value,
      stamp: stamper.createStamp(`${identifier}=${value}`),
      parent: forest.get(identifier) ?? null,
    });
  put("a", 1); // step 0
  put("b", 1); // step 1
  put("a", 2); // step 2
  put("c", 1); // step 3
  put("b", 2); // step 4
  const atStep = (step: number) =>
    Object.fromEntries(
      [...forest.timeMachine(step).values()].map((
        r,
      ) => [r.identifier, r.value]),
    );
  assert.deepEqual(atStep(0), { a: 1 });
  assert.deepEqual(atStep(2), { a: 2, b: 1 });
  assert.deepEqual(atStep(3), { a: 2, b: 1, c: 1 });
  assert.deepEqual(atStep(99), { a: 2, b: 2, c: 1 });
  assert.deepEqual(forest.history("a").map((r) => r.value), [1, 2]);
  assert.throws(() => forest.timeMachine(NaN), RangeError);
});

Deno.test("RequestForest.timeMachine() keeps its indexes and class", () => {
  const stamper = new StampManager();
  const requests = new RequestForest();
  requests.create("root", null, "n0", [], stamper.createStamp("c root"));
  requests.create("child", "n0", "n1", [1], stamper.createStamp("c child"));
  requests.update("child", 2, "Completed", stamper.createStamp("e child"));
  requests.update("root", 2, "Completed", stamper.createStamp("e root"));
  const past = requests.timeMachine(1);
  assert.ok(past instanceof RequestForest);
  assert.deepEqual(past.openTails().map((r) => r.identifier), ["child"]);
  assert.deepEqual(past.children("n0").map((r) => r.status), ["Open"]);
  assert.equal(requests.openTails().length, 0);
  assert.throws(
    () => requests.update("ghost", 1, "Completed", stamper.createStamp("x")),
    RangeError,
  );
  assert.throws(
    () => requests.create("root", null, "n9", [], stamper.createStamp("x")),
    /exists already/,
  );
});

const leaf = node(async (x: number) => x, { name: "leaf" });
const mid = node(
  async (x: number) => (await call(leaf, x)) + (await call(leaf, x)),
  { name: "mid" },
);
const top = node(async () => (await call(mid, 1)) + (await call(leaf, 5)), {
  name: "top",
});

Deno.test("ExecutionInfo.getInfo() returns the sub-forest below a request", async () => {
  await using runner = new Runner({ loggingSetting: "NONE" });
  const info = await runner.run(top);
  assert.equal(info.answer, 7);
  const midRequest = [...info.requestHeap.values()].find((r) =>
    info.nodeHeap.get(r.sinkId)?.name === "mid"
  )!;
  const sub = info.getInfo(midRequest.identifier);
  assert.equal(sub.requestHeap.size, 3);
  assert.deepEqual([...sub.nodeHeap.values()].map((n) => n.name).sort(), [
    "leaf",
    "leaf",
    "mid",
  ]);
  assert.equal(sub.allStamps.length, 6);
  assert.equal(sub.requestHeap.children(midRequest.sinkId).length, 2);
  assert.equal(
    info.getInfo([info.requestHeap.insertionRequests[0].identifier]).requestHeap
      .size,
    5,
  );
  assert.throws(() => info.getInfo("missing"), {
    name: "RangeError",
    message: /'requestIds' must name known requests: current value is "missing"/,
  });
});

Deno.test("ExecutionInfo.toGraph() links every edge to existing vertices", async () => {
  await using runner = new Runner({ loggingSetting: "NONE" });
  const { vertices, edges } = (await runner.run(top)).toGraph();
  const ids = new Set(vertices.map((v) => v.identifier));
  assert.equal(vertices.length, 5);
  assert.equal(edges.length, 5);
  for (const edge of edges) {
    assert.ok(ids.has(edge.target));
    if (edge.source !== null) assert.ok(ids.has(edge.source));
    assert.equal(edge.details.status, "Completed");
    assert.equal(edge.parent?.details.status, "Open");
  }
});

Deno.test("ExecutionInfo.graphSerialization() writes one entry per run with placeholders", async () => {
  class Point {
    constructor(readonly x: number) {}
  }
  const odd = node(async (kind: string) => {
    if (kind === "class") return new Point(1);
    if (kind === "map") return new Map([["k", 1n]]);
    if (kind === "fn") return function helper() {};
    throw new TypeError("odd failure");
  }, { name: "odd" });
  await using runner = new Runner({ loggingSetting: "NONE" });
  for (const kind of ["class", "map", "fn"]) await runner.run(odd, kind);
  await runner.run(odd, "error").catch(() => {});
  const runs = JSON.parse(runner.info.graphSerialization());
  assert.equal(runs.length, 4);
  assert.deepEqual(runs.map((r: { status: string }) => r.status), [
    "Completed",
    "Completed",
    "Completed",
    "Failed",
  ]);
  assert.deepEqual(runs[0].edges[0].details.output, {
    "[Class]": "Point",
    x: 1,
  });
  assert.deepEqual(runs[1].edges[0].details.output, {
    "[Map]": [["k", "[BigInt: 1n]"]],
  });
  assert.equal(runs[2].edges[0].details.output, "[Function: helper]");
  assert.equal(runs[3].edges[0].details.output.name, "TypeError");
  assert.equal(runs[3].edges[0].details.output.message, "odd failure");
  for (const run of runs) {
    assert.equal(run.name, "odd");
    assert.equal(run.nodes.length, 1);
    assert.equal(run.steps.length, 2);
    assert.ok(run.endTime >= run.startTime);
  }
});

Deno.test("ExecutionInfo.createNew() starts empty and open", () => {
  const info = ExecutionInfo.createNew();
  assert.equal(info.status, "Open");
  assert.equal(info.answer, undefined);
  assert.equal(info.name, "");
  assert.equal(info.graphSerialization(), "[]");
});
