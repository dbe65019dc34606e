import assert from "node:assert/strict";
import { ErrorHandler, Flow, JobState, Routine } from "../mod.ts";

class Stores extends Routine {
  constructor(state: Record<string, unknown>, fail = false) {
    super();
    this.defineSlot("trigger", () => {
      const { jobState, routineId } = this.getExecutionContext()!;
      jobState.updateRoutineState(routineId, state);
      if (fail) throw new RangeError("it broke");
    });
  }
}

async function runOne(routine: Routine, handler?: ErrorHandler): Promise<JobState> {
  if (handler) routine.setErrorHandler(handler);
  const flow = new Flow({ flowId: "own-state" });
  flow.addRoutine(routine, "r");
  const job = await flow.execute("r");
  assert.equal(await flow.waitForCompletion({ jobState: job, timeout: 5000 }), true);
  return job;
}

Deno.test("A routine's state holds only what the routine stored, 'status' included", async () => {
  const job = await runOne(new Stores({ status: "success" }));
  assert.equal(job.status, "completed");
  assert.deepEqual(job.getRoutineState("r"), { status: "success" });
  const tutorial = await runOne(new Stores({ last_processed: "test", processed: true }));
  assert.deepEqual(tutorial.getRoutineState("r"), { last_processed: "test", processed: true });
  // The engine's own bookkeeping is kept beside it.
  assert.equal(tutorial.getRoutineStatus("r")?.status, "completed");
  assert.equal(new JobState("f").getRoutineStatus("r"), undefined);
  // And it survives a save.
  const loaded = JobState.fromJSON(JSON.parse(JSON.stringify(job)));
  assert.deepEqual(loaded.getRoutineState("r"), { status: "success" });
  assert.equal(loaded.getRoutineStatus("r")?.status, "completed");
});

Deno.test("A tolerated failure is told apart from a fatal one", async () => {
  const fatal = await runOne(new Stores({ status: "mine" }, true));
  assert.equal(fatal.status, "failed");
  assert.equal(fatal.getRoutineStatus("r")?.status, "failed");
  assert.equal(fatal.getRoutineStatus("r")?.lastError, "it broke");
  assert.deepEqual(fatal.getRoutineState("r"), { status: "mine" });
  const continued = await runOne(
    new Stores({}, true),
    new ErrorHandler({ strategy: "continue" }),
  );
  assert.equal(continued.status, "completed");
  assert.equal(continued.getRoutineStatus("r")?.status, "continued");
  const skipped = await runOne(new Stores({}, true), new ErrorHandler({ strategy: "skip" }));
  assert.equal(skipped.getRoutineStatus("r")?.status, "skipped");
  const spent = await runOne(
    new Stores({}, true),
    new ErrorHandler({ strategy: "retry", maxRetries: 1, retryDelay: 1, critical: false }),
  );
  assert.equal(spent.status, "completed");
  assert.deepEqual(
    { ...spent.getRoutineStatus("r") },
    { status: "continued", attempts: 2, lastError: "it broke" },
  );
});

Deno.test("Every failure leaves an error record in the history under its routine id", async () => {
  const job = await runOne(
    new Stores({}, true),
    new ErrorHandler({ strategy: "retry", maxRetries: 1, retryDelay: 1, critical: false }),
  );
  const history = job.getExecutionHistory("r");
  assert.deepEqual(
    history.map((r) => [r.kind, r.eventName, r.data.action, r.data.attempt]),
    [["error", "error", "retry", 1], ["error", "error", "continue", 2]],
  );
  assert.deepEqual(history[0].data.error, { name: "RangeError", message: "it broke" });
  assert.equal(history[0].data.slot, "trigger");
  const fatal = await runOne(new Stores({}, true));
  assert.deepEqual(fatal.getExecutionHistory("r").map((r) => [r.kind, r.data.action]), [
    ["error", "stop"],
  ]);
  // Emits stay emits.
  const emits = new JobState("f");
  assert.equal(emits.recordExecution("a", "out", {}).kind, "emit");
});
