import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AsyncExecutionStrategy,
  registerRunObserver,
  registerStrategies,
  RunSession,
} from "../engine.ts";
import {
  Flow,
  node,
  parseExecutorConfig,
  RunIdInUseError,
  Runner,
  RunNotSavedError,
  State,
  StateManager,
} from "../mod.ts";
import { Probe } from "./fixtures/flow_routines.ts";
import { eventLogPath, isRunId, loadRun } from "../persistence.ts";

const one = node(() => 1, { name: "one" });
const boom = node(() => {
  throw new RangeError("boom");
}, { name: "boom" });

async function withStateDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-session-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loggingSetting accepts DEBUG, INFO, WARNING and ERROR", () => {
  assert.equal(parseExecutorConfig({ loggingSetting: "DEBUG" }).loggingSetting, "VERBOSE");
  assert.equal(parseExecutorConfig({ loggingSetting: "INFO" }).loggingSetting, "REGULAR");
  assert.equal(parseExecutorConfig({ loggingSetting: "WARNING" }).loggingSetting, "QUIET");
  assert.equal(parseExecutorConfig({ loggingSetting: "ERROR" }).loggingSetting, "ERROR");
  assert.throws(
    () => parseExecutorConfig({ loggingSetting: "LOUD" as "DEBUG" }),
    /'loggingSetting' must be one of .*"DEBUG".*: current value is "LOUD"/,
  );
});

Deno.test("A run id is checked by one rule when the Runner is made, and the loader agrees", async () => {
  for (const bad of [".", "..", "x".repeat(201), "a/b", ""]) {
    assert.throws(
      () => new Runner({ runIdentifier: bad, loggingSetting: "NONE" }),
      (error: Error) =>
        error instanceof TypeError &&
        /'runIdentifier' must be made of 1 to 200/.test(error.message),
      `runIdentifier ${JSON.stringify(bad)}`,
    );
    assert.equal(isRunId(bad), false);
  }
  const longest = "r".repeat(200);
  assert.equal(isRunId(longest), true);
  await withStateDir(async (stateDir) => {
    {
      await using runner = new Runner({
        saveState: true,
        stateDir,
        runIdentifier: longest,
        loggingSetting: "NONE",
      });
      await runner.run(one);
    }
    const run = await loadRun(stateDir, longest);
    assert.equal(run.status, "Completed");
    assert.equal(run.source, "snapshot");
  });
});

Deno.test("A runIdentifier naming a saved run is refused and its files stay untouched", async () => {
  await withStateDir(async (stateDir) => {
    const config = {
      saveState: true,
      stateDir,
      runIdentifier: "taken",
      loggingSetting: "NONE",
    } as const;
    {
      await using runner = new Runner(config);
      await runner.run(one);
    }
    const log = await Deno.readTextFile(eventLogPath(stateDir, "taken"));
    const snapshot = await Deno.readTextFile(join(stateDir, "runs", "taken.json"));
    assert.throws(() => new Runner(config), RunIdInUseError);
    assert.equal(await Deno.readTextFile(eventLogPath(stateDir, "taken")), log);
    assert.equal(await Deno.readTextFile(join(stateDir, "runs", "taken.json")), snapshot);
    assert.equal((await loadRun(stateDir, "taken")).runs.length, 1);
  });
});

Deno.test("A runIdentifier of a run still going in this process is refused", async () => {
  await withStateDir(async (stateDir) => {
    const config = {
      saveState: true,
      stateDir,
      runIdentifier: "live",
      loggingSetting: "NONE",
    } as const;
    await using first = new Runner(config);
    assert.throws(
      () => new Runner(config),
      (error: Error) => error instanceof RunIdInUseError && /running run/.test(error.message),
    );
    await first.run(one);
    assert.equal((await loadRun(stateDir, "live")).runs.length, 1);
  });
});

Deno.test("A run id claimed by another process is refused", async () => {
  await withStateDir(async (stateDir) => {
    // Another process created the event log (and holds it) for this id.
    await Deno.mkdir(join(stateDir, "runs"));
    await Deno.writeTextFile(eventLogPath(stateDir, "other"), "");
    assert.throws(
      () =>
        new Runner({ saveState: true, stateDir, runIdentifier: "other", loggingSetting: "NONE" }),
      RunIdInUseError,
    );
  });
});

Deno.test("A file where the runs folder should be is a run that cannot be saved, not an id in use", async () => {
  await withStateDir(async (stateDir) => {
    await Deno.writeTextFile(join(stateDir, "runs"), "in the way");
    assert.throws(
      () =>
        new Runner({ saveState: true, stateDir, runIdentifier: "fresh", loggingSetting: "NONE" }),
      (error: unknown) =>
        error instanceof RunNotSavedError && error.runId === "fresh" &&
        error.message.includes("'fresh'") && !(error instanceof RunIdInUseError),
    );
    assert.equal(await Deno.readTextFile(join(stateDir, "runs")), "in the way");
  });
});

