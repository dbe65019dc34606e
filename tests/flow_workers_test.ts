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

Deno.test("A program whose flow job used workers and paused ends by itself; the job resumes elsewhere", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-pause-workers-" });
  const path = `${dir}/job.json`;
  const fixture = new URL("./fixtures/pause_worker_flow.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-worker-options", fixture, path],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Bounded: a process still alive after a minute is kept alive by the paused job.
  const bound = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const { code, signal, stdout, stderr } = await child.output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(signal, null, `killed: the paused job kept the process alive\n${err}`);
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), { status: "paused", seen: [3] });
    const { buildFlow } = await import("./fixtures/pause_worker_flow.ts");
    const { JobState } = await import("../mod.ts");
    const flow = buildFlow();
    const job = await flow.resume(await JobState.load(path));
    assert.equal(await flow.waitForCompletion({ jobState: job, timeout: 20_000 }), true);
    assert.equal(job.status, "completed", JSON.stringify(job.error));
    assert.deepEqual(job.getSharedData("seen"), [3, 6]);
    assert.equal(job.getSharedData("after"), 18);
  } finally {
    clearTimeout(bound);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A paused job whose routine used workers resumes in the same process and calls workers again", async () => {
  const { buildFlow } = await import("./fixtures/pause_worker_flow.ts");
  const flow = buildFlow();
  const job = await flow.execute("triple", { entryParams: { items: [1, 2] } });
  assert.equal(await flow.waitForCompletion({ jobState: job, timeout: 20_000 }), true);
  assert.equal(job.status, "paused", JSON.stringify(job.error));
  await flow.resume(job);
  assert.equal(await flow.waitForCompletion({ jobState: job, timeout: 20_000 }), true);
  assert.equal(job.status, "completed", JSON.stringify(job.error));
  assert.deepEqual(job.getSharedData("seen"), [3, 6]);
  assert.equal(job.getSharedData("after"), 18);
  const names = [...flow.info(job).nodeHeap.values()].map((n) => n.name);
  // Two calls before the pause, one after the resume.
  assert.equal(names.filter((n) => n === "triple").length, 3);
});
