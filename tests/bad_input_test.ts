import assert from "node:assert/strict";
import fc from "fast-check";
import { ErrorHandler, Flow, Gate, node, Runner, State } from "../mod.ts";
import { main } from "../src/cli/main.ts";

/** Values that break naive formatting: no prototype, null toString, throwing getters. */
const hostile = fc.constantFrom<unknown>(
  Object.create(null),
  { toString: null },
  { toString: () => ({}) },
  { [Symbol.toPrimitive]: () => ({}) },
  {
    get then() {
      throw new Error("getter");
    },
  },
  Symbol("s"),
  10n,
  new Proxy({}, {}),
  [1, [2, [3]]],
  () => 1,
  new Gate(),
  node(() => 1, { name: "n" }),
);
const value = fc.oneof(fc.anything({ withObjectString: true, withNullPrototype: true }), hostile);

Deno.test("new State() with arbitrary input either builds a state or throws a named TypeError", () => {
  const options = fc.oneof(
    value,
    fc.record({
      args: value,
      lazyArgs: fc.oneof(value, fc.array(value, { maxLength: 3 })),
      isBlocking: fc.oneof(fc.boolean(), value),
      longRunning: fc.oneof(fc.boolean(), value),
      event: value,
    }, { requiredKeys: [] }),
  );
  const fn = fc.oneof(value, fc.constant(() => 1), fc.constant(node(() => 1, { name: "n" })));
  fc.assert(
    fc.property(fc.oneof(fc.string(), value), fn, options, (name, f, opts) => {
      let state: State | undefined;
      try {
        state = new State(name as string, f as () => unknown, opts as object);
      } catch (error) {
        assert.ok(error instanceof TypeError, `threw ${String(error)}`);
        assert.match(error.message, /^Cannot create (a )?state.* as '.+' must /s);
        return;
      }
      assert.equal(state.name, name);
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("switchyard main() with arbitrary arguments returns an exit code and never throws", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-cli-fuzz-" });
  const token = fc.oneof(
    fc.constantFrom(
      "run",
      "inspect",
      "ls",
      "viz",
      "help",
      "--help",
      "-h",
      "--version",
      "--dir",
      "--json",
      "--port",
      "--timeout",
      "--export",
      "--no-save",
      "--",
      "-",
      "-x",
      "--dir=",
      "--port=-1",
      "--timeout=0",
      "../../etc/passwd",
      "/etc/passwd",
      "%2e%2e",
      "nonexistent.ts",
      "[1,2",
      "{}",
      "0",
      "65536",
      "1e3",
      "NaN",
    ),
    fc.string(),
    fc.string({ unit: "binary" }),
  );
  const stopped = Promise.resolve();
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 6 }), async (argv) => {
        // Every command reads and writes under the temporary state folder.
        const args = argv.includes("--dir") || argv.some((a) => a.startsWith("--dir="))
          ? argv
          : [...argv, "--dir", stateDir];
        let stderr = "";
        const code = await main(args, {
          output: { out: () => {}, err: (t) => void (stderr += t), isTerminal: false, columns: 80 },
          stopSignal: stopped,
          interrupt: AbortSignal.abort(),
        });
        assert.ok([0, 1, 2, 130].includes(code), `${JSON.stringify(args)} → ${code}`);
        if (code === 2) assert.notEqual(stderr.trim(), "", `${JSON.stringify(args)}: no message`);
        assert.doesNotMatch(stderr, /^\s+at /m, `${JSON.stringify(args)}: a stack trace`);
      }),
      { numRuns: 300 },
    );
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("a flow without routines says it has none when asked to connect or execute", async () => {
  const flow = new Flow({ flowId: "empty" });
  assert.throws(
    () => flow.connect("a", "out", "b", "in"),
    (error: Error) =>
      error.message ===
        "Cannot connect 'a.out' to 'b.in' as 'srcId' must be a routine of flow 'empty' (none): current value is \"a\"",
  );
  await assert.rejects(
    flow.execute("a"),
    /'entryId' must be a routine of flow 'empty' \(none\): current value is "a"$/,
  );
});

Deno.test("node() with arbitrary input either builds a node or throws a named TypeError", () => {
  const options = fc.oneof(
    value,
    fc.record({
      name: fc.oneof(fc.string(), value),
      retries: fc.oneof(fc.integer({ min: -2, max: 3 }), value),
      timeout: fc.oneof(fc.integer({ min: -2, max: 1_000 }), value),
      worker: fc.oneof(fc.boolean(), value),
    }, { requiredKeys: [] }),
  );
  const fn = fc.oneof(value, fc.constant(() => 1), fc.constant(function named() {}));
  fc.assert(
    fc.property(fn, options, (f, opts) => {
      try {
        node(f as () => unknown, opts as object);
      } catch (error) {
        assert.ok(error instanceof TypeError, `threw ${String(error)}`);
        assert.match(error.message, /^Cannot create (a node|node '.+') as '.*' must /s);
        assert.doesNotMatch(error.message, /must be Invalid input/);
      }
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("node(): an anonymous node with a queue but no module URL is named 'a node', not ''", () => {
  assert.throws(
    () => node(async () => 1, { queue: "jobs" }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message.startsWith("Cannot create a node as 'worker' must be a module URL") &&
      !error.message.includes("''"),
  );
});

Deno.test("an option matching none of its alternatives is told what each alternative is", () => {
  assert.throws(
    () => new Runner({ workers: { permissions: "some" as "none" } }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        `Cannot create Runner as 'workers.permissions' must be one of "inherit", "none" or an object: current value is "some"`,
  );
  assert.throws(
    () => node(() => 1, { name: "n", worker: 5 as unknown as true }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        "Cannot create node 'n' as 'worker' must be a boolean, a string or a URL: current value is 5",
  );
  assert.throws(
    () => new ErrorHandler({ retryable: 5 as unknown as () => boolean }),
    (error: unknown) =>
      error instanceof TypeError &&
      /'retryable' must be a function or an array: current value is 5$/.test(error.message),
  );
});
