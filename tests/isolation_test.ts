import assert from "node:assert/strict";
import { call, getContext, node, putContext, Runner } from "../mod.ts";

const leaf = node(async (runIndex: number, i: number) => {
  await Promise.resolve();
  putContext(`leaf-${i}`, runIndex);
  return getContext<number>("owner") * 1000 + i;
}, { name: "leaf" });

const root = node(async (runIndex: number) => {
  const values = await Promise.all([0, 1, 2].map((i) => call(leaf, runIndex, i)));
  await new Promise((resolve) => setTimeout(resolve, runIndex % 3));
  return { values, seen: [0, 1, 2].map((i) => getContext(`leaf-${i}`)) };
}, { name: "root" });

Deno.test("Runner keeps 1,000 concurrent runs on one process isolated", async () => {
  const runners = Array.from(
    { length: 1000 },
    (_, i) => new Runner({ loggingSetting: "NONE", runIdentifier: `run-${i}` }, { owner: i }),
  );
  try {
    const infos = await Promise.all(runners.map((runner, i) => runner.run(root, i)));
    infos.forEach((info, i) => {
      assert.deepEqual(info.answer, {
        values: [i * 1000, i * 1000 + 1, i * 1000 + 2],
        seen: [i, i, i],
      });
      assert.equal(info.requestHeap.size, 4);
      const rootRequest = info.requestHeap.insertionRequests[0];
      assert.deepEqual(rootRequest.input, [i]);
      for (const child of info.requestHeap.children(rootRequest.sinkId)) {
        assert.equal(child.input[0], i);
      }
    });
  } finally {
    await Promise.all(runners.map((runner) => runner.shutdown()));
  }
});
