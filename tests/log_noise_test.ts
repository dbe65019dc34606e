// What the default logging level prints about failures: one line each, no
// stacks, no warnings for failures the caller handles, and states named by
// their own name when their function is anonymous.
import assert from "node:assert/strict";

const mod = new URL("../mod.ts", import.meta.url).href;

Deno.test("at the default level failures are one line each, without stacks, and anonymous states are named", async () => {
  const script = `
import { call, node, Runner, State, StateManager } from "${mod}";
const leaf = node(async (x: number) => { if (x > 1) throw new Error("leaf failed " + x); return x; }, { name: "leaf" });
const mid = node(async function mid(x: number) { return await call(leaf, x); });
const top = node(async function top() {
  const caught = await call(mid, 2).catch(() => "caught");
  return [caught, await call(mid, 3)];
});
await using runner = new Runner();
await runner.run(top).catch(() => {});
const manager = StateManager.instance();
manager.putStates([new State("Warm up", async () => 1), new State("Boom", () => { throw new Error("state failed"); })]);
const loop = manager.processStates();
await manager.onIdle();
await manager.signalStopping();
await loop;
`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, script);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", file],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(code, 0, text);
    assert.doesNotMatch(text, /^\s+at /m, "no stack traces");
    assert.doesNotMatch(text, /\[WRN\]/, "no warnings");
    // The caught failure of mid(2) is not logged at all; the run's failure once, in one line.
    assert.doesNotMatch(text, /leaf failed 2/);
    assert.equal(text.match(/leaf failed 3/g)?.length, 1, text);
    assert.match(
      text,
      /\[INF\] switchyard\.runner: Run of top failed after [\d.]+ ms: Error: leaf failed 3$/m,
    );
    assert.match(text, /switchyard\.states: State Warm up started at /);
    assert.doesNotMatch(text, /anonymous/);
    assert.match(
      text,
      /\[ERR\] switchyard\.states: State Boom failed at .*: Error: state failed$/m,
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("The runtime's lines go to standard error: standard out holds only the program's output", async () => {
  const script = `
import { node, Runner } from "${mod}";
await using runner = new Runner({ loggingSetting: "VERBOSE" });
const info = await runner.run(node(async function answer() { return 42; }));
console.log("the answer is", info.answer);
`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, script);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", file],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    assert.equal(new TextDecoder().decode(stdout), "the answer is 42\n");
    assert.match(err, /\[INF\] switchyard\.runner: Run of answer started/);
  } finally {
    await Deno.remove(file);
  }
});
