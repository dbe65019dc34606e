import assert from "node:assert/strict";
import { eventLogPath, loadRun } from "../persistence.ts";
import { Gate, RequestCancelledError, State, StateManager } from "../mod.ts";

/** Runs a test body on a fresh manager and always shuts it down. */
async function withManager(body: (manager: StateManager) => Promise<void>): Promise<void> {
  await StateManager.reset();
  const manager = StateManager.instance({ loggingSetting: "NONE" });
  try {
    await body(manager);
  } finally {
    await StateManager.reset();
  }
}

Deno.test("StateManager.onIdle() waits for a state at its gate and for blocking states", async () => {
  await withManager(async (manager) => {
    const open = new Gate();
    const first = new State("First", () => "first");
    const gated = new State("Gated", () => "gated", { event: open });
    const square = new State("Square", function square(n: number) {
      return n * n;
    }, { isBlocking: true, args: [9] });
    manager.putStates([first, gated, square]);
    const loop = manager.processStates();
    let idle = false;
    const idled = manager.onIdle().then(() => idle = true);
    await manager.resultOf(first);
    // Gated waits at its gate: it is in progress, so the manager is not idle.
    assert.equal(idle, false);
    open.set();
    await idled;
    assert.deepEqual(manager.info.answer, ["first", "gated", 81]);
    assert.equal(manager.activeTasks.length, 0);
    await manager.onIdle(); // idle already: at once
    await manager.signalStopping();
    await loop;
  });
});

Deno.test("StateManager.onIdle() resolves when the manager stops", async () => {
  await withManager(async (manager) => {
    manager.putState(new State("Never", () => "never", { event: new Gate() }));
    const loop = manager.processStates();
    const idled = manager.onIdle();
    await manager.signalStopping();
    await idled;
    await loop;
  });
});

Deno.test("StateManager.resultOf() gives a state's result, its error, or the stop reason", async () => {
  await withManager(async (manager) => {
    const count = new State("Count", () => 3);
    const double = new State("Double", (n: number) => n * 2, {
      lazyArgs: [() => manager.resultOf(count)],
    });
    const boom = new State("Boom", () => {
      throw new RangeError("boom");
    });
    const never = new State("Never", () => "never", { event: new Gate() });
    const unqueued = new State("Unqueued", () => "unqueued");
    const notYet = manager.resultOf(unqueued);
    manager.putStates([count, double, boom, never]);
    const loop = manager.processStates();
    assert.equal(await manager.resultOf(double), 6);
    assert.equal(await manager.resultOf(count), 3); // after it ran: at once
    await assert.rejects(manager.resultOf(boom), /RangeError: boom/);
    const waiting = manager.resultOf(never);
    await manager.signalStopping();
    await loop;
    await assert.rejects(waiting, /The state manager is stopping/);
    await assert.rejects(notYet, /The state manager is stopping/);
    await assert.rejects(
      manager.resultOf(new State("Late", () => 1)),
      /Cannot get the result of state 'Late' as it did not run before the state manager stopped/,
    );
    assert.throws(
      () => manager.resultOf("Count" as unknown as State),
      /Cannot get a state's result as 'state' must be a State: current value is/,
    );
  });
});

Deno.test("StateManager.resultOf() rejects with the cancellation of a state stopped while running", async () => {
  await withManager(async (manager) => {
    const started = Promise.withResolvers<void>();
    const hang = new State("Hang", () => {
      started.resolve();
      return new Promise(() => {});
    });
    manager.putState(hang);
    const loop = manager.processStates();
    await started.promise;
    const result = manager.resultOf(hang);
    await manager.signalStopping();
    await loop;
    await assert.rejects(result, RequestCancelledError);
  });
});

Deno.test("StateManager with saveState appends an event log while it runs and saves on stop", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-states-" });
  await StateManager.reset();
  const manager = StateManager.instance({
    loggingSetting: "NONE",
    saveState: true,
    stateDir,
    runIdentifier: "states-saved",
  });
  try {
    const first = new State("First", () => 1);
    manager.putStates([first, new State("Second", () => 2)]);
    const loop = manager.processStates();
    await manager.resultOf(first);
    const live = await loadRun(stateDir, "states-saved");
    assert.equal(live.source, "events");
    await manager.onIdle();
    await manager.signalStopping();
    await loop;
    const log = await Deno.readTextFile(eventLogPath(stateDir, "states-saved"));
    assert.deepEqual(
      log.trim().split("\n").map((line) => JSON.parse(line).event),
      ["start", "created", "completed", "created", "completed", "saved"],
    );
    const run = await loadRun(stateDir, "states-saved");
    assert.equal(run.source, "snapshot");
    assert.equal(run.status, "Completed");
    assert.deepEqual(run.runs.map((r) => r.name), ["First", "Second"]);
  } finally {
    await StateManager.reset();
    await Deno.remove(stateDir, { recursive: true });
  }
});
