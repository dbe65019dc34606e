import assert from "node:assert/strict";
import { configureSync } from "@logtape/logtape";
import { call, Gate, node, RequestCancelledError, State } from "../mod.ts";

// The states here fail on purpose: keep their log lines out of the output.
configureSync({
  reset: true,
  sinks: {},
  loggers: [{ category: ["logtape", "meta"], sinks: [], lowestLevel: "fatal" }],
});

Deno.test("State.enterState() waits for the gate, then evaluates lazy args, then runs", async () => {
  const steps: string[] = [];
  const gate = new Gate();
  let value = "at put time";
  const state = new State("Lazy", (fixed: string, lazy: string) => {
    steps.push("run");
    return `${fixed}/${lazy}`;
  }, {
    args: ["fixed"],
    lazyArgs: [() => {
      steps.push("lazy");
      return value;
    }],
    event: gate,
  });
  const entered = state.enterState();
  await Promise.resolve();
  assert.equal(steps.length, 0);
  value = "at start time";
  steps.push("gate");
  gate.set();
  assert.equal(await entered, "fixed/at start time");
  assert.deepEqual(steps, ["gate", "lazy", "run"]);
});

Deno.test("State.enterState() awaits lazy args that return promises, in order", async () => {
  const state = new State(
    "Sum",
    (a: number, b: number, c: number) => a + b + c,
    {
      args: [1],
      lazyArgs: [() => Promise.resolve(10), async () => await 100],
    },
  );
  assert.equal(await state.enterState(), 111);
});

Deno.test("State.enterState() names the state and the index of a lazy arg that throws", async () => {
  const cause = new Error("no files");
  const state = new State("Hash", (x: unknown, _y: unknown) => x, {
    lazyArgs: [() => 1, () => {
      throw cause;
    }],
  });
  await assert.rejects(state.enterState(), (error: Error) => {
    assert.match(
      error.message,
      /state 'Hash' as 'lazyArgs\[1\]' threw: no files/,
    );
    assert.equal(error.cause, cause);
    return true;
  });
});

Deno.test("State.enterState() stops waiting at the gate when its signal aborts", async () => {
  let ran = false;
  const state = new State("Serve", () => ran = true, { event: new Gate() });
  const controller = new AbortController();
  const entered = state.enterState({ signal: controller.signal });
  controller.abort(new Error("stopping"));
  await assert.rejects(entered, /stopping/);
  assert.equal(ran, false);
});

Deno.test("State.enterState() passes the node and final args to its run option", async () => {
  const double = node((x: number) => x * 2, { name: "double" });
  const state = new State("Double", double, { args: [21] });
  const seen: unknown[] = [];
  const result = await state.enterState({
    run: (s, args) => {
      seen.push(s.node, args);
      return call(s.node, ...args);
    },
  });
  assert.equal(result, 42);
  assert.deepEqual(seen, [double, [21]]);
});

Deno.test("State.enterState() rethrows what the function threw", async () => {
  const state = new State("Fail", () => {
    throw new RangeError("bad");
  });
  await assert.rejects(state.enterState(), RangeError);
  const cancelled = new State("Cancelled", () => 1);
  await assert.rejects(
    cancelled.enterState({
      run: () => Promise.reject(new RequestCancelledError("r", "Cancelled")),
    }),
    RequestCancelledError,
  );
});

Deno.test("State resolves its node and function name", () => {
  function migrate() {}
  const plain = new State("Migrate", migrate);
  assert.equal(plain.node.name, "Migrate");
  assert.equal(plain.node.mode, "async");
  assert.equal(plain.node.fn, migrate);
  // Made when first read, then the same node at every read.
  assert.equal(plain.node, plain.node);
  assert.equal(plain.functionName, "migrate");
  const named = node(() => Promise.resolve(1), { name: "one" });
  assert.equal(new State("One", named).node, named);
  assert.equal(new State("One", named).functionName, "one");
  const blocking = new State("Hash", function hash(x?: number) {
    return x;
  }, { isBlocking: true });
  assert.equal(blocking.node.mode, "worker");
  assert.equal(blocking.node.name, "hash");
  assert.equal(new State("Anon", () => 1).functionName, "anonymous");
});

Deno.test("State rejects bad input with errors naming the state and the value", () => {
  const f = () => 1;
  assert.throws(
    () => new State("", f),
    /'name' must be a non-empty string: current value is ""/,
  );
  assert.throws(
    () => new State(undefined as unknown as string, f),
    /'name' must be a non-empty string: current value is undefined/,
  );
  assert.throws(
    () => new State("Nothing", undefined as unknown as () => void),
    /state 'Nothing' as 'fn' must be a function or a node: current value is undefined/,
  );
  assert.throws(
    () => new State("Lazy", f, { lazyArgs: [() => 1, 42] } as never),
    /state 'Lazy' as 'lazyArgs\[1\]' must be a function: current value is 42/,
  );
  assert.throws(
    () => new State("Args", f, { args: "x" } as never),
    /state 'Args' as 'args' must be an array: current value is "x"/,
  );
  assert.throws(
    () => new State("Gate", f, { event: {} as Gate }),
    /state 'Gate' as 'event' must be a Gate: current value is {}/,
  );
  assert.throws(
    () => new State("Flag", f, { isBlocking: "yes" as unknown as boolean }),
    /state 'Flag' as 'isBlocking' must be a boolean: current value is "yes"/,
  );
  assert.throws(
    () => new State("Service", f, { longRunning: true }),
    /state 'Service' as 'isBlocking' must be true for a long-running state/,
  );
});

Deno.test("State rejects a blocking state whose function cannot run in a worker", () => {
  const asyncNode = node(() => Promise.resolve(1), { name: "fetchRows" });
  assert.throws(
    () => new State("Rows", asyncNode, { isBlocking: true }),
    (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(
        error.message,
        /state 'Rows' as 'fn' must run in a worker for a blocking state: current value is async node 'fetchRows'/,
      );
      return true;
    },
  );
  assert.throws(
    () => new State("Native", Math.max, { isBlocking: true }),
    /state 'Native' as 'fn' must be a self-contained function/,
  );
  const methods = {
    hash(x: number) {
      return x;
    },
  };
  assert.throws(
    () => new State("Method", methods.hash, { isBlocking: true } as never),
    /state 'Method' as 'fn' must be a self-contained function/,
  );
});
