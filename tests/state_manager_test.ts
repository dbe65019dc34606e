import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import {
  call,
  currentSignal,
  type ExecutorConfigInput,
  Gate,
  GlobalTimeoutError,
  node,
  RequestCancelledError,
  State,
  StateFailedError,
  StateManager,
} from "../mod.ts";

const QUIET: ExecutorConfigInput = { loggingSetting: "NONE" };

/** Runs a test body on a fresh manager and always shuts it down. */
async function withManager(
  config: ExecutorConfigInput,
  body: (manager: StateManager) => Promise<void>,
): Promise<void> {
  await StateManager.reset();
  const manager = StateManager.instance(config);
  try {
    await body(manager);
  } finally {
    await StateManager.reset();
  }
}

/** The top-level request of the state of that name. */
function requestOf(manager: StateManager, name: string) {
  const { requestHeap, nodeHeap } = manager.info;
  const found = requestHeap.insertionRequests.filter((r) => nodeHeap.get(r.sinkId)?.name === name);
  assert.equal(found.length, 1, `one request for state '${name}'`);
  return found[0];
}

Deno.test("StateManager.processStates() runs non-blocking states one at a time in FIFO order", async () => {
  await withManager(QUIET, async (manager) => {
    const events: string[] = [];
    const done = new Gate();
    const states = Array.from(
      { length: 20 },
      (_, i) =>
        new State(`S${i}`, async () => {
          events.push(`start ${i}`);
          // A varying number of turns, so a later state could overtake.
          for (let k = 0; k < (i * 7) % 5; k++) await Promise.resolve();
          events.push(`end ${i}`);
          return i;
        }),
    );
    manager.putStates(states.slice(0, 10));
    const loop = manager.processStates();
    manager.putStates(states.slice(10));
    manager.putState(new State("Done", () => done.set()));
    await done.wait();
    await manager.signalStopping();
    await loop;
    assert.deepEqual(
      events,
      states.flatMap((_, i) => [`start ${i}`, `end ${i}`]),
    );
    for (let i = 0; i < 20; i++) {
      const request = requestOf(manager, `S${i}`);
      assert.equal(request.status, "Completed");
      assert.equal(request.output, i);
    }
  });
});

Deno.test("StateManager.info lists each state as a top-level request with its calls as children", async () => {
  await withManager(QUIET, async (manager) => {
    const double = node((x: number) => Promise.resolve(x * 2), {
      name: "double",
    });
    const increment = node((x: number) => x + 1, { name: "increment" });
    const done = new Gate();
    manager.putStates([
      new State("Compute", async function compute(x: number) {
        return await call(increment, await call(double, x));
      }, { args: [20] }),
      new State("Twice", double, { args: [4] }),
      new State("Done", () => done.set()),
    ]);
    const loop = manager.processStates();
    await done.wait();
    await manager.signalStopping();
    await loop;

    const { requestHeap, nodeHeap } = manager.info;
    const roots = requestHeap.insertionRequests;
    assert.deepEqual(
      roots.map((r) => nodeHeap.get(r.sinkId)?.name),
      ["Compute", "Twice", "Done"],
    );
    assert.ok(roots.every((r) => r.sourceId === null));
    assert.ok(roots.every((r) => nodeHeap.get(r.sinkId)?.nodeType === "state"));

    const compute = requestOf(manager, "Compute");
    assert.deepEqual(compute.input, [20]);
    assert.equal(compute.output, 41);
    assert.deepEqual(
      requestHeap.children(compute.sinkId).map((r) => [
        nodeHeap.get(r.sinkId)?.name,
        r.input,
        r.output,
      ]),
      [["double", [20], 40], ["increment", [40], 41]],
    );
    // A node of another name than the state's is a child call of the state.
    const twice = requestOf(manager, "Twice");
    assert.equal(twice.output, 8);
    assert.deepEqual(
      requestHeap.children(twice.sinkId).map((r) => nodeHeap.get(r.sinkId)?.name),
      ["double"],
    );
  });
});

