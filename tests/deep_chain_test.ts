import assert from "node:assert/strict";
import { call, type Node, node, Runner } from "../mod.ts";

const DEPTH = 100_000;

// Each level calls the next before its first await, so without a bound on
// nested starts every level would add frames to one stack.
const chain: Node<[number], number> = node(async (n: number): Promise<number> => {
  if (n === 0) return 0;
  return (await call(chain, n - 1)) + 1;
}, { name: "chain" });

Deno.test("a call chain 100,000 levels deep completes with the right answer", async () => {
  await using runner = new Runner({ loggingSetting: "NONE" });
  const info = await runner.run(chain, DEPTH);
  assert.equal(info.answer, DEPTH);
  assert.equal(info.status, "Completed");
  assert.equal(info.requestHeap.size, DEPTH + 1);
  const deepest = [...info.requestHeap.values()].at(-1)!;
  assert.deepEqual(deepest.input, [0]);
  assert.equal(deepest.output, 0);
});

const syncChain: Node<[number], number> = node((n: number): number | Promise<number> => {
  if (n === 0) return 0;
  return call(syncChain, n - 1).then((x) => x + 1);
}, { name: "syncChain" });

Deno.test("a chain of synchronous nodes returning promises 100,000 deep completes", async () => {
  await using runner = new Runner({ loggingSetting: "NONE" });
  const info = await runner.run(syncChain, DEPTH);
  assert.equal(info.answer, DEPTH);
});

Deno.test("a failure at the bottom of a 100,000-deep chain reaches the top", async () => {
  const failing: Node<[number], number> = node(async (n: number): Promise<number> => {
    if (n === 0) throw new RangeError("bottom");
    return (await call(failing, n - 1)) + 1;
  }, { name: "failing" });
  await using runner = new Runner({ loggingSetting: "NONE" });
  await assert.rejects(runner.run(failing, DEPTH), { name: "RangeError", message: "bottom" });
  assert.equal(runner.info.status, "Failed");
  const failed = [...runner.info.requestHeap.values()].filter((r) => r.status === "Failed");
  assert.equal(failed.length, DEPTH + 1);
});
