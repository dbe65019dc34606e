import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import {
  currentSignal,
  ErrorHandler,
  Flow,
  type JobState,
  type PendingActivation,
} from "../mod.ts";
import { DataCollector, DataSource, Probe } from "./fixtures/flow_routines.ts";

function sourceToCollector(flowId = "shared_data_flow"): Flow {
  const flow = new Flow({ flowId });
  flow.addRoutine(new DataSource(), "source");
  flow.addRoutine(new DataCollector(), "collector");
  flow.connect("source", "output", "collector", "input");
  return flow;
}

Deno.test("Flow.execute() returns a running JobState that completes", async () => {
  const flow = sourceToCollector();
  const job = await flow.execute("source", { entryParams: { count: 3 } });
  assert.equal(job.status, "running");
  assert.equal(job.flowId, "shared_data_flow");
  assert.equal(await flow.waitForCompletion({ timeout: 5000 }), true);
  assert.equal(job.status, "completed");
  assert.deepEqual(job.getSharedData("collected"), ["a", "b", "c"]);
  assert.deepEqual(
    job.getExecutionHistory().map((r) => [r.routineId, r.eventName, r.data]),
    [
      ["source", "output", { data: "a" }],
      ["source", "output", { data: "b" }],
      ["source", "output", { data: "c" }],
    ],
  );
  assert.equal(job.getRoutineStatus("collector")?.status, "completed");
});

Deno.test("Flow.execute() passes entryParams to the trigger slot", async () => {
  const flow = sourceToCollector();
  const job = await flow.execute("source", {
    entryParams: { items: [1, 2] },
  });
  await flow.waitForCompletion({ jobState: job });
  assert.deepEqual(job.getSharedData("collected"), [1, 2]);
});

Deno.test("Flow.info() tracks each activation as a request of a routine node", async () => {
  const flow = sourceToCollector();
  const job = await flow.execute("source");
  await flow.waitForCompletion({ jobState: job });
  const info = flow.info(job);
  assert.equal(info.status, "Completed");
  assert.equal(info.requestHeap.size, 4);
  const nodes = [...info.nodeHeap.values()];
  assert.ok(nodes.every((n) => n.nodeType === "routine"));
  assert.deepEqual(nodes.map((n) => n.name).sort(), [
    "collector.input",
    "collector.input",
    "collector.input",
    "source.trigger",
  ]);
  const [root] = info.requestHeap.insertionRequests;
  assert.equal(info.nodeHeap.get(root.sinkId)?.name, "source.trigger");
  const children = info.requestHeap.children(root.sinkId);
  assert.deepEqual(children.map((r) => r.input[0]), [
    { data: "a" },
    { data: "b" },
    { data: "c" },
  ]);
  assert.ok(children.every((r) => r.status === "Completed"));
  const [run] = JSON.parse(info.graphSerialization());
  assert.equal(run.edges.length, 4);
});

Deno.test("Flow.connect() rejects unknown routines, events and slots", () => {
  const flow = sourceToCollector();
  assert.throws(
    () => flow.connect("nope", "output", "collector", "input"),
    /'srcId' must be a routine of flow 'shared_data_flow' \('source', 'collector'\): current value is "nope"/,
  );
  assert.throws(
    () => flow.connect("source", "output", "nope", "input"),
    /'dstId' must be a routine .*current value is "nope"/,
  );
  assert.throws(
    () => flow.connect("source", "missing", "collector", "input"),
    /'event' must be an event of routine 'source' \('output'\): current value is "missing"/,
  );
  assert.throws(
    () => flow.connect("source", "output", "collector", "missing"),
    /'slot' must be a slot of routine 'collector' \('input'\): current value is "missing"/,
  );
  assert.throws(
    () => flow.connect("source", "output", "collector", "input"),
    /connected already/,
  );
});

Deno.test("Flow.addRoutine() rejects taken ids and routines added twice", () => {
  const flow = new Flow({ flowId: "f" });
  const source = new DataSource();
  assert.equal(flow.addRoutine(source), "DataSource");
  assert.equal(flow.addRoutine(new DataSource()), "DataSource_2");
  assert.throws(() => flow.addRoutine(source, "other"), /added already/);
  assert.throws(
    () => flow.addRoutine(new DataSource(), "DataSource"),
    /'id' must be unused: current value is "DataSource"/,
  );
  assert.throws(
    () => flow.addRoutine({} as DataSource, "x"),
    /'routine' must be a Routine/,
  );
});