Deno.test("StateManager passes lazy args their value at start, after the gate opened", async () => {
  await withManager(QUIET, async (manager) => {
    const gate = new Gate();
    let config = { port: 0 };
    const seen: unknown[] = [];
    const done = new Gate();
    manager.putStates([
      new State("Serve", (host: string, port: number) => {
        seen.push(`${host}:${port}`);
        return port;
      }, { args: ["127.0.0.1"], lazyArgs: [() => config.port], event: gate }),
      new State("Done", () => done.set()),
    ]);
    const loop = manager.processStates();
    config = { port: 8080 };
    await Promise.resolve();
    assert.equal(seen.length, 0);
    gate.set();
    await done.wait();
    await manager.signalStopping();
    await loop;
    assert.deepEqual(seen, ["127.0.0.1:8080"]);
    assert.deepEqual(requestOf(manager, "Serve").input, ["127.0.0.1", 8080]);
  });
});

Deno.test("StateManager records a failed state and goes on", async () => {
  await withManager(QUIET, async (manager) => {
    const done = new Gate();
    manager.putStates([
      new State("Break", () => {
        throw new RangeError("broken");
      }),
      new State("After", () => "still running"),
      new State("Done", () => done.set()),
    ]);
    const loop = manager.processStates();
    await done.wait();
    await manager.signalStopping();
    await loop;
    const broken = requestOf(manager, "Break");
    assert.equal(broken.status, "Failed");
    assert.ok(broken.output instanceof RangeError);
    assert.equal(requestOf(manager, "After").output, "still running");
  });
});

Deno.test("StateManager with endOnError stops at the first failure and rejects processStates()", async () => {
  await withManager({ ...QUIET, endOnError: true }, async (manager) => {
    let laterRan = false;
    manager.putStates([
      new State("Fine", () => 1),
      new State("Break", () => {
        throw new RangeError("broken");
      }),
      new State("Later", () => laterRan = true),
    ]);
    await assert.rejects(manager.processStates(), (error: unknown) => {
      assert.ok(error instanceof StateFailedError);
      assert.equal(error.stateName, "Break");
      assert.ok(error.cause instanceof RangeError);
      return true;
    });
    assert.equal(manager.isStopping, true);
    assert.equal(laterRan, false);
    assert.equal(manager.queued, 0);
    assert.equal(requestOf(manager, "Fine").status, "Completed");
    assert.equal(requestOf(manager, "Break").status, "Failed");
  });
});

Deno.test("StateManager.signalStopping() stops a state waiting at its gate and a running state", async () => {
  await withManager(QUIET, async (manager) => {
    const started = new Gate();
    let aborted: unknown = null;
    manager.putState(
      new State("Poll", () =>
        new Promise<void>((resolve) => {
          const signal = currentSignal();
          signal.addEventListener("abort", () => {
            aborted = signal.reason;
            resolve();
          });
          started.set();
        })),
    );
    const loop = manager.processStates();
    await started.wait();
    const [poll] = manager.activeTasks;
    assert.equal(poll.state.name, "Poll");
    assert.equal(poll.requestId, requestOf(manager, "Poll").identifier);
    assert.ok(poll.startedAt <= performance.timeOrigin + performance.now());
    await manager.signalStopping();
    await loop;
    assert.match(String(aborted), /The state manager is stopping/);
    // Poll ended on its own once asked to stop: what it did is recorded.
    assert.equal(requestOf(manager, "Poll").status, "Completed");
    assert.equal(manager.activeTasks.length, 0);
  });

  await withManager(QUIET, async (manager) => {
    let ran = false;
    manager.putStates([
      new State("Wait", () => ran = true, { event: new Gate() }),
      new State("Never", () => ran = true),
    ]);
    const loop = manager.processStates();
    await Promise.resolve();
    await manager.signalStopping();
    await loop;
    assert.equal(ran, false);
    assert.equal(manager.info.requestHeap.size, 0);
  });
});

Deno.test("StateManager.signalStopping() is idempotent and refuses new states", async () => {
  await withManager(QUIET, async (manager) => {
    const loop = manager.processStates();
    const first = manager.signalStopping();
    assert.equal(manager.signalStopping(), first);
    await first;
    await manager.signalStopping();
    await loop;
    assert.equal(manager.processStates(), loop);
    assert.throws(
      () => manager.putState(new State("Late", () => 1)),
      /Cannot queue state 'Late' as the state manager is stopping/,
    );
    assert.throws(
      () => manager.putStates([new State("Later", () => 1)]),
      /Cannot queue state 'Later' as the state manager is stopping/,
    );
  });
});

