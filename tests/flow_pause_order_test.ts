import assert from "node:assert/strict";
import { Flow, Routine } from "../mod.ts";

// Under `deno test`, clearTimeout() runs queued microtasks: a pause that
// cleared its timer before changing the status let the activation emitted
// just before it start, which a program outside tests never sees.
Deno.test("A pause from inside a slot keeps the activation emitted just before it pending", async () => {
  const ran: string[] = [];
  class Start extends Routine {
    constructor() {
      super();
      this.defineEvent("next");
      this.defineSlot("trigger", () => {
        const { flow, jobState } = this.getExecutionContext()!;
        this.emit("next");
        void flow.pause(jobState, { reason: "right after the emit" });
      });
    }
  }
  class Next extends Routine {
    constructor() {
      super();
      this.defineSlot("input", () => void ran.push("next"));
    }
  }
  for (const executionTimeout of [undefined, 60_000]) {
    ran.length = 0;
    const flow = new Flow({ flowId: "pause-order", executionTimeout });
    flow.addRoutine(new Start(), "start");
    flow.addRoutine(new Next(), "next");
    flow.connect("start", "next", "next", "input");
    const job = await flow.execute("start");
    await flow.waitForCompletion({ jobState: job });
    assert.equal(job.status, "paused");
    assert.deepEqual(ran, []);
    assert.deepEqual(job.pendingActivations.map((a) => a.routineId), ["next"]);
    await flow.resume(job);
    await flow.waitForCompletion({ jobState: job });
    assert.equal(job.status, "completed");
    assert.deepEqual(ran, ["next"]);
  }
});
