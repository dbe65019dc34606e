/**
 * StateManager tests that run blocking states in real Web Workers.
 */
import assert from "node:assert/strict";
import {
  type ExecutorConfigInput,
  Gate,
  node,
  State,
  StateManager,
  WorkerTaskError,
} from "../mod.ts";
import type { RuntimeMessage } from "../engine.ts";
import { service } from "./fixtures/state_services.ts";

/** A fresh manager whose subscriber feeds `messages`; always shut down. */
async function withManager(
  config: ExecutorConfigInput,
  body: (manager: StateManager, messages: MessageLog) => Promise<void>,
): Promise<void> {
  await StateManager.reset();
  const messages = new MessageLog();
  const manager = StateManager.instance({
    loggingSetting: "NONE",
    ...config,
    subscriber: (m) => messages.add(m),
  });
  try {
    await body(manager, messages);
  } finally {
    await StateManager.reset();
  }
}

/** Every runtime message, with a way to wait for one. */
class MessageLog {
  readonly all: RuntimeMessage[] = [];
  #waiters: { match: (m: RuntimeMessage) => boolean; resolve: () => void }[] = [];

  add(message: RuntimeMessage): void {
    this.all.push(message);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(message)) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once a message matches (at once if one did already). */
  until(match: (m: RuntimeMessage) => boolean): Promise<void> {
    if (this.all.some(match)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }
}

/** The top-level request of the state of that name. */
function requestOf(manager: StateManager, name: string) {
  const { requestHeap, nodeHeap } = manager.info;
  const found = requestHeap.insertionRequests.filter((r) => nodeHeap.get(r.sinkId)?.name === name);
  assert.equal(found.length, 1, `one request for state '${name}'`);
  return found[0];
}

/** Whether a message ends the request of the state of that name. */
function ends(manager: StateManager, name: string) {
  return (m: RuntimeMessage): boolean =>
    (m.kind === "success" || m.kind === "failure") &&
    manager.info.nodeHeap.get(
        manager.info.requestHeap.get(m.requestId)?.sinkId ?? "",
      )?.name === name &&
    manager.info.requestHeap.get(m.requestId)?.sourceId === null;
}

/** Resolves once a worker has set `flags[index]`. */
async function started(flags: SharedArrayBuffer, index: number): Promise<void> {
  const view = new Int32Array(flags);
  const result = Atomics.waitAsync(view, index, 0);
  if (result.async) await result.value;
}

Deno.test("StateManager runs a blocking state in a worker while the states after it run", async () => {
  await withManager({ workers: { size: 1 } }, async (manager, messages) => {
    const shared = new SharedArrayBuffer(8);
    // Blocks its worker until a later state has run on the main thread
    // (the 10 s limit only turns a bug into a failure instead of a hang).
    const hash = new State(
      "Hash",
      function waitForLater(buffer: SharedArrayBuffer) {
        const view = new Int32Array(buffer);
        const outcome = Atomics.wait(view, 0, 0, 10_000);
        return outcome === "timed-out" ? "timed out" : Atomics.load(view, 1);
      },
      { isBlocking: true, args: [shared] },
    );
    manager.putStates([
      hash,
      new State("Later", () => {
        const view = new Int32Array(shared);
        Atomics.store(view, 1, 42);
        Atomics.store(view, 0, 1);
        Atomics.notify(view, 0);
      }),
    ]);
    const loop = manager.processStates();
    await messages.until(ends(manager, "Hash"));
    const request = requestOf(manager, "Hash");
    assert.equal(request.status, "Completed");
    assert.equal(request.output, 42);
    assert.equal(requestOf(manager, "Later").status, "Completed");
    // The state's request called the worker node: one child, run in a worker.
    const [child] = manager.info.requestHeap.children(request.sinkId);
    assert.equal(manager.info.nodeHeap.get(child.sinkId)?.name, "waitForLater");
    assert.equal(manager.info.nodeHeap.get(child.sinkId)?.nodeType, "worker");
    assert.equal(child.output, 42);
    await manager.signalStopping();
    await loop;
  });
});

Deno.test("StateManager records a blocking state that throws as failed and goes on", async () => {
  await withManager({ workers: { size: 1 } }, async (manager, messages) => {
    manager.putStates([
      new State("Crash", function crash() {
        throw new RangeError("bad input");
      }, { isBlocking: true }),
      new State("Next", () => "ok"),
    ]);
    const loop = manager.processStates();
    await messages.until(ends(manager, "Crash"));
    const crash = requestOf(manager, "Crash");
    assert.equal(crash.status, "Failed");
    assert.ok(crash.output instanceof WorkerTaskError);
    assert.match(String(crash.output), /bad input/);
    await messages.until(ends(manager, "Next"));
    assert.equal(requestOf(manager, "Next").output, "ok");
    await manager.signalStopping();
    await loop;
  });
});

Deno.test("StateManager.signalStopping() twice is safe and stops services in reverse start order", async () => {
  // A grace period no loaded machine reaches: each service returns its name once aborted.
  await withManager({ workers: { gracePeriod: 600_000 } }, async (manager, messages) => {
    const flags = new SharedArrayBuffer(12);
    const names = ["Database", "Cache", "Api"];
    manager.putStates(
      names.map((name, i) =>
        new State(name, service, {
          isBlocking: true,
          longRunning: true,
          args: [name, flags, i],
        })
      ),
    );
    const loop = manager.processStates();
    await Promise.all(names.map((_, i) => started(flags, i)));
    assert.deepEqual(manager.activeTasks.map((a) => a.state.name), names);

    const first = manager.signalStopping();
    const second = manager.signalStopping();
    assert.equal(second, first);
    await Promise.all([first, second, loop]);
    await manager.signalStopping();

    // Each service returned its name once its signal aborted; the worker
    // results arrived one by one, last started first.
    const results = messages.all
      .filter((m) => m.kind === "success")
      .map((m) => (m as { result: unknown }).result);
    // (each twice: its worker call, then the state's own request).
    assert.deepEqual(results, ["Api", "Api", "Cache", "Cache", "Database", "Database"]);
    // A service that returns once asked to stop is recorded with its value.
    for (const name of names) {
      assert.equal(requestOf(manager, name).status, "Completed");
      assert.equal(requestOf(manager, name).output, name);
    }
    assert.equal(manager.activeTasks.length, 0);
  });
});

Deno.test("StateManager terminates a service that ignores its signal after the grace period", async () => {
  await withManager({ workers: { gracePeriod: 10 } }, async (manager) => {
    const flags = new SharedArrayBuffer(4);
    manager.putState(
      new State("Stubborn", function ignoreSignal(buffer: SharedArrayBuffer) {
        const view = new Int32Array(buffer);
        Atomics.store(view, 0, 1);
        Atomics.notify(view, 0);
        return new Promise(() => {});
      }, { isBlocking: true, longRunning: true, args: [flags] }),
    );
    const loop = manager.processStates();
    await started(flags, 0);
    await manager.signalStopping();
    await loop;
    const request = requestOf(manager, "Stubborn");
    assert.equal(request.status, "Cancelled");
    assert.equal(manager.activeTasks.length, 0);
  });
});

Deno.test("StateManager runs a service and a short blocking state side by side on a pool of size 1", async () => {
  await withManager({ workers: { size: 1 } }, async (manager, messages) => {
    const flags = new SharedArrayBuffer(4);
    const square = node(function square(x: number) {
      return x * x;
    }, { worker: true });
    manager.putStates([
      new State("Serve", service, {
        isBlocking: true,
        longRunning: true,
        args: ["Serve", flags, 0],
      }),
      new State("Square", square, { isBlocking: true, args: [12] }),
      new State("Square again", square, { isBlocking: true, args: [5] }),
    ]);
    const loop = manager.processStates();
    await started(flags, 0);
    await messages.until(ends(manager, "Square"));
    await messages.until(ends(manager, "Square again"));
    assert.equal(requestOf(manager, "Square").output, 144);
    assert.equal(requestOf(manager, "Square again").output, 25);
    // The service still runs: it never took the pool's only worker.
    assert.deepEqual(manager.activeTasks.map((a) => a.state.name), ["Serve"]);
    await manager.signalStopping();
    await loop;
  });
});

Deno.test("StateManager stops a blocking state waiting at its gate without starting it", async () => {
  await withManager({}, async (manager) => {
    const gate = new Gate();
    manager.putState(
      new State("Gated", function never() {
        return 1;
      }, { isBlocking: true, event: gate }),
    );
    const loop = manager.processStates();
    await manager.signalStopping();
    await loop;
    gate.set();
    assert.equal(manager.info.requestHeap.size, 0);
  });
});