Deno.test("StateManager.putStates() queues nothing when one item is invalid", async () => {
  await withManager(QUIET, (manager) => {
    manager.putState(new State("First", () => 1));
    assert.throws(
      () =>
        manager.putStates([
          new State("Second", () => 2),
          "Third" as unknown as State,
        ]),
      /Cannot queue a state as 'states\[1\]' must be a State: current value is "Third"/,
    );
    assert.equal(manager.queued, 1);
    assert.throws(
      () => manager.putStates(42 as unknown as State[]),
      /'states' must be an iterable of State: current value is 42/,
    );
    assert.throws(
      () => manager.putState({ name: "fake" } as unknown as State),
      /Cannot queue a state as 'state' must be a State: current value is \{"name":"fake"\}/,
    );
    assert.equal(manager.queued, 1);
    return Promise.resolve();
  });
});

Deno.test("StateManager.instance() is a singleton that refuses a different config", async () => {
  await withManager({ ...QUIET, endOnError: true }, async (manager) => {
    assert.equal(StateManager.instance(), manager);
    assert.equal(
      StateManager.instance({ loggingSetting: "NONE", endOnError: true }),
      manager,
    );
    assert.throws(
      () => StateManager.instance({ loggingSetting: "NONE" }),
      /'config.endOnError' must match the existing manager's \(true; .*\): current value is false/,
    );
    assert.throws(
      () => StateManager.instance({ timeout: -1 }),
      /'timeout' must be positive/,
    );
    await StateManager.reset();
    const fresh = StateManager.instance(QUIET);
    assert.notEqual(fresh, manager);
    assert.equal(manager.isStopping, true);
  });
});

Deno.test("StateManager cancels a state that passes config.timeout", async () => {
  await withManager({ ...QUIET, timeout: 5 }, async (manager) => {
    const done = new Gate();
    manager.putStates([
      new State(
        "Hang",
        () =>
          new Promise((_, reject) =>
            currentSignal().addEventListener(
              "abort",
              () => reject(new Error("stopped")),
            )
          ),
      ),
      new State("Done", () => done.set()),
    ]);
    const loop = manager.processStates();
    await done.wait();
    await manager.signalStopping();
    await loop;
    const hang = requestOf(manager, "Hang");
    assert.equal(hang.status, "Cancelled");
    assert.ok(hang.output instanceof RequestCancelledError);
    assert.ok(hang.output.cause instanceof GlobalTimeoutError);
  });
});

