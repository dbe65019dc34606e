/**
 * A module imported into a worker to find a node must not start runs
 * there: its top level would run again in every worker (and workers would
 * start workers). The task fails naming the module and the fix.
 */
import assert from "node:assert/strict";
import { node, Runner, StateManager, WorkerModuleError, WorkerTaskError } from "../mod.ts";
import { WorkerExecutionStrategy } from "../engine.ts";

const quiet = { loggingSetting: "NONE" as const };
const TOP_LEVEL_RUN = new URL("./fixtures/top_level_run.ts", import.meta.url);
const TOP_LEVEL_CALL = new URL("./fixtures/top_level_call.ts", import.meta.url);

/** The fixture's nodes, as the main thread defines them (without importing it). */
function fixtureNode(name: string, options: Record<string, unknown> = {}) {
  return node((n: number) => n, { name, worker: TOP_LEVEL_RUN.href, ...options });
}

function assertNamesModuleAndFix(error: unknown, module: URL): void {
  assert.ok(error instanceof WorkerTaskError, String(error));
  assert.equal(error.reason, "load", error.message);
  const cause = error.cause as Error;
  assert.equal(cause.name, "WorkerModuleError");
  assert.ok(cause.message.includes(`module ${module.href}`), cause.message);
  assert.match(cause.message, /if \(import\.meta\.main\)/);
  assert.match(cause.message, /keep worker nodes in a module of their own/);
}

Deno.test("A worker module whose top level starts a run fails the task, naming the module and the fix", async () => {
  await using runner = new Runner({ workers: { size: 2 }, ...quiet });
  for (
    const options of [{}, { isolation: "process" }, { permissions: "none" }]
  ) {
    const error = await runner.run(fixtureNode("fib", options), 10).catch((e) => e);
    assertNamesModuleAndFix(error, TOP_LEVEL_RUN);
  }
  // No worker started a pool of its own: the run made only its own requests.
  assert.equal(runner.info.requestHeap.size, 3);
});

Deno.test("A worker module whose top level calls a node fails the task the same way", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const square = node((x: number) => x, { name: "square", worker: TOP_LEVEL_CALL.href });
  const error = await runner.run(square, 2).catch((e) => e);
  assertNamesModuleAndFix(error, TOP_LEVEL_CALL);
  assert.equal(runner.info.requestHeap.size, 1);
});

Deno.test("Run as a program, the unguarded module ends: its worker nodes fail, no worker recurses", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-worker-options", TOP_LEVEL_RUN.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const outcomes = JSON.parse(text.trim().split("\n").at(-1)!) as string[];
  assert.equal(outcomes.length, 3);
  for (const outcome of outcomes) {
    assert.match(outcome, /WorkerModuleError: Cannot create a worker pool inside a worker/);
    assert.match(outcome, /top_level_run\.ts was imported into a worker/);
  }
});

Deno.test("Outside workers nothing is refused; the error names a running worker node when no module loads", () => {
  new WorkerExecutionStrategy({ size: 1 }).shutdown();
  StateManager.reset();
  const error = new WorkerModuleError("create a worker pool", null, "inner");
  assert.match(
    error.message,
    /worker node 'inner' runs inside a worker, as part of the run that called it/,
  );
});

Deno.test("A worker node's own code cannot start a run inside its worker either", async () => {
  const nested = node(async function nested(modUrl: string) {
    const { Runner } = await import(modUrl);
    new Runner();
    return "started a run";
  }, { worker: true });
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const error = await runner.run(nested, new URL("../mod.ts", import.meta.url).href)
    .catch((e) => e);
  assert.ok(error instanceof WorkerTaskError, String(error));
  assert.equal(error.reason, "threw");
  assert.equal((error.cause as Error).name, "WorkerModuleError");
  assert.match(
    (error.cause as Error).message,
    /Cannot create a worker pool inside a worker as worker node 'nested' runs inside a worker, as part of the run that called it \(use call\(\) to run other nodes\)/,
  );
});
