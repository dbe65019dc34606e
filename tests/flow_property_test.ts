import assert from "node:assert/strict";
import fc from "fast-check";
import { Flow, JobState, Routine } from "../mod.ts";

function record(stage: string, n: number, self: Routine): void {
  const { jobState } = self.getExecutionContext()!;
  jobState.updateSharedData(stage, [
    ...jobState.getSharedData<number[]>(stage, []),
    n,
  ]);
}

async function ticks(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await Promise.resolve();
}

class Items extends Routine {
  constructor() {
    super();
    this.defineSlot("trigger", ({ count }) => {
      for (let n = 0; n < (count as number); n++) this.emit("item", { n });
    });
    this.defineEvent("item", ["n"]);
  }
}

class Stage extends Routine {
  constructor(name: string, pauseAt: number | null) {
    super();
    this.defineSlot("input", async ({ n }) => {
      await ticks((n as number) % 3);
      record(name, n as number, this);
      const { flow, jobState } = this.getExecutionContext()!;
      const done = jobState.getSharedData<number[]>(name, []).length;
      if (
        done === pauseAt && jobState.status === "running" &&
        jobState.pausePoints.length === 0
      ) {
        void flow.pause(jobState, { reason: "property" });
      }
      this.emit("done", { n });
    });
    this.defineEvent("done", ["n"]);
  }
}

function build(maxWorkers: number, pauseAt: number | null): Flow {
  const flow = new Flow({ flowId: "property", maxWorkers });
  flow.addRoutine(new Items(), "items");
  flow.addRoutine(new Stage("first", pauseAt), "first");
  flow.addRoutine(new Stage("second", null), "second");
  flow.connect("items", "item", "first", "input");
  flow.connect("first", "done", "second", "input");
  return flow;
}

Deno.test("Flow pause → save → load → resume runs every activation exactly once", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 12 }),
      async (count, maxWorkers, pauseAt) => {
        const flow = build(maxWorkers, pauseAt);
        const job = await flow.execute("items", { entryParams: { count } });
        assert.equal(await flow.waitForCompletion({ jobState: job }), true);
        let final = job;
        if (job.status === "paused") {
          final = JobState.fromJSON(JSON.parse(JSON.stringify(job)));
          const again = build(maxWorkers, null);
          await again.resume(final);
          await again.waitForCompletion({ jobState: final });
        } else {
          assert.ok(pauseAt > count, `never paused at ${pauseAt} of ${count}`);
        }
        assert.equal(final.status, "completed");
        assert.equal(final.jobId, job.jobId);
        const expected = Array.from({ length: count }, (_, n) => n);
        const sorted = (key: string) =>
          final.getSharedData<number[]>(key, []).toSorted((a, b) => a - b);
        assert.deepEqual(sorted("first"), expected);
        assert.deepEqual(sorted("second"), expected);
        assert.equal(final.getExecutionHistory("first").length, count);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("Flow.pause() of one execution leaves another running to completion", async () => {
  const flow = build(1, null);
  const paused = await flow.execute("items", { entryParams: { count: 3 } });
  const other = await flow.execute("items", { entryParams: { count: 3 } });
  await flow.pause(paused, { reason: "only this one" });
  await flow.waitForCompletion({ jobState: other });
  assert.equal(other.status, "completed");
  assert.deepEqual(other.getSharedData("second"), [0, 1, 2]);
  assert.equal(paused.status, "paused");
  assert.ok(paused.pendingActivations.length > 0);
  flow.cancel(paused, new Error("not needed"));
  assert.equal(paused.status, "cancelled");
  // Cancelling keeps what was pending, for inspection.
  assert.ok(paused.pendingActivations.length > 0);
});

Deno.test("JobState save → load round-trips whatever was recorded", async () => {
  const key = fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "toString", ""));
  const json = fc.jsonValue({ maxDepth: 3 });
  const record = fc.dictionary(key, json, { maxKeys: 4 });
  const operation = fc.oneof(
    fc.tuple(fc.constant("routine" as const), key, record),
    fc.tuple(fc.constant("history" as const), key, key, record),
    fc.tuple(fc.constant("shared" as const), key, json),
    fc.tuple(fc.constant("log" as const), record),
  );
  const dir = await Deno.makeTempDir({ prefix: "switchyard-jobstate-" });
  let saved = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 12 }), fc.boolean(), async (ops, file) => {
        const job = new JobState("flow", { maxHistorySize: 100 });
        for (const op of ops) {
          if (op[0] === "routine") job.updateRoutineState(op[1], op[2]);
          else if (op[0] === "history") job.recordExecution(op[1], op[2], op[3]);
          else if (op[0] === "shared") job.updateSharedData(op[1], op[2]);
          else job.appendToSharedLog(op[1]);
        }
        const before = job.toJSON();
        let loaded: JobState;
        if (file) {
          const path = `${dir}/job-${saved++}.json`;
          await job.save(path);
          loaded = await JobState.load(path);
        } else {
          loaded = JobState.fromJSON(JSON.parse(JSON.stringify(before)));
        }
        assert.deepEqual(loaded.toJSON(), before);
        // Live values load back exactly (-0 included).
        for (const op of ops) {
          if (op[0] === "shared") {
            assert.deepStrictEqual(loaded.getSharedData(op[1]), job.getSharedData(op[1]));
          }
          if (op[0] === "routine") {
            assert.deepStrictEqual(loaded.getRoutineState(op[1]), job.getRoutineState(op[1]));
          }
        }
      }),
      { numRuns: 200 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
