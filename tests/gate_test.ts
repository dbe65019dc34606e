import assert from "node:assert/strict";
import { Gate } from "../mod.ts";

Deno.test("Gate.wait() resolves once set and at once while set", async () => {
  const gate = new Gate();
  const order: string[] = [];
  const first = gate.wait().then(() => order.push("first"));
  const second = gate.wait().then(() => order.push("second"));
  await Promise.resolve();
  assert.equal(order.length, 0);
  gate.set();
  await Promise.all([first, second]);
  assert.deepEqual(order, ["first", "second"]);
  assert.equal(gate.isSet, true);
  await gate.wait();
});

Deno.test("Gate.clear() makes later waits wait again", async () => {
  const gate = new Gate();
  gate.set();
  gate.clear();
  assert.equal(gate.isSet, false);
  let released = false;
  const waiting = gate.wait().then(() => released = true);
  await Promise.resolve();
  assert.equal(released, false);
  gate.set();
  await waiting;
  assert.equal(released, true);
});

Deno.test("Gate.wait() rejects with the signal's reason when it aborts", async () => {
  const gate = new Gate();
  const controller = new AbortController();
  const waiting = gate.wait(controller.signal);
  const reason = new Error("stopping");
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
  // The aborted waiter is gone: setting the gate later releases nobody twice.
  gate.set();
  await assert.rejects(gate.wait(controller.signal), (e) => e === reason);
});

Deno.test("Gate.wait() rejects a signal that is not an AbortSignal", () => {
  assert.throws(
    () => new Gate().wait("soon" as unknown as AbortSignal),
    /'signal' must be an AbortSignal: current value is "soon"/,
  );
});

Deno.test("Gate.set() on an open gate does nothing", async () => {
  const gate = new Gate();
  gate.set();
  gate.set();
  assert.equal(gate.isSet, true);
  await gate.wait(new AbortController().signal);
});
