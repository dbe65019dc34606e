import assert from "node:assert/strict";
import { JobState, JobStateLoadError } from "../mod.ts";

Deno.test("JobState starts pending with fresh ids and empty collections", () => {
  const job = new JobState("flow");
  assert.equal(job.status, "pending");
  assert.equal(job.flowId, "flow");
  assert.match(job.jobId, /^[0-9a-f-]{36}$/);
  assert.notEqual(new JobState("flow").jobId, job.jobId);
  assert.equal(job.createdAt, job.updatedAt);
  assert.deepEqual(job.getExecutionHistory(), []);
  assert.deepEqual(job.pendingActivations, []);
  assert.equal(job.error, null);
  assert.throws(() => new JobState(""), /'flowId' must be a non-empty string/);
  assert.throws(
    () => new JobState("f", { maxHistorySize: 0 }),
    /'maxHistorySize' must be positive: current value is 0/,
  );
});

Deno.test("JobState.updateRoutineState() merges and getRoutineState() copies", () => {
  const job = new JobState("flow");
  assert.equal(job.getRoutineState("r"), undefined);
  job.updateRoutineState("r", { count: 1, status: "running" });
  job.updateRoutineState("r", { count: 2 });
  const state = job.getRoutineState("r")!;
  assert.deepEqual(state, { count: 2, status: "running" });
  state.count = 99;
  assert.equal(job.getRoutineState("r")?.count, 2);
  assert.throws(
    () => job.updateRoutineState("r", 3 as never),
    /Cannot update the state of routine 'r' as 'state' must be a plain object: current value is 3/,
  );
});

Deno.test("JobState.appendToSharedLog() rejects non-objects and keeps the log", () => {
  const job = new JobState("flow");
  job.appendToSharedLog({ level: "info", message: "one" });
  for (const bad of [null, 5, "text", ["a"]]) {
    assert.throws(
      () => job.appendToSharedLog(bad as never),
      /as 'entry' must be a plain object: current value is/,
    );
  }
  job.appendToSharedLog({ level: "warn", message: "two" });
  const log = job.getSharedLog();
  assert.deepEqual(log.map((e) => e.message), ["one", "two"]);
  assert.ok(log.every((e) => typeof e.timestamp === "number"));
  assert.deepEqual(job.getSharedLog({ level: "warn" }).map((e) => e.message), [
    "two",
  ]);
  assert.deepEqual(
    job.getSharedLog((e) => e.message === "one").map((e) => e.level),
    ["info"],
  );
});

Deno.test("JobState.getExecutionHistory() filters by routine, in time order", () => {
  const job = new JobState("flow");
  job.recordExecution("a", "out", { n: 1 });
  job.recordExecution("b", "out", { n: 2 });
  job.recordExecution("a", "done", { n: 3 });
  assert.deepEqual(job.getExecutionHistory("a").map((r) => r.data.n), [1, 3]);
  const all = job.getExecutionHistory();
  assert.deepEqual(all.map((r) => r.routineId), ["a", "b", "a"]);
  for (let i = 1; i < all.length; i++) {
    assert.ok(all[i - 1].timestamp <= all[i].timestamp);
  }
});

Deno.test("JobState keeps at most maxHistorySize records", () => {
  const job = new JobState("flow", { maxHistorySize: 3 });
  for (let n = 0; n < 10; n++) job.recordExecution("r", "e", { n });
  assert.deepEqual(job.getExecutionHistory().map((r) => r.data.n), [7, 8, 9]);
});

Deno.test("JobState drops history older than historyTtl (a first-format file)", () => {
  const now = Date.now();
  const saved = {
    format: "switchyard.job/1",
    flowId: "flow",
    jobId: "old-job",
    status: "paused",
    createdAt: now,
    updatedAt: now,
    maxHistorySize: 1000,
    historyTtl: 60_000,
    error: null,
    routineStates: { r: { count: 1 } },
    history: [
      { routineId: "r", eventName: "old", data: {}, timestamp: now - 120_000 },
      { routineId: "r", eventName: "new", data: {}, timestamp: now },
    ],
    sharedData: { total: 2 },
    sharedLog: [],
    pausePoints: [],
    deferredEvents: [],
    pendingActivations: [],
  };
  const job = JobState.fromJSON(saved);
  assert.deepEqual(job.getRoutineState("r"), { count: 1 });
  assert.equal(job.getSharedData("total"), 2);
  assert.equal(job.getExecutionHistory()[0].kind, "emit");
  assert.deepEqual(job.getExecutionHistory().map((r) => r.eventName), ["new"]);
  assert.equal(job.historyTtl, 60_000);
});

