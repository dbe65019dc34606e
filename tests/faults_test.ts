import assert from "node:assert/strict";
import {
  call,
  currentSignal,
  GlobalTimeoutError,
  type Node,
  node,
  RequestCancelledError,
  Runner,
} from "../mod.ts";

/** Leaves that never finish on their own; they count the aborts they see. */
function stuckTree(aborts: { count: number }, reached: PromiseWithResolvers<void>, leaves: number) {
  let started = 0;
  const leaf = node(() =>
    new Promise<never>(() => {
      currentSignal().addEventListener("abort", () => aborts.count++);
      if (++started === leaves) reached.resolve();
    }), { name: "leaf" });
  const branch: Node<[number], unknown> = node(async (depth: number) => {
    if (depth === 0) return await call(leaf);
    return await Promise.all([call(branch, depth - 1), call(branch, depth - 1)]);
  }, { name: "branch" });
  return branch;
}

Deno.test("Runner timeout in the middle of a nested tree cancels every open request", async () => {
  const aborts = { count: 0 };
  const reached = Promise.withResolvers<void>();
  const branch = stuckTree(aborts, reached, 8);
  await using runner = new Runner({ loggingSetting: "NONE", timeout: 30 });
  await assert.rejects(runner.run(branch, 3), GlobalTimeoutError);
  await reached.promise;
  const requests = [...runner.info.requestHeap.values()];
  assert.equal(requests.length, 1 + 2 + 4 + 8 + 8);
  assert.ok(requests.every((r) => r.status === "Cancelled"));
  assert.ok(requests.every((r) => runner.info.requestHeap.history(r.identifier).length === 2));
  assert.equal(runner.info.allStamps.length, 2 * requests.length);
  assert.equal(aborts.count, 8);
  assert.equal(runner.coordinator.state.openCount, 0);
});

Deno.test("RTState.cancel() of a mid-tree request cancels only its subtree", async () => {
  const aborts = { count: 0 };
  const reached = Promise.withResolvers<void>();
  const branch = stuckTree(aborts, reached, 4);
  const top = node(async () => {
    const results = await Promise.allSettled([call(branch, 1), call(branch, 1)]);
    return results.map((r) => r.status);
  }, { name: "top" });
  await using runner = new Runner({ loggingSetting: "NONE" });
  const running = runner.run(top);
  await reached.promise;
  const branches = runner.info.requestHeap.children(
    runner.info.requestHeap.insertionRequests[0].sinkId,
  );
  const cancelled = runner.rtState.cancel(branches[0].sinkId); // by node id
  assert.equal(cancelled.length, 1 + 2 + 2);
  assert.equal(aborts.count, 2);
  assert.equal(runner.info.requestHeap.get(branches[1].identifier)?.status, "Open");
  runner.rtState.cancel(branches[1].identifier);
  assert.deepEqual((await running).answer, ["rejected", "rejected"]);
  assert.ok(
    runner.info.requestHeap.get(branches[0].identifier)?.output instanceof RequestCancelledError,
  );
  assert.deepEqual(runner.rtState.cancel(branches[0].identifier), []);
});

Deno.test("Runner completes when its subscriber throws, rejects or hangs", async () => {
  for (
    const subscriber of [
      () => {
        throw new Error("sync subscriber failure");
      },
      () => Promise.reject(new Error("async subscriber failure")),
      () => new Promise<void>(() => {}),
    ]
  ) {
    const child = node(async (x: number) => x + 1, { name: "child" });
    const parent = node(async () => await call(child, 1), { name: "parent" });
    await using runner = new Runner({ loggingSetting: "NONE", subscriber });
    assert.equal((await runner.run(parent)).answer, 2);
    assert.equal(runner.info.status, "Completed");
  }
});

Deno.test("A cancelled node cannot start new calls", async () => {
  const gate = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const child = node(async () => "late", { name: "child" });
  let lateCall: unknown;
  const stubborn = node(async () => {
    gate.resolve();
    await release.promise;
    lateCall = await call(child).catch((e) => e);
  }, { name: "stubborn" });
  await using runner = new Runner({ loggingSetting: "NONE" });
  const running = runner.run(stubborn);
  await gate.promise;
  runner.rtState.cancel(runner.info.requestHeap.insertionRequests[0].identifier);
  await assert.rejects(running, RequestCancelledError);
  release.resolve();
  // The node's own code goes on; its late call is refused and not recorded.
  while (lateCall === undefined) await new Promise((r) => setTimeout(r, 1));
  assert.ok(lateCall instanceof RequestCancelledError);
  assert.equal(runner.info.requestHeap.size, 1);
});
