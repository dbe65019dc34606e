import assert from "node:assert/strict";
import { join } from "node:path";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import {
  Flow,
  Gate,
  JobState,
  RunIdInUseError,
  RunNotSavedError,
  State,
  StateManager,
  StateManagerExistsError,
} from "../mod.ts";
import { loadRun } from "../persistence.ts";
import { main } from "../src/cli/main.ts";
import type { CliOutput } from "../src/cli/progress.ts";
import { failingDownstream } from "./fixtures/session_module.ts";
import { DataCollector, DataSource, Probe } from "./fixtures/flow_routines.ts";

const fixture = new URL("./fixtures/session_module.ts", import.meta.url).pathname;

async function withStateDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-targets-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function quiet(): CliOutput {
  return { out: () => {}, err: () => {}, isTerminal: false, columns: 100 };
}

function collectingFlow(flowId: string, options: ConstructorParameters<typeof Flow>[0] = {}): Flow {
  const flow = new Flow({ flowId, ...options });
  flow.addRoutine(new DataSource(), "source");
  flow.addRoutine(new DataCollector(), "collector");
  flow.connect("source", "output", "collector", "input");
  return flow;
}

Deno.test("A flow job whose downstream routine fails is saved as Failed", async () => {
  await withStateDir(async (stateDir) => {
    const job = await failingDownstream.execute("source", {
      entryParams: { items: ["x"] },
      jobId: "downstream",
      saveState: true,
      stateDir,
    });
    await failingDownstream.waitForCompletion({ jobState: job });
    assert.equal(job.status, "failed");
    // Every top-level request completed; the job did not.
    assert.equal(failingDownstream.info(job).requestHeap.insertionRequests[0].status, "Completed");
    const run = await loadRun(stateDir, "downstream");
    assert.equal(run.status, "Failed");
  });
});

Deno.test("switchyard run of a flow that fails saves it as Failed", async () => {
  await withStateDir(async (dir) => {
    const code = await main(
      ["run", fixture, "--export", "failingDownstream", "--dir", dir, "--run-id", "cli-fd"],
      { output: quiet() },
    );
    assert.equal(code, 1);
    assert.equal((await loadRun(dir, "cli-fd")).status, "Failed");
  });
});

Deno.test("Flow with saveState saves a completed job under its job id", async () => {
  await withStateDir(async (stateDir) => {
    const flow = collectingFlow("saved-flow", { saveState: true, stateDir });
    const job = await flow.execute("source", { jobId: "job-1" });
    assert.equal(await flow.waitForCompletion({ jobState: job }), true);
    const run = await loadRun(stateDir, "job-1");
    assert.equal(run.status, "Completed");
    assert.equal(run.runs.length, 1);
    await assert.rejects(flow.execute("source", { jobId: "job-1" }), RunIdInUseError);
  });
});

Deno.test("A resumed job saved before goes on as a new run id", async () => {
  await withStateDir(async (stateDir) => {
    const flow = new Flow({ flowId: "pausing", saveState: true, stateDir });
    flow.addRoutine(
      new Probe(({ n }, self) => {
        const { flow, jobState } = self.getExecutionContext()!;
        if (n === 2) void flow.pause(jobState, { reason: "halfway" });
        if ((n as number) < 4) self.emit("next", { n: (n as number) + 1 });
      }, ["next"]),
      "counter",
    );
    flow.connect("counter", "next", "counter", "trigger");
    const job = await flow.execute("counter", { jobId: "paused-job", entryParams: { n: 0 } });
    await flow.waitForCompletion({ jobState: job });
    assert.equal(job.status, "paused");
    assert.equal((await loadRun(stateDir, "paused-job")).runs.length, 1);
    const path = join(stateDir, "job.json");
    await job.save(path);
    const loaded = await JobState.load(path);
    await flow.resume(loaded);
    await flow.waitForCompletion({ jobState: loaded });
    assert.equal(loaded.status, "completed");
    assert.equal((await loadRun(stateDir, "paused-job.resumed-2")).status, "Completed");
    flow.cancel(job);
    await flow.waitForCompletion({ jobState: job });
  });
});

Deno.test("A flow job whose record cannot be written makes waitForCompletion reject", async () => {
  await withStateDir(async (stateDir) => {
    const release = Promise.withResolvers<void>();
    const flow = new Flow({ flowId: "unsaved-flow", saveState: true, stateDir });
    flow.addRoutine(new Probe(() => release.promise), "wait");
    const job = await flow.execute("wait", { jobId: "lost-job" });
    await Deno.remove(join(stateDir, "runs"), { recursive: true });
    await Deno.writeTextFile(join(stateDir, "runs"), "in the way");
    release.resolve();
    await assert.rejects(flow.waitForCompletion({ jobState: job }), RunNotSavedError);
    assert.equal(job.status, "completed");
  });
});