Deno.test("StateManager logs one line per transition with names and timings", async () => {
  await withManager({ loggingSetting: "VERBOSE" }, async (manager) => {
    const records: LogRecord[] = [];
    configureSync({
      reset: true,
      sinks: { capture: (record) => records.push(record) },
      loggers: [
        { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
        {
          category: ["switchyard", "states"],
          sinks: ["capture"],
          lowestLevel: "debug",
        },
      ],
    });
    try {
      const gate = new Gate();
      const done = new Gate();
      manager.putStates([
        new State("Open", function openDoor(x: number) {
          return x;
        }, { event: gate, lazyArgs: [() => 1] }),
        new State("Break", function breakDoor() {
          throw new Error("stuck");
        }),
        new State("Done", () => done.set()),
      ]);
      const loop = manager.processStates();
      gate.set();
      await done.wait();
      await manager.signalStopping();
      await loop;
    } finally {
      resetSync();
    }
    const lines = records
      .filter((r) => r.properties.state !== undefined)
      .map((r) =>
        `${r.level} ${r.properties.state} ${r.properties.fn} ${
          String(r.rawMessage).replace(/^State \{state\}( \(\{fn\}\))? /, "")
            .replace(/ at \{at\}.*/, "")
        }`
      );
    assert.deepEqual(lines, [
      "debug Open openDoor queued",
      "debug Break breakDoor queued",
      "debug Done anonymous queued",
      "info Open openDoor waiting for its gate",
      "debug Open openDoor evaluating its lazy args",
      "info Open openDoor started",
      "info Open openDoor completed",
      "info Break breakDoor started",
      "error Break breakDoor failed",
      "debug Break breakDoor error in full: {error}",
      "info Done anonymous started",
      "info Done anonymous completed",
      "debug Done anonymous ended {ms} ms after it was asked to stop",
    ]);
    for (const record of records) {
      if (record.properties.at !== undefined) {
        assert.equal(typeof record.properties.at, "number");
      }
    }
  });
});

Deno.test("StateManager.signalStopping() does not wait for a lazy arg that never settles", async () => {
  await withManager(QUIET, async (manager) => {
    let ran = false;
    const evaluating = new Gate();
    manager.putState(
      new State("Stuck", (_never: unknown) => ran = true, {
        lazyArgs: [() => {
          evaluating.set();
          return new Promise(() => {});
        }],
      }),
    );
    const loop = manager.processStates();
    await evaluating.wait();
    await manager.signalStopping();
    await loop;
    assert.equal(ran, false);
    assert.equal(manager.info.requestHeap.size, 0);
  });
});

Deno.test("StateManager with endOnError stops when a lazy arg throws, without an unhandled rejection", async () => {
  await withManager({ ...QUIET, endOnError: true }, async (manager) => {
    manager.putStates([
      new State("Config", (port: number) => port, {
        lazyArgs: [() => Promise.reject(new Error("no config file"))],
      }),
      new State("Never", () => 1),
    ]);
    const loop = manager.processStates();
    const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));
    while (!manager.isStopping) await nextTurn();
    await manager.signalStopping();
    // The loop has rejected by now, and nothing awaited it over a turn of
    // the event loop: that must not count as an unhandled rejection.
    await nextTurn();
    await assert.rejects(loop, (error: unknown) => {
      assert.ok(error instanceof StateFailedError);
      assert.equal(error.stateName, "Config");
      assert.match(
        String((error.cause as Error).message),
        /state 'Config' as 'lazyArgs\[0\]' threw: no config file/,
      );
      return true;
    });
    assert.equal(manager.info.requestHeap.size, 0);
  });
});

Deno.test("StateManager with saveState saves the run when it stops", async () => {
  const stateDir = await Deno.makeTempDir();
  try {
    await withManager(
      { ...QUIET, saveState: true, stateDir, runIdentifier: "startup" },
      async (manager) => {
        const done = new Gate();
        manager.putStates([
          new State("Migrate", () => 3),
          new State("Done", () => done.set()),
        ]);
        const loop = manager.processStates();
        await done.wait();
        await manager.signalStopping();
        await loop;
      },
    );
    const saved = JSON.parse(
      await Deno.readTextFile(`${stateDir}/runs/startup.json`),
    );
    assert.equal(saved.runId, "startup");
    assert.deepEqual(
      saved.runs.map((run: { name: string }) => run.name),
      ["Migrate", "Done"],
    );
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("StateManager.signalStopping() records how a running state ended once asked to stop", async () => {
  const cases: [string, (signal: AbortSignal) => Promise<unknown>, string][] = [
    ["returns", () => Promise.resolve("closed cleanly"), "Completed"],
    ["throws the stop's reason", (signal) => Promise.reject(signal.reason), "Cancelled"],
    ["fails otherwise", () => Promise.reject(new Error("flush failed")), "Failed"],
  ];
  for (const [label, onAbort, status] of cases) {
    await withManager(QUIET, async (manager) => {
      const running = new Gate();
      const state = new State("Serve", () =>
        new Promise((resolve, reject) => {
          const signal = currentSignal();
          signal.addEventListener("abort", () => onAbort(signal).then(resolve, reject));
          running.set();
        }));
      manager.putState(state);
      const result = manager.resultOf(state);
      result.catch(() => {});
      const loop = manager.processStates();
      await running.wait();
      await manager.signalStopping();
      await loop;
      const request = requestOf(manager, "Serve");
      assert.equal(request.status, status, label);
      if (status === "Completed") {
        assert.equal(request.output, "closed cleanly");
        assert.equal(await result, "closed cleanly");
      } else if (status === "Cancelled") {
        assert.ok(request.output instanceof RequestCancelledError, label);
        assert.match(String(request.output.cause), /The state manager is stopping/);
      } else {
        assert.match(String(request.output), /flush failed/);
      }
    });
  }
});