Deno.test("Flow.execute() rejects an entry without a trigger slot", async () => {
  const flow = sourceToCollector();
  await assert.rejects(
    async () => await flow.execute("collector"),
    /'entryId' must name a routine with a 'trigger' slot: routine 'collector' has 'input'/,
  );
  await assert.rejects(
    async () => await flow.execute("ghost"),
    /'entryId' must be a routine of flow/,
  );
  await assert.rejects(
    async () =>
      await flow.execute("source", {
        entryParams: 5 as unknown as Record<string, unknown>,
      }),
    /'entryParams' must be a plain object: current value is 5/,
  );
});

Deno.test("Flow keeps two concurrent executions apart", async () => {
  const gate = Promise.withResolvers<void>();
  let started = 0;
  const bothStarted = Promise.withResolvers<void>();
  const probe = new Probe(async ({ data }, self) => {
    const before = self.getExecutionContext()!;
    if (++started === 4) bothStarted.resolve();
    await gate.promise;
    const after = self.getExecutionContext()!;
    assert.equal(after.jobState, before.jobState);
    after.jobState.updateSharedData("seen", [
      ...after.jobState.getSharedData<unknown[]>("seen", []),
      data,
    ]);
    after.jobState.updateRoutineState(after.routineId, {
      count: ((after.jobState.getRoutineState(after.routineId)?.count ??
        0) as number) + 1,
    });
  });
  const flow = new Flow({ flowId: "iso" });
  flow.addRoutine(new DataSource(), "source");
  flow.addRoutine(probe, "probe");
  flow.connect("source", "output", "probe", "input");
  const one = await flow.execute("source", { entryParams: { items: [1, 2] } });
  const two = await flow.execute("source", { entryParams: { items: [3, 4] } });
  await bothStarted.promise;
  gate.resolve();
  assert.equal(await flow.waitForCompletion({ timeout: 5000 }), true);
  assert.deepEqual(one.getSharedData("seen"), [1, 2]);
  assert.deepEqual(two.getSharedData("seen"), [3, 4]);
  assert.equal(one.getRoutineState("probe")?.count, 2);
  assert.equal(two.getRoutineState("probe")?.count, 2);
  assert.notEqual(one.jobId, two.jobId);
  assert.notEqual(flow.info(one), flow.info(two));
  assert.equal(flow.info(one).requestHeap.size, 3);
  assert.deepEqual(Object.keys(probe), []);
});

Deno.test("Flow stops the job when a routine fails under the default handler", async () => {
  const ran: unknown[] = [];
  const flow = new Flow({ flowId: "stop", maxWorkers: 1 });
  flow.addRoutine(new DataSource(), "source");
  flow.addRoutine(
    new Probe(({ data }) => {
      ran.push(data);
      if (data === "a") throw new TypeError("bad a");
    }),
    "probe",
  );
  flow.connect("source", "output", "probe", "input");
  const job = await flow.execute("source");
  assert.equal(await flow.waitForCompletion({ timeout: 5000 }), true);
  assert.equal(job.status, "failed");
  assert.deepEqual(job.error, { name: "TypeError", message: "bad a" });
  assert.deepEqual(ran, ["a"]);
  assert.equal(job.getRoutineStatus("probe")?.status, "failed");
  assert.equal(job.getRoutineStatus("probe")?.lastError, "bad a");
  // Nothing recorded is lost: the activations never run stay in the JobState.
  assert.deepEqual(job.pendingActivations.map((a) => a.data), [
    { data: "b" },
    { data: "c" },
  ]);
  assert.equal(flow.info(job).status, "Completed");
});