Deno.test("Flow options are checked with one message style", () => {
  assert.throws(
    () => new Flow({ maxWorkers: 0 }),
    /^TypeError: Cannot create a Flow as 'maxWorkers' must be positive: current value is 0$/,
  );
  assert.throws(
    () => new Flow({ flowId: "" }),
    /Cannot create a Flow as 'flowId' must be a non-empty string: current value is ""/,
  );
  assert.throws(
    () => new Flow({ stateDir: 3 as unknown as string }),
    /'stateDir' must be a string: current value is 3/,
  );
  assert.throws(
    () => new Flow({ speed: 1 } as never),
    /'speed' must not be given/,
  );
});

Deno.test("A second StateManager is refused at run time", async () => {
  const manager = StateManager.instance({ loggingSetting: "NONE" });
  try {
    assert.throws(() => new StateManager({ loggingSetting: "NONE" }), StateManagerExistsError);
    assert.equal(StateManager.instance(), manager);
  } finally {
    await StateManager.reset();
  }
  const fresh = new StateManager({ loggingSetting: "NONE" });
  assert.equal(StateManager.instance(), fresh);
  await StateManager.reset();
});

Deno.test("A non-blocking state waiting at a gate set by a state queued behind it is reported", async () => {
  const warnings: LogRecord[] = [];
  const warned = Promise.withResolvers<void>();
  await configure({
    reset: true,
    sinks: {
      capture: (record) => {
        warnings.push(record);
        warned.resolve();
      },
    },
    loggers: [
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
      { category: ["switchyard", "states"], sinks: ["capture"], lowestLevel: "warning" },
    ],
  });
  try {
    const ready = new Gate("ready");
    const manager = StateManager.instance({ stalledGateWarning: 20 });
    const serve = new State("Serve", () => "served", { event: ready });
    manager.putStates([serve, new State("Open", () => ready.set())]);
    const loop = manager.processStates();
    await warned.promise;
    const [record] = warnings;
    assert.equal(record.level, "warning");
    assert.equal(record.properties.state, "Serve");
    assert.equal(record.properties.gate, "ready");
    assert.equal(record.properties.behind, 1);
    ready.set();
    await manager.onIdle();
    assert.equal(await manager.resultOf(serve), "served");
    await manager.signalStopping();
    await loop;
  } finally {
    await StateManager.reset();
    await reset();
  }
});

Deno.test("StateManager config rejects a bad stalledGateWarning", async () => {
  assert.throws(
    () => StateManager.instance({ stalledGateWarning: -1 }),
    /Cannot create the StateManager as 'stalledGateWarning' must be at least 0: current value is -1/,
  );
  await StateManager.reset();
});

Deno.test("A StateManager whose run cannot be saved says so when it stops", async () => {
  await withStateDir(async (stateDir) => {
    const manager = StateManager.instance({
      saveState: true,
      stateDir,
      runIdentifier: "states-lost",
      loggingSetting: "NONE",
    });
    manager.putState(new State("One", () => 1));
    const loop = manager.processStates();
    await manager.onIdle();
    await Deno.remove(join(stateDir, "runs"), { recursive: true });
    await Deno.writeTextFile(join(stateDir, "runs"), "in the way");
    await assert.rejects(manager.signalStopping(), RunNotSavedError);
    await assert.rejects(loop, RunNotSavedError);
    assert.equal(manager.info.answer, 1);
    await StateManager.reset().catch(() => {});
  });
});

Deno.test("switchyard run handles SIGTERM like SIGINT: cancels, saves as Cancelled, exits 143", async () => {
  await withStateDir(async (dir) => {
    const entry = new URL("../src/cli/main.ts", import.meta.url).pathname;
    const config = new URL("../deno.json", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        config,
        entry,
        "run",
        fixture,
        "--export",
        "waitForever",
        "--dir",
        dir,
        "--run-id",
        "terminated",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("READY")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    assert.match(seen, /READY/);
    child.kill("SIGTERM");
    const status = await child.status;
    await reader.cancel();
    const errors = await stderr;
    assert.equal(status.signal, null, errors);
    assert.equal(status.code, 143, errors);
    assert.match(errors, /Terminated after/);
    const run = await loadRun(dir, "terminated");
    assert.equal(run.status, "Cancelled");
  });
});

Deno.test("switchyard run with a run id already saved is refused with exit 2, the saved run untouched", async () => {
  await withStateDir(async (dir) => {
    const args = [
      "run",
      fixture,
      "--export",
      "failingDownstream",
      "--dir",
      dir,
      "--run-id",
      "twice",
    ];
    assert.equal(await main(args, { output: quiet() }), 1);
    const before = await Deno.readTextFile(join(dir, "runs", "twice.json"));
    let stderr = "";
    const output = { ...quiet(), err: (text: string) => void (stderr += text) };
    assert.equal(await main(args, { output }), 2);
    assert.match(stderr, /'runIdentifier' must not name a saved run .*: current value is "twice"/);
    assert.equal(await Deno.readTextFile(join(dir, "runs", "twice.json")), before);
  });
});
