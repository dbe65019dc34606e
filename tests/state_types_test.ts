// State's types follow its function: args and lazy args are checked against
// its parameters, and StateManager.resultOf() is typed by its result. The
// `@ts-expect-error` lines fail the type check (and so this test) if a wrong
// use stops being an error.
import assert from "node:assert/strict";
import { node, State, StateManager } from "../mod.ts";

function add(a: number, b: string): string {
  return `${a}${b}`;
}

Deno.test("State checks args and lazy args against its function's parameters", async () => {
  const fixed = new State("Fixed", add, { args: [1, "x"] });
  const lazy = new State("Lazy", add, { lazyArgs: [() => 2, () => Promise.resolve("y")] });
  const split = new State("Split", add, { args: [3], lazyArgs: [() => "z"] });
  const fromNode = new State("Node", node(add, { name: "add" }), { args: [4, "w"] });
  assert.deepEqual(
    await Promise.all([fixed, lazy, split, fromNode].map((s) => s.enterState())),
    ["1x", "2y", "3z", "4w"],
  );

  // @ts-expect-error: a string where a number goes
  new State("Bad", add, { args: ["1", "x"] });
  // @ts-expect-error: a lazy arg of the wrong type
  new State("Bad", add, { args: [1], lazyArgs: [() => 2] });
  // @ts-expect-error: a missing argument
  new State("Bad", add, { args: [1] });
  // @ts-expect-error: one argument too many
  new State("Bad", add, { args: [1, "x"], lazyArgs: [() => 3] });
  // @ts-expect-error: a node's parameters count too
  new State("Bad", node(add, { name: "add" }), { args: [1, 2] });
});

Deno.test("StateManager.resultOf() is typed by the state's result", async () => {
  const manager = StateManager.instance({ loggingSetting: "NONE" });
  try {
    const count = new State("Count", async () => 3);
    const double = new State("Double", (n: number) => n * 2, {
      lazyArgs: [() => manager.resultOf(count)],
    });
    const label = new State("Label", (n: number) => ({ label: `n=${n}` }), {
      lazyArgs: [() => manager.resultOf(double)],
    });
    manager.putStates([count, double, label]);
    const loop = manager.processStates();
    const result: { label: string } = await manager.resultOf(label);
    assert.equal(result.label, "n=6");
    // @ts-expect-error: the result is an object, not a number
    const wrong: number = await manager.resultOf(label);
    assert.equal(typeof wrong, "object");
    await manager.signalStopping();
    await loop;
  } finally {
    await StateManager.reset();
  }
});