Deno.test("JobState.save() and load() round-trip everything", async () => {
  const job = new JobState("flow", { jobId: "job-1", maxHistorySize: 50 });
  job.updateRoutineState("r", { count: 3 });
  job.recordExecution("r", "out", { n: 1 });
  job.updateSharedData("total", 42);
  job.updateSharedData("weird", 10n);
  job.appendToSharedLog({ message: "hi" });
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await job.save(path);
    const loaded = await JobState.load(path);
    assert.equal(loaded.jobId, "job-1");
    assert.equal(loaded.flowId, "flow");
    assert.equal(loaded.status, "pending");
    assert.equal(loaded.createdAt, job.createdAt);
    assert.equal(loaded.maxHistorySize, 50);
    assert.deepEqual(loaded.getRoutineState("r"), { count: 3 });
    assert.deepEqual(loaded.getExecutionHistory()[0].data, { n: 1 });
    assert.equal(loaded.getSharedData("total"), 42);
    assert.equal(loaded.getSharedData("weird"), 10n);
    assert.equal(loaded.getSharedLog()[0].message, "hi");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("JobState.load() explains a missing or malformed file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = `${dir}/missing.json`;
    await assert.rejects(
      () => JobState.load(missing),
      (error: unknown) =>
        error instanceof JobStateLoadError && error.path === missing &&
        error.message.includes(
          `'path' must name a readable file: current value is ${JSON.stringify(missing)}`,
        ),
    );
    await Deno.writeTextFile(`${dir}/broken.json`, "{ not json");
    await assert.rejects(
      () => JobState.load(`${dir}/broken.json`),
      /Cannot load a JobState as file '.*broken.json' must hold JSON/,
    );
    const saved = new JobState("flow").toJSON();
    await Deno.writeTextFile(
      `${dir}/shape.json`,
      JSON.stringify({ ...saved, status: "sleeping", history: 3 }),
    );
    await assert.rejects(
      () => JobState.load(`${dir}/shape.json`),
      /Cannot load a JobState from '.*shape.json': .*'status' must be one of .*current value is "sleeping"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JobState.setOutputHandler() accepts functions and null only", () => {
  const job = new JobState("flow");
  job.setOutputHandler(() => {});
  job.setOutputHandler(null);
  assert.throws(
    () => job.setOutputHandler("x" as never),
    /'handler' must be a function or null: current value is "x"/,
  );
});

Deno.test("JobState.fromJSON() keeps '__proto__' keys of routine states, data and log entries", () => {
  const job = new JobState("flow");
  job.updateRoutineState("__proto__", { __proto__: 1 } as Record<string, unknown>);
  job.updateRoutineState("r", JSON.parse('{"__proto__": {"x": 1}}'));
  job.recordExecution("r", "out", JSON.parse('{"__proto__": 2}'));
  job.updateSharedData("__proto__", 3);
  job.appendToSharedLog(JSON.parse('{"__proto__": 4}'));
  const saved = job.toJSON();
  const loaded = JobState.fromJSON(JSON.parse(JSON.stringify(saved)));
  assert.deepEqual(loaded.toJSON(), saved);
  assert.deepEqual(loaded.getRoutineState("r"), JSON.parse('{"__proto__": {"x": 1}}'));
  assert.equal(loaded.getSharedData("__proto__"), 3);
  assert.equal(Object.getPrototypeOf(loaded.getSharedLog()[0]), Object.prototype);
});

Deno.test("JobState.toJSON() survives a JSON round trip, -0 included", () => {
  const job = new JobState("flow");
  job.updateRoutineState("routine", { offset: -0 });
  const saved = job.toJSON();
  const loaded = JobState.fromJSON(JSON.parse(JSON.stringify(saved)));
  assert.deepEqual(loaded.toJSON(), saved);
  assert.ok(Object.is(loaded.getRoutineState("routine")?.offset, -0));
});

Deno.test("JobState options are checked, naming the field and the value", () => {
  const cases: [unknown, RegExp][] = [
    [{ jobId: "" }, /'jobId' must be .*: current value is ""/],
    [{ jobId: 7 }, /'jobId' must be .*string.*: current value is 7/],
    [{ maxHistorySize: 1.5 }, /'maxHistorySize' must be .*: current value is 1\.5/],
    [{ maxHistorySize: 0 }, /'maxHistorySize' must be .*: current value is 0/],
    [{ historyTtl: Number.NaN }, /'historyTtl' must be .*: current value is/],
    [{ historyTtl: -5 }, /'historyTtl' must be .*: current value is -5/],
    [{ maxHistory: 3 }, /'maxHistory' must not be given/],
    ["fast", /must be .*object.*: current value is "fast"/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new JobState("flow", options as never),
      (error: unknown) => {
        assert.ok(error instanceof TypeError, String(error));
        assert.match(error.message, /^Cannot create a JobState as /);
        assert.match(error.message, message);
        return true;
      },
    );
  }
  assert.equal(new JobState("flow", { jobId: "j", historyTtl: 10 }).historyTtl, 10);
});
