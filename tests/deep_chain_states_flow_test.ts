import assert from "node:assert/strict";
import { Flow, Routine, State, StateManager } from "../mod.ts";

const DEPTH = 100_000;

Deno.test("100,000 states, each putting the next, all run in order", async () => {
  await StateManager.reset();
  const manager = StateManager.instance({ loggingSetting: "NONE" });
  let ran = 0;
  const step = (i: number): State =>
    new State(`step ${i}`, () => {
      if (ran++ !== i) throw new Error(`step ${i} ran out of order`);
      if (i + 1 < DEPTH) manager.putState(step(i + 1));
    });
  try {
    manager.putState(step(0));
    const loop = manager.processStates();
    // Each state puts the next before it ends: idle only after the last.
    await manager.onIdle();
    await manager.signalStopping();
    await loop;
    assert.equal(ran, DEPTH);
    const requests = manager.info.requestHeap.insertionRequests;
    assert.equal(requests.length, DEPTH);
    assert.ok(requests.every((r) => r.status === "Completed"));
  } finally {
    await StateManager.reset();
  }
});

/** Emits to its own slot until its count runs out: a chain of activations. */
class Countdown extends Routine {
  constructor() {
    super();
    this.defineSlot("trigger", ({ n }) => {
      if ((n as number) > 0) this.emit("next", { n: (n as number) - 1 });
      else this.getExecutionContext()!.jobState.updateSharedData("bottom", true);
    });
    this.defineEvent("next", ["n"]);
  }
}

Deno.test("a flow whose activations emit in a chain 100,000 deep completes", async () => {
  const flow = new Flow({ flowId: "countdown" });
  flow.addRoutine(new Countdown(), "countdown");
  flow.connect("countdown", "next", "countdown", "trigger");
  const job = await flow.execute("countdown", { entryParams: { n: DEPTH } });
  assert.equal(await flow.waitForCompletion({ jobState: job }), true);
  assert.equal(job.status, "completed", JSON.stringify(job.error));
  assert.equal(job.getSharedData("bottom"), true);
  const info = flow.info(job);
  // Each activation is the child request of the one that emitted it.
  assert.equal(info.requestHeap.size, DEPTH + 1);
  assert.equal(info.requestHeap.insertionRequests.length, 1);
  const deepest = [...info.requestHeap.values()].at(-1)!;
  assert.deepEqual(deepest.input, [{ n: 0 }]);
  assert.equal(info.status, "Completed");
  // The history keeps its most recent records only.
  assert.equal(job.getExecutionHistory().length, job.maxHistorySize);
});
