import assert from "node:assert/strict";
import { type ErrorHandler, Flow, Routine } from "../mod.ts";
import { Probe } from "./fixtures/flow_routines.ts";

Deno.test("Routine.defineSlot() and defineEvent() reject bad and taken names", () => {
  const routine = new Routine();
  routine.defineSlot("input", () => {});
  routine.defineEvent("output", ["data"]);
  assert.deepEqual(routine.slots, ["input"]);
  assert.deepEqual(routine.events, ["output"]);
  assert.deepEqual(routine.getEventParams("output"), ["data"]);
  assert.throws(() => routine.defineSlot("input", () => {}), /must be new/);
  assert.throws(() => routine.defineEvent("output"), /must be new/);
  assert.throws(
    () => routine.defineSlot("", () => {}),
    /'name' must be a non-empty string: current value is ""/,
  );
  assert.throws(
    () => routine.defineSlot("x", 3 as never),
    /'handler' must be a function: current value is 3/,
  );
});

Deno.test("Routine.emit() outside a flow activation is an error", () => {
  const routine = new Probe(() => {}, ["output"]);
  assert.equal(routine.getExecutionContext(), null);
  assert.throws(
    () => routine.emit("output", {}),
    /Cannot emit event 'output' of routine 'Probe' as no activation of a flow is running/,
  );
  assert.throws(
    () => routine.emit("nope", {}),
    /'event' must be one of 'output': current value is "nope"/,
  );
  assert.throws(() => routine.sendOutput("x", 1), /no activation/);
});

Deno.test("Routine.emit() rejects a payload that is not an object", async () => {
  const errors: string[] = [];
  const flow = new Flow({ flowId: "payload" });
  flow.addRoutine(
    new Probe((_, self) => {
      try {
        self.emit("output", [1] as never);
      } catch (error) {
        errors.push((error as Error).message);
      }
    }, ["output"]),
    "probe",
  );
  const job = await flow.execute("probe");
  await flow.waitForCompletion({ jobState: job });
  assert.equal(job.status, "completed");
  assert.match(
    errors[0],
    /'payload' must be a plain object: current value is \[1\]/,
  );
  assert.equal(job.getExecutionHistory().length, 0);
});

Deno.test("Routine.getExecutionContext() follows the activation across awaits", async () => {
  const seen: string[] = [];
  const flow = new Flow({ flowId: "ctx" });
  const probe = new Probe(async ({ tag }, self) => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    const context = self.getExecutionContext()!;
    assert.equal(context.flow, flow);
    assert.equal(context.routineId, "probe");
    seen.push(`${tag}:${context.jobState.getSharedData("tag")}`);
  });
  flow.addRoutine(probe, "probe");
  const a = await flow.execute("probe", { entryParams: { tag: "a" } });
  const b = await flow.execute("probe", { entryParams: { tag: "b" } });
  a.updateSharedData("tag", "a");
  b.updateSharedData("tag", "b");
  await flow.waitForCompletion();
  assert.deepEqual(seen.sort(), ["a:a", "b:b"]);
});

Deno.test("Routine.setAsCritical() retries, then fails the job", async () => {
  const routine = new Routine();
  routine.setAsCritical({ maxRetries: 2, retryDelay: 5, retryBackoff: 3 });
  const handler = routine.errorHandler!;
  assert.equal(handler.strategy, "retry");
  assert.equal(handler.critical, true);
  assert.deepEqual(handler.decide(new Error(), 2), {
    action: "retry",
    delay: 15,
  });
  assert.deepEqual(handler.decide(new Error(), 3), { action: "stop" });
  routine.setAsOptional();
  assert.deepEqual(routine.errorHandler!.decide(new Error(), 1), {
    action: "continue",
  });
  assert.throws(
    () => routine.setErrorHandler({} as ErrorHandler),
    /'handler' must be an ErrorHandler or null/,
  );
  routine.setErrorHandler(null);
  assert.equal(routine.errorHandler, null);
  await Promise.resolve();
});