for (const strategy of ["continue", "skip"] as const) {
  Deno.test(`Flow goes on after a failure under "${strategy}"`, async () => {
    const done: unknown[] = [];
    const flow = new Flow({ flowId: strategy });
    flow.setErrorHandler(new ErrorHandler({ strategy }));
    flow.addRoutine(new DataSource(), "source");
    flow.addRoutine(
      new Probe(({ data }) => {
        if (data === "b") throw new Error("bad b");
        done.push(data);
      }),
      "probe",
    );
    flow.connect("source", "output", "probe", "input");
    const job = await flow.execute("source");
    await flow.waitForCompletion({ jobState: job });
    assert.equal(job.status, "completed");
    assert.deepEqual(done, ["a", "c"]);
    assert.equal(job.getRoutineStatus("probe")?.lastError, "bad b");
    const failed = [...flow.info(job).requestHeap.values()].filter((r) => r.status === "Failed");
    assert.equal(failed.length, 1);
  });
}

Deno.test("Routine.setErrorHandler() wins over the flow's handler", async () => {
  const flow = new Flow({ flowId: "wins" });
  flow.setErrorHandler(new ErrorHandler({ strategy: "continue" }));
  const probe = new Probe(() => {
    throw new Error("boom");
  });
  probe.setErrorHandler(new ErrorHandler({ strategy: "stop" }));
  flow.addRoutine(new DataSource(), "source");
  flow.addRoutine(probe, "probe");
  flow.connect("source", "output", "probe", "input");
  const job = await flow.execute("source");
  await flow.waitForCompletion({ jobState: job });
  assert.equal(job.status, "failed");
});

Deno.test("Flow retries with backoff while another routine keeps making progress", async () => {
  const retryDecided = Promise.withResolvers<void>();
  const steadyDone = Promise.withResolvers<void>();
  let attempts = 0;
  const observed: string[] = [];
  const flaky = new Probe(async () => {
    attempts++;
    if (attempts === 1) throw new Error("not yet");
    await steadyDone.promise;
  });
  flaky.setErrorHandler(
    new ErrorHandler({
      strategy: "retry",
      maxRetries: 2,
      retryDelay: 200,
      retryBackoff: 2,
      retryable: () => {
        retryDecided.resolve();
        return true;
      },
    }),
  );
  // Re-triggers itself five times once the retry is scheduled, each time
  // looking at the flaky routine: it runs while the retry waits.
  const steady = new Probe(async ({ n }, self) => {
    if (n === 0) await retryDecided.promise;
    const { jobState } = self.getExecutionContext()!;
    observed.push(String(jobState.getRoutineStatus("flaky")?.status));
    if ((n as number) < 4) self.emit("again", { n: (n as number) + 1 });
    else steadyDone.resolve();
  }, ["again"]);
  const fork = new Probe((_, self) => self.emit("go", { n: 0 }), ["go"]);
  const flow = new Flow({ flowId: "retry" });
  flow.addRoutine(fork, "fork");
  flow.addRoutine(flaky, "flaky");
  flow.addRoutine(steady, "steady");
  flow.connect("fork", "go", "flaky", "input");
  flow.connect("fork", "go", "steady", "input");
  flow.connect("steady", "again", "steady", "input");
  const job = await flow.execute("fork");
  assert.equal(await flow.waitForCompletion({ timeout: 10_000 }), true);
  assert.equal(job.status, "completed");
  assert.equal(attempts, 2);
  assert.equal(observed.length, 5);
  assert.equal(observed[0], "retrying");
  const info = flow.info(job);
  const flakyRequests = [...info.requestHeap.values()].filter((r) =>
    info.nodeHeap.get(r.sinkId)?.name === "flaky.input"
  );
  assert.deepEqual(flakyRequests.map((r) => r.status), ["Failed", "Completed"]);
  // The retry is still the child of the activation that emitted.
  assert.equal(flakyRequests[0].sourceId, flakyRequests[1].sourceId);
  assert.notEqual(flakyRequests[0].sourceId, null);
});

Deno.test("Flow fails the job once retries are spent or the error is not retryable", async () => {
  for (
    const [retryable, expected] of [[() => true, 3], [() => false, 1]] as const
  ) {
    let attempts = 0;
    const probe = new Probe(() => {
      attempts++;
      throw new RangeError("always");
    });
    probe.setErrorHandler(
      new ErrorHandler({
        strategy: "retry",
        maxRetries: 2,
        retryDelay: 1,
        retryable,
      }),
    );
    const flow = new Flow({ flowId: "spent" });
    flow.addRoutine(probe, "probe");
    const job = await flow.execute("probe");
    await flow.waitForCompletion({ jobState: job });
    assert.equal(job.status, "failed");
    assert.equal(attempts, expected);
    assert.equal(job.getRoutineStatus("probe")?.attempts, expected);
  }
});

