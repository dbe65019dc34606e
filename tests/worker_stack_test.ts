/**
 * A worker node's error shows the user's own stack first: the frames of
 * the node's code, then its cause chain, not the pool's internals.
 */
import assert from "node:assert/strict";
import { node, Runner, WorkerTaskError } from "../mod.ts";
import { failing } from "./fixtures/worker_nodes.ts";
import { failsWithCause } from "./fixtures/process_nodes.ts";

const quiet = { loggingSetting: "NONE" as const };

function frames(error: Error): string[] {
  return error.stack!.split("\n").filter((line) => /^\s+at /.test(line));
}

Deno.test("A worker node's error stack starts with the node's own frames, not the pool's", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const error = await runner.run(failing, "bad input").catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  const lines = error.stack!.split("\n");
  assert.equal(
    lines[0],
    `WorkerTaskError: Worker node 'failing' failed on worker #${error.workerId}: threw RangeError: bad input`,
  );
  assert.match(frames(error)[0], /fixtures\/worker_nodes\.ts:\d+:\d+/);
  for (const line of frames(error)) assert.doesNotMatch(line, /src\/execution\/_worker_pool\.ts/);
  // The node's error is still there, as it was thrown.
  assert.equal((error.cause as Error).name, "RangeError");
  assert.equal((error.cause as Error).message, "bad input");
});

Deno.test("A self-contained worker node's stack names its function", async () => {
  const parse = node(function parseRecord(text: string) {
    return JSON.parse(text);
  }, { worker: true });
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const error = await runner.run(parse, "{oops").catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  assert.match(frames(error).join("\n"), /parseRecord/);
  assert.doesNotMatch(frames(error)[0], /_worker_pool|_worker_handle/);
});

Deno.test("A process-isolated node's stack and cause chain come first too", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const error = await runner.run(failsWithCause).catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  assert.match(frames(error)[0], /fixtures\/process_nodes\.ts:\d+:\d+/);
  const cause = error.cause as Error;
  assert.equal(cause.message, "outer failure");
  assert.equal((cause.cause as Error).message, "inner cause");
  assert.match((cause.cause as Error).stack!, /process_nodes\.ts/);
});

Deno.test("Without a cause, the error keeps the stack it was made with", () => {
  const error = new WorkerTaskError("the pool shut down", {
    nodeName: "n",
    workerId: null,
    reason: "shutdown",
  });
  assert.match(frames(error)[0], /worker_stack_test\.ts/);
});
