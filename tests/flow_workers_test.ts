import assert from "node:assert/strict";
import { call, Flow, node, Routine } from "../mod.ts";

/** Runs in the worker pool, shipped as source. */
const square = node(function square(x: number) {
  return x * x;
}, { worker: true });

/** A node with a queue: without `remote` it runs in the local worker pool. */
export const cube = node(function cube(x: number) {
  return x * x * x;
}, { worker: import.meta.url, queue: "flow-cubes" });

class Powers extends Routine {
  constructor() {
    super();
    this.defineSlot("trigger", async ({ n }) => {
      const x = n as number;
      const { jobState } = this.getExecutionContext()!;
      jobState.updateSharedData("square", await call(square, x));
      // After an await in a worker call, the routine still knows its activation.
      this.emit("done", { x, cube: await call(cube, x) });
    });
    this.defineEvent("done", ["x", "cube"]);
  }
}

class Keep extends Routine {
  constructor() {
    super();
    this.defineSlot("input", ({ cube }) => {
      this.getExecutionContext()!.jobState.updateSharedData("cube", cube);
    });
  }
}

Deno.test("A routine calls a worker node and a queue node; both run in workers and are recorded", async () => {
  const flow = new Flow({ flowId: "powers" });
  flow.addRoutine(new Powers(), "powers");
  flow.addRoutine(new Keep(), "keep");
  flow.connect("powers", "done", "keep", "input");
  const job = await flow.execute("powers", { entryParams: { n: 3 } });
  assert.equal(await flow.waitForCompletion({ jobState: job, timeout: 20_000 }), true);
  assert.equal(job.status, "completed", JSON.stringify(job.error));
  assert.equal(job.getSharedData("square"), 9);
  assert.equal(job.getSharedData("cube"), 27);
  const info = flow.info(job);
  const nodes = [...info.nodeHeap.values()].map((n) => [n.name, n.nodeType]);
  assert.deepEqual(nodes, [
    ["powers.trigger", "routine"],
    ["square", "worker"],
    // Without `remote` a queue node runs in the local pool, and is recorded so.
    ["cube", "worker"],
    ["keep.input", "routine"],
  ]);
  assert.equal(info.status, "Completed");
});