Deno.test("Routine.setAsOptional() lets the job complete after a failure", async () => {
  const probe = new Probe(() => {
    throw new Error("optional");
  });
  probe.setAsOptional("skip");
  const flow = new Flow({ flowId: "optional" });
  flow.addRoutine(probe, "probe");
  const job = await flow.execute("probe");
  await flow.waitForCompletion({ jobState: job });
  assert.equal(job.status, "completed");
  assert.equal(job.getRoutineStatus("probe")?.status, "skipped");
});

Deno.test({
  name: "Flow.pause() turns a waiting retry into a pending activation",
  // Asked for: Deno checks for pending timers only when a test says so.
  sanitizeOps: true,
  fn: async () => {
    const decided = Promise.withResolvers<void>();
    let attempts = 0;
    const probe = new Probe(() => {
      if (++attempts === 1) throw new Error("first");
    });
    probe.setErrorHandler(
      new ErrorHandler({
        strategy: "retry",
        maxRetries: 1,
        retryDelay: 60_000,
        retryable: () => {
          decided.resolve();
          return true;
        },
      }),
    );
    const flow = new Flow({ flowId: "pause-retry" });
    flow.addRoutine(probe, "probe");
    const job = await flow.execute("probe");
    // Pausing once the retry is scheduled: the one-minute timer is dropped
    // (the sanitizer would report it otherwise).
    await decided.promise;
    assert.equal(job.getRoutineStatus("probe")?.status, "retrying");
    await flow.pause(job, { reason: "test", checkpoint: { at: 1 } });
    assert.equal(job.status, "paused");
    assert.deepEqual(
      job.pendingActivations.map((a) => [a.routineId, a.slot, a.attempt]),
      [["probe", "trigger", 2]],
    );
    assert.deepEqual(job.pausePoints.map((p) => [p.reason, p.checkpoint]), [[
      "test",
      { at: 1 },
    ]]);
    await flow.resume(job);
    await flow.waitForCompletion({ jobState: job });
    assert.equal(job.status, "completed");
    assert.equal(attempts, 2);
  },
});

Deno.test("Flow.cancel() aborts a running execution", async () => {
  const started = Promise.withResolvers<void>();
  let aborted = false;
  const probe = new Probe(async () => {
    const signal = currentSignal();
    started.resolve();
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    aborted = signal.aborted;
  });
  const flow = new Flow({ flowId: "cancel" });
  flow.addRoutine(new DataSource(), "source");
  flow.addRoutine(probe, "probe");
  flow.connect("source", "output", "probe", "input");
  const job = await flow.execute("source", { entryParams: { items: [1] } });
  await started.promise;
  flow.cancel(job, new Error("enough"));
  assert.equal(await flow.waitForCompletion({ jobState: job }), true);
  assert.equal(job.status, "cancelled");
  assert.equal(job.error?.message, "enough");
  assert.equal(aborted, true);
  const info = flow.info(job);
  const statuses = [...info.requestHeap.values()].map((r) => r.status);
  assert.deepEqual(statuses.sort(), ["Cancelled", "Completed"]);
});

Deno.test("Flow.waitForCompletion() returns false on timeout and the job goes on", async () => {
  const gate = Promise.withResolvers<void>();
  const flow = new Flow({ flowId: "slow" });
  flow.addRoutine(new Probe(() => gate.promise), "probe");
  const job = await flow.execute("probe");
  assert.equal(await flow.waitForCompletion({ timeout: 5 }), false);
  assert.equal(job.status, "running");
  gate.resolve();
  assert.equal(await flow.waitForCompletion({ timeout: 5000 }), true);
  assert.equal(job.status, "completed");
});

Deno.test("Flow executionTimeout fails a job that runs too long", async () => {
  const flow = new Flow({ flowId: "timeout", executionTimeout: 10 });
  flow.addRoutine(
    new Probe(() => {
      const signal = currentSignal();
      return new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    }),
    "probe",
  );
  const job = await flow.execute("probe");
  await flow.waitForCompletion({ jobState: job });
  assert.equal(job.status, "failed");
  assert.match(job.error!.message, /executionTimeout of 10 ms/);
});

