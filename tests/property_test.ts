import assert from "node:assert/strict";
import fc from "fast-check";
import { call, Flow, type Node, node, parseExecutorConfig, Routine, Runner } from "../mod.ts";
import { Forest, type ForestRecord, StampManager } from "../engine.ts";

interface Cell extends ForestRecord {
  readonly value: number;
}

Deno.test("Forest.timeMachine() agrees with a list-of-writes model", () => {
  const write = fc.record({ id: fc.constantFrom("a", "b", "c", "d"), value: fc.integer() });
  fc.assert(
    fc.property(fc.array(write, { maxLength: 60 }), fc.nat(70), (writes, step) => {
      const stamper = new StampManager();
      const forest = new Forest<Cell>();
      for (const { id, value } of writes) {
        forest.upsert({
          identifier: id,
          value,
          stamp: stamper.createStamp(`${id}=${value}`),
          parent: forest.get(id) ?? null,
        });
      }
      // Model: the last write to each id at or before `step` (write i has step i).
      const expected = new Map<string, number>();
      writes.slice(0, step + 1).forEach(({ id, value }) => expected.set(id, value));
      const past = forest.timeMachine(step);
      assert.deepEqual(
        new Map([...past.values()].map((r) => [r.identifier, r.value])),
        expected,
      );
      for (const id of expected.keys()) {
        assert.deepEqual(
          forest.history(id).map((r) => r.value),
          writes.filter((w) => w.id === id).map((w) => w.value),
        );
      }
    }),
  );
});

/** A random call tree: each entry is how many children a node has. */
const shape: fc.Arbitrary<number[][]> = fc.array(
  fc.array(fc.nat(3), { maxLength: 4 }),
  { minLength: 1, maxLength: 4 },
);

// Walks a shape: level i of the tree gives each node shape[i][k % len] children.
const tree: Node<[number[][], number], number> = node(
  async (levels: number[][], depth: number): Promise<number> => {
    const widths = levels[depth];
    if (!widths || widths.length === 0) return 1;
    const width = widths[depth % widths.length];
    const counts = await Promise.all(
      Array.from({ length: width }, () => call(tree, levels, depth + 1)),
    );
    return 1 + counts.reduce((a, b) => a + b, 0);
  },
  { name: "tree" },
);

Deno.test("ExecutionInfo.getInfo() sub-forests are closed under parent and child", async () => {
  await fc.assert(
    fc.asyncProperty(
      shape,
      fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      async (levels, picks) => {
        await using runner = new Runner({ loggingSetting: "NONE" });
        const info = await runner.run(tree, levels, 0);
        const all = [...info.requestHeap.values()];
        assert.equal(info.answer, all.length);
        const chosen = [...new Set(picks.map((p) => all[p % all.length].identifier))];
        const sub = info.getInfo(chosen);
        const ids = new Set([...sub.requestHeap.values()].map((r) => r.identifier));
        const bySink = new Map(all.map((r) => [r.sinkId, r]));
        for (const id of ids) {
          const request = info.requestHeap.get(id)!;
          // Closed under children: every child of an included request is included.
          for (const child of info.requestHeap.children(request.sinkId)) {
            assert.ok(ids.has(child.identifier));
          }
          // Closed under parents up to a chosen root.
          if (!chosen.includes(id)) {
            assert.ok(ids.has(bySink.get(request.sourceId!)!.identifier));
          }
          assert.ok(sub.nodeHeap.has(request.sinkId));
        }
        assert.equal(sub.allStamps.length, 2 * ids.size);
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("ExecutionInfo.graphSerialization() is valid JSON whatever the values", async () => {
  const weird = fc.oneof(
    fc.anything({
      withBigInt: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
    }),
    fc.constant(() => 1),
    fc.constant(Symbol("s")),
    fc.constant(
      new (class Widget {
        size = 2;
      })(),
    ),
    fc.constant((() => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    })()),
  );
  await fc.assert(
    fc.asyncProperty(weird, weird, async (input, output) => {
      await using runner = new Runner({ loggingSetting: "NONE" });
      await runner.run(node(async (_x: unknown) => output, { name: "echo" }), input);
      const text = runner.info.graphSerialization();
      assert.ok(text.length > 2);
      const [run] = JSON.parse(text);
      assert.equal(run.name, "echo");
      assert.equal(run.edges.length, 1);
    }),
    { numRuns: 150 },
  );
});

Deno.test("parseExecutorConfig() either accepts or names the bad field", () => {
  const fields = [
    "timeout",
    "endOnError",
    "loggingSetting",
    "logFile",
    "subscriber",
    "runIdentifier",
    "saveState",
    "stateDir",
    "workers",
  ];
  const config = fc.dictionary(
    fc.oneof(fc.constantFrom(...fields), fc.string()),
    fc.oneof(fc.anything(), fc.constantFrom(-1, 0, 1, "REGULAR", "LOUD", true, {}, () => {})),
  );
  fc.assert(
    fc.property(config, (input) => {
      try {
        parseExecutorConfig(input as never);
      } catch (error) {
        assert.ok(error instanceof TypeError, String(error));
        assert.match(error.message, /^Cannot create ExecutorConfig as '.*' must/);
      }
    }),
    { numRuns: 500 },
  );
  for (const bad of [null, 42, "config", [1]]) {
    assert.throws(() => parseExecutorConfig(bad as never), TypeError);
  }
});

Deno.test("Flow.connect() accepts a valid wiring or throws a named error", () => {
  class Relay extends Routine {
    constructor() {
      super();
      this.defineSlot("trigger", () => this.emit("output", { data: 1 }));
      this.defineSlot("input", () => {});
      this.defineEvent("output", ["data"]);
    }
  }
  const flow = new Flow({ flowId: "fuzz" });
  flow.addRoutine(new Relay(), "a");
  flow.addRoutine(new Relay(), "b");
  const name = fc.oneof(
    fc.constantFrom("a", "b", "output", "input", "trigger", "", "__proto__", "constructor"),
    fc.string(),
    fc.anything(),
  );
  fc.assert(
    fc.property(name, name, name, name, (src, event, dst, slot) => {
      try {
        flow.connect(src as string, event as string, dst as string, slot as string);
      } catch (error) {
        assert.ok(error instanceof TypeError || error instanceof RangeError, String(error));
        assert.match((error as Error).message, /^Cannot connect/);
      }
    }),
    { numRuns: 500 },
  );
});
