import assert from "node:assert/strict";
import { currentSignal, Gate, State, StateManager } from "../mod.ts";
import type { RuntimeMessage } from "../engine.ts";
import { service } from "./fixtures/state_services.ts";

/** Resolves once a worker has set `flags[index]`. */
async function started(flags: SharedArrayBuffer, index: number): Promise<void> {
  const result = Atomics.waitAsync(new Int32Array(flags), index, 0);
  if (result.async) await result.value;
}

Deno.test("StateManager.signalStopping() with states queued, running and gated at once ends them all", async () => {
  await StateManager.reset();
  const messages: RuntimeMessage[] = [];
  const manager = StateManager.instance({
    loggingSetting: "NONE",
    // A grace period no loaded machine reaches: each service returns its name once aborted.
    workers: { size: 2, gracePeriod: 600_000 },
    subscriber: (m) => void messages.push(m),
  });
  try {
    // Flags 0-2: running services; 3-4: gated services; 5-6: queued services.
    const flags = new SharedArrayBuffer(4 * 7);
    const gates = [new Gate(), new Gate()];
    const evaluated: string[] = [];
    const ran: string[] = [];
    const pollStarted = new Gate();
    let pollSaw: unknown = null;
    const running = ["Database", "Cache", "Worker"];
    manager.putStates([
      new State("Database", service, {
        isBlocking: true,
        longRunning: true,
        args: ["Database", flags, 0],
      }),
      new State("Cache", service, {
        isBlocking: true,
        longRunning: true,
        args: ["Cache", flags, 1],
      }),
      // A blocking state in the pool (not long-running).
      new State("Worker", service, { isBlocking: true, args: ["Worker", flags, 2] }),
      ...gates.map((gate, i) =>
        new State(`Gated${i}`, service, {
          isBlocking: true,
          event: gate,
          args: [`Gated${i}`, flags, 3 + i],
          // An extra argument, only to see when lazy args are evaluated.
          lazyArgs: [() => void evaluated.push(`Gated${i}`)] as never,
        })
      ),
      // Holds the queue: the states after it stay queued.
      new State("Poll", () =>
        new Promise<void>((resolve) => {
          const signal = currentSignal();
          signal.addEventListener("abort", () => {
            pollSaw = signal.reason;
            resolve();
          });
          pollStarted.set();
        })),
      new State("QueuedAsync", () => void ran.push("QueuedAsync")),
      new State("QueuedService", service, {
        isBlocking: true,
        args: ["QueuedService", flags, 5],
      }),
      new State("QueuedGated", service, {
        isBlocking: true,
        event: new Gate(),
        args: ["QueuedGated", flags, 6],
      }),
    ]);
    const loop = manager.processStates();
    await Promise.all([
      started(flags, 0),
      started(flags, 1),
      started(flags, 2),
      pollStarted.wait(),
    ]);
    assert.deepEqual(
      manager.activeTasks.map((a) => a.state.name).sort(),
      [...running, "Poll"].sort(),
    );

    await manager.signalStopping();
    await loop;
    // Gates opening late start nothing.
    for (const gate of gates) gate.set();
    await Promise.resolve();

    const view = new Int32Array(flags);
    assert.deepEqual([...view], [1, 1, 1, 0, 0, 0, 0]);
    assert.deepEqual(evaluated, []);
    assert.deepEqual(ran, []);
    assert.match(String(pollSaw), /The state manager is stopping/);
    // Each running service returned its name once it saw its signal.
    // (Poll's own function resolved too, with nothing.)
    const results = messages.filter((m) => m.kind === "success")
      .map((m) => (m as { result: unknown }).result)
      .filter((result) => result !== undefined);
    // (Each twice: its worker call, then the state's own request.)
    assert.deepEqual([...results].sort(), [...running, ...running].sort());
    const { requestHeap, nodeHeap } = manager.info;
    const top = requestHeap.insertionRequests.map((r) => [
      nodeHeap.get(r.sinkId)?.name,
      requestHeap.get(r.identifier)!.status,
    ]);
    assert.deepEqual(
      top.sort(),
      // Each ended on its own once asked to stop, so each is recorded as it ended.
      [...running, "Poll"].map((name) => [name, "Completed"]).sort(),
    );
    assert.equal(manager.activeTasks.length, 0);
    assert.equal(requestHeap.size, 4 + 3, "the three services' worker calls and nothing else");
  } finally {
    await StateManager.reset();
  }
});