Deno.test("Flow maxWorkers bounds the activations running at once", async () => {
  let running = 0;
  let peak = 0;
  const twoRunning = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const flow = new Flow({ flowId: "bounded", maxWorkers: 2 });
  flow.addRoutine(new DataSource(), "source");
  flow.addRoutine(
    new Probe(async () => {
      peak = Math.max(peak, ++running);
      if (running === 2) twoRunning.resolve();
      await release.promise;
      running--;
    }),
    "probe",
  );
  flow.connect("source", "output", "probe", "input");
  const job = await flow.execute("source", {
    entryParams: { items: [1, 2, 3, 4, 5, 6] },
  });
  await twoRunning.promise;
  // Held at the gate: had the bound not held, all six would be running.
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  assert.equal(running, 2);
  release.resolve();
  await flow.waitForCompletion({ jobState: job });
  assert.equal(job.status, "completed");
  assert.equal(peak, 2);
});

Deno.test("Routine.sendOutput() reaches the output handler; its failure is logged, not fatal", async () => {
  const records: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { capture: (record) => records.push(record) },
    loggers: [
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
      { category: ["switchyard"], sinks: ["capture"], lowestLevel: "warning" },
    ],
  });
  try {
    const outputs: unknown[] = [];
    const flow = new Flow({ flowId: "outputs" });
    flow.addRoutine(
      new Probe(({ n }, self) => {
        self.sendOutput("value", n);
        self.sendOutput("broken", n);
        self.sendOutput("throws", n);
      }),
      "probe",
    );
    const job = await flow.execute("probe", {
      entryParams: { n: 7 },
      outputHandler: (output) => {
        if (output.type === "broken") return Promise.reject(new Error("sink"));
        if (output.type === "throws") throw new Error("sync sink");
        outputs.push([output.routineId, output.type, output.data]);
      },
    });
    await flow.waitForCompletion({ jobState: job });
    assert.equal(job.status, "completed");
    assert.deepEqual(outputs, [["probe", "value", 7]]);
    const failures = records.filter((r) => r.level === "warning").map((
      r,
    ) => [r.properties.type, (r.properties.error as Error).message]).sort();
    assert.deepEqual(failures, [["broken", "sink"], ["throws", "sync sink"]]);
  } finally {
    resetSync();
  }
});

Deno.test("Routine.emitDeferredEvent() holds an event until the rest has run", async () => {
  const order: string[] = [];
  const flow = new Flow({ flowId: "deferred" });
  flow.addRoutine(
    new Probe((_, self) => {
      self.emitDeferredEvent("later", { what: "deferred" });
      self.emit("now", { what: "direct" });
    }, ["now", "later"]),
    "source",
  );
  flow.addRoutine(
    new Probe(({ what }) => {
      order.push(what as string);
    }),
    "sink",
  );
  flow.connect("source", "now", "sink", "input");
  flow.connect("source", "later", "sink", "input");
  const job = await flow.execute("source");
  await flow.waitForCompletion({ jobState: job });
  assert.deepEqual(order, ["direct", "deferred"]);
  assert.deepEqual(job.getExecutionHistory("source").map((r) => r.eventName), [
    "now",
    "later",
  ]);
  assert.equal(job.deferredEvents.length, 0);
});

Deno.test("Flow records history within maxHistorySize", async () => {
  const flow = sourceToCollector();
  const job = await flow.execute("source", {
    entryParams: { items: [1, 2, 3, 4] },
    maxHistorySize: 2,
  });
  await flow.waitForCompletion({ jobState: job });
  assert.deepEqual(job.getExecutionHistory().map((r) => r.data.data), [3, 4]);
  assert.deepEqual(job.getSharedData("collected"), [1, 2, 3, 4]);
});

