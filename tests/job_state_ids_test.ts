import assert from "node:assert/strict";
import { JobState, JobStateLoadError, type PendingActivation } from "../mod.ts";
import { buildFlow } from "./fixtures/resume_flow.ts";

async function pausedJob(): Promise<JobState> {
  const flow = buildFlow();
  const job = await flow.execute("numbers", { entryParams: { count: 6 } });
  await flow.waitForCompletion({ jobState: job });
  assert.equal(job.status, "paused");
  return job;
}

Deno.test("JobState.load() refuses duplicate pending activation ids, naming the id", async () => {
  const job = await pausedJob();
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/job.json`;
    await job.save(path);
    const text = await Deno.readTextFile(path);
    const first = job.pendingActivations[0].id;
    const second = job.pendingActivations[1].id;
    await Deno.writeTextFile(path, text.replaceAll(second, first));
    await assert.rejects(
      () => JobState.load(path),
      (error: unknown) =>
        error instanceof JobStateLoadError &&
        error.message.includes(`'${first}'`) && /unique|duplicate/.test(error.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Flow.resume() refuses pending activations that share an id, naming it", async () => {
  const job = await pausedJob();
  const copy = JobState.fromJSON(JSON.parse(JSON.stringify(job)));
  // A duplicate slipped in after loading (the queue is only typed read-only).
  const queue = copy.pendingActivations as PendingActivation[];
  queue.push({ ...queue[0] });
  await assert.rejects(
    () => buildFlow().resume(copy),
    (error: unknown) =>
      error instanceof Error && error.message.includes(`'${queue[0].id}'`) &&
      /unique/.test(error.message),
  );
  assert.equal(copy.status, "paused");
});

Deno.test("A flow engine error while dispatching fails the job instead of escaping", async () => {
  const job = await pausedJob();
  const copy = JobState.fromJSON(JSON.parse(JSON.stringify(job)));
  // An entry whose payload cannot be read slipped in after loading (the
  // queue is only typed read-only): dispatching it throws inside the engine.
  const queue = copy.pendingActivations as PendingActivation[];
  const broken = { ...queue[0], id: "unreadable" };
  Object.defineProperty(broken, "data", {
    get() {
      throw new Error("unreadable activation");
    },
  });
  queue.push(broken);
  const unhandled: unknown[] = [];
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    unhandled.push(event.reason);
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    unhandled.push(event.error);
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  globalThis.addEventListener("error", onError);
  try {
    const flow = buildFlow();
    await flow.resume(copy);
    await flow.waitForCompletion({ jobState: copy, timeout: 5000 });
    // Let any stray rejection surface.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(unhandled, []);
    assert.equal(copy.status, "failed");
    assert.match(copy.error?.message ?? "", /unreadable activation/);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
    globalThis.removeEventListener("error", onError);
  }
});

Deno.test("An error handler whose 'retryable' predicate throws fails the job, nothing escapes", async () => {
  const { ErrorHandler, Flow, Routine } = await import("../mod.ts");
  class Failing extends Routine {
    constructor() {
      super();
      this.defineSlot("trigger", () => {
        throw new Error("slot failed");
      });
    }
  }
  const unhandled: unknown[] = [];
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    unhandled.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    const flow = new Flow({ flowId: "predicate" });
    const routine = new Failing();
    routine.setErrorHandler(
      new ErrorHandler({
        strategy: "retry",
        retryable: () => {
          throw new Error("predicate failed");
        },
      }),
    );
    flow.addRoutine(routine, "failing");
    const job = await flow.execute("failing");
    assert.equal(await flow.waitForCompletion({ jobState: job, timeout: 5000 }), true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(unhandled, []);
    assert.equal(job.status, "failed");
    assert.equal(job.error?.message, "predicate failed");
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
});