Deno.test("A save that fails makes run() reject with RunNotSavedError; the record stays in memory", async () => {
  await withStateDir(async (stateDir) => {
    const runner = new Runner({
      saveState: true,
      stateDir,
      runIdentifier: "lost",
      loggingSetting: "NONE",
    });
    // The runs folder turns into a file: nothing can be written any more.
    await Deno.remove(join(stateDir, "runs"), { recursive: true });
    await Deno.writeTextFile(join(stateDir, "runs"), "in the way");
    const error = await runner.run(one).then(() => null, (e) => e);
    assert.ok(error instanceof RunNotSavedError, String(error));
    assert.equal(error.runId, "lost");
    assert.equal(error.runError, undefined);
    assert.equal(runner.info.answer, 1);
    const failed = await runner.run(boom).then(() => null, (e) => e);
    assert.ok(failed instanceof RunNotSavedError);
    assert.ok(failed.runError instanceof RangeError);
    await assert.rejects(runner.shutdown(), RunNotSavedError);
  });
});

Deno.test("An unwritable logFile fails when the Runner is made", async () => {
  await withStateDir(async (dir) => {
    assert.throws(
      () => new Runner({ logFile: dir, loggingSetting: "NONE" }),
      (error: Error) =>
        error instanceof TypeError &&
        /Cannot create Runner as 'logFile' must be a file that can be appended to/.test(
          error.message,
        ) && error.message.includes(JSON.stringify(dir)),
    );
  });
});

Deno.test("Closing a session waits for async subscriber work in flight", async () => {
  const written: number[] = [];
  const runner = new Runner({
    loggingSetting: "NONE",
    subscriber: async (message) => {
      if (message.kind !== "success") return;
      await new Promise((resolve) => setTimeout(resolve, 0));
      await new Promise((resolve) => setTimeout(resolve, 0));
      written.push(1);
    },
  });
  for (let i = 0; i < 5; i++) await runner.run(one);
  await runner.shutdown();
  assert.equal(written.length, 5);
});

Deno.test("Closing a session gives up on a subscriber that never settles, after its bound", async () => {
  const never = Promise.withResolvers<void>();
  const session = new RunSession(
    parseExecutorConfig({ loggingSetting: "NONE", subscriber: () => never.promise }),
    { drainTimeout: 1, logging: "off" },
  );
  await session.request({ parentNodeId: null, node: one, args: [] });
  await session.close();
  assert.equal(session.isClosed, true);
  never.resolve();
});

Deno.test("Registered strategies and observers plug into every run", async () => {
  const seen: string[] = [];
  const closed: string[] = [];
  const removeStrategies = registerStrategies((config) =>
    config.runIdentifier.startsWith("plug") ? { inline: new AsyncExecutionStrategy() } : undefined
  );
  const removeObserver = registerRunObserver((run) => {
    run.publisher.subscribe((m) => void seen.push(`${run.kind}:${m.kind}`), "test");
    return { close: () => void closed.push(run.runId) };
  });
  try {
    const inline = node(() => "inline", { name: "inline" });
    {
      await using runner = new Runner({ runIdentifier: "plug-1", loggingSetting: "NONE" });
      assert.ok(runner.coordinator.systemDetail().modes.includes("inline"));
      await runner.run(inline);
    }
    {
      await using runner = new Runner({ runIdentifier: "other-1", loggingSetting: "NONE" });
      assert.ok(!runner.coordinator.systemDetail().modes.includes("inline"));
    }
  } finally {
    removeStrategies();
    removeObserver();
  }
  assert.deepEqual(seen, ["runner:creation", "runner:success"]);
  assert.deepEqual(closed, ["plug-1", "other-1"]);
});

Deno.test("A saving runner that has not run yet lists as live, and leaves nothing if it never runs", async () => {
  await withStateDir(async (stateDir) => {
    const runner = new Runner({
      saveState: true,
      stateDir,
      runIdentifier: "idle",
      loggingSetting: "NONE",
    });
    const run = await loadRun(stateDir, "idle");
    assert.equal(run.live, true);
    assert.notEqual(run.status, "Crashed");
    await runner.shutdown();
    assert.deepEqual([...Deno.readDirSync(join(stateDir, "runs"))], []);
  });
});

Deno.test("Registered observers attach to runners, the StateManager and flow jobs alike", async () => {
  const kinds: string[] = [];
  const remove = registerRunObserver((run) => void kinds.push(run.kind));
  try {
    {
      await using runner = new Runner({ loggingSetting: "NONE" });
      await runner.run(one);
    }
    const manager = StateManager.instance({ loggingSetting: "NONE" });
    manager.putState(new State("One", () => 1));
    const loop = manager.processStates();
    await manager.onIdle();
    await manager.signalStopping();
    await loop;
    await StateManager.reset();
    const flow = new Flow({ flowId: "observed" });
    flow.addRoutine(new Probe(() => {}), "probe");
    const job = await flow.execute("probe");
    await flow.waitForCompletion({ jobState: job });
  } finally {
    remove();
  }
  assert.deepEqual(kinds, ["runner", "states", "flow"]);
});