Deno.test("Flow.resume() rejects jobs of other flows, unknown routines and running jobs", async () => {
  const flow = sourceToCollector("one");
  const job = await flow.execute("source");
  await assert.rejects(
    async () => await flow.resume(job),
    /its status must be "paused": current value is "running"/,
  );
  await flow.waitForCompletion({ jobState: job });
  const other = sourceToCollector("two");
  const { JobState } = await import("../mod.ts");
  const saved = { ...job.toJSON(), status: "paused" };
  const paused = () => {
    const copy = JobState.fromJSON(saved);
    (copy.pendingActivations as PendingActivation[]).push({
      id: "x",
      routineId: "ghost",
      slot: "input",
      data: {},
      attempt: 1,
    });
    return copy;
  };
  await assert.rejects(
    async () => await other.resume(paused()),
    /its flowId must be 'two': current value is "one"/,
  );
  await assert.rejects(
    async () => await flow.resume(paused()),
    /pending activation 'ghost.input' must name a slot of flow 'one'/,
  );
  assert.throws(
    () => flow.cancel(paused()),
    /was not executed by flow 'one'/,
  );
});

Deno.test("Flow.pause() rejects a job that is not running", async () => {
  const flow = sourceToCollector();
  const job: JobState = await flow.execute("source");
  await flow.waitForCompletion({ jobState: job });
  await assert.rejects(
    () => flow.pause(job),
    /its status must be "running": current value is "completed"/,
  );
});

Deno.test("Flow runs a long chain of synchronous emits without growing the stack", async () => {
  const flow = new Flow({ flowId: "deep" });
  flow.addRoutine(
    new Probe(({ n }, self) => {
      if ((n as number) > 0) self.emit("next", { n: (n as number) - 1 });
    }, ["next"]),
    "loop",
  );
  flow.connect("loop", "next", "loop", "trigger");
  const job = await flow.execute("loop", {
    entryParams: { n: 5000 },
    maxHistorySize: 10_000,
  });
  await flow.waitForCompletion({ jobState: job });
  assert.equal(job.status, "completed", JSON.stringify(job.error));
  assert.equal(job.getExecutionHistory().length, 5000);
  assert.equal(flow.info(job).requestHeap.size, 5001);
});

Deno.test("Routine.emit() queues the activation; it runs after the emitting handler", async () => {
  const order: string[] = [];
  const flow = new Flow({ flowId: "order" });
  flow.addRoutine(
    new Probe((_, self) => {
      self.emit("out", {});
      order.push("after emit");
    }, ["out"]),
    "source",
  );
  flow.addRoutine(new Probe(() => void order.push("sink")), "sink");
  flow.connect("source", "out", "sink", "input");
  const job = await flow.execute("source");
  await flow.waitForCompletion({ jobState: job });
  assert.deepEqual(order, ["after emit", "sink"]);
});

Deno.test("A node a slot handler calls still runs in the routine's activation, also after awaits", async () => {
  const { call, node } = await import("../mod.ts");
  const { Routine } = await import("../mod.ts");
  class Nested extends Routine {
    constructor() {
      super();
      this.defineSlot("trigger", async () => {
        const inner = node(async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          const context = this.getExecutionContext();
          this.emit("found", { routineId: context?.routineId ?? null });
        }, { name: "inner" });
        await call(node(() => call(inner), { name: "middle" }));
      });
      this.defineEvent("found", ["routineId"]);
    }
  }
  class Keep extends Routine {
    constructor() {
      super();
      this.defineSlot("input", ({ routineId }) => {
        this.getExecutionContext()!.jobState.updateSharedData("seen", routineId);
      });
    }
  }
  const flow = new Flow({ flowId: "nested" });
  flow.addRoutine(new Nested(), "nested");
  flow.addRoutine(new Keep(), "keep");
  flow.connect("nested", "found", "keep", "input");
  const job = await flow.execute("nested");
  await flow.waitForCompletion({ jobState: job, timeout: 5000 });
  assert.equal(job.status, "completed", JSON.stringify(job.error));
  assert.equal(job.getSharedData("seen"), "nested");
  // The activation it started is a child of the activation that emitted.
  const info = flow.info(job);
  const keep = [...info.requestHeap.values()].find((r) =>
    (r.input[0] as { routineId?: string } | undefined)?.routineId === "nested"
  )!;
  assert.equal(info.nodeHeap.get(keep.sourceId!)?.name, "nested.trigger");
});
