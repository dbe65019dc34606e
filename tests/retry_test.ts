// Retries: every attempt is recorded on the request (number, error, start,
// end, the wait before the next), kept in snapshots and event logs, shown by
// inspect; waits back off exponentially, are capped, and end on cancellation.
import assert from "node:assert/strict";
import { join } from "node:path";
import { call, node, RequestCancelledError, Runner, WorkerTaskError } from "../mod.ts";
import { retryDelayFor } from "../engine.ts";
import { loadRun, requestRows } from "../persistence.ts";
import { main } from "../src/cli/main.ts";

const quiet = { loggingSetting: "NONE" } as const;

Deno.test("retryDelayFor backs off exponentially, caps the wait and removes at most the jitter part", () => {
  const options = { retryDelay: 100, retryBackoff: 3, retryMaxDelay: 1000, retryJitter: 0.5 };
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayFor(options, n, 0)), [100, 300, 900, 1000]);
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayFor(options, n, 0.999)), [50, 150, 450, 500]);
  // The defaults: 100 ms, doubling, 20 % jitter, 30 s cap.
  assert.equal(retryDelayFor({}, 1, 0), 100);
  assert.equal(retryDelayFor({}, 2, 0), 200);
  assert.equal(retryDelayFor({}, 20, 0), 30_000);
  assert.equal(retryDelayFor({}, 1, 0.999), 80);
});

Deno.test("node() rejects bad retry options, naming the field", () => {
  assert.throws(
    () => node(() => 1, { name: "n", retries: 1, retryBackoff: 0.5 }),
    /'retryBackoff' must be at least 1: current value is 0\.5/,
  );
  assert.throws(() => node(() => 1, { name: "n", retryJitter: 2 }), /'retryJitter'/);
  assert.throws(() => node(() => 1, { name: "n", retryDelay: -1 }), /'retryDelay'/);
  assert.throws(() => node(() => 1, { name: "n", retryMaxDelay: Infinity }), /'retryMaxDelay'/);
});

function flakyNode(failures: number) {
  let calls = 0;
  return node(async function flaky(x: number) {
    calls++;
    if (calls <= failures) throw new Error(`flaky ${calls}`);
    return x * 10;
  }, { retries: 3, retryDelay: 4, retryBackoff: 2, retryJitter: 0 });
}

Deno.test("every attempt of a retried node is recorded on its request", async () => {
  const flaky = flakyNode(2);
  const parent = node(async function parent() {
    return await call(flaky, 4);
  });
  await using runner = new Runner(quiet);
  const info = await runner.run(parent);
  assert.equal(info.answer, 40);
  const record = [...info.requestHeap.values()].find((r) => r.sourceId !== null)!;
  const attempts = record.attempts!;
  assert.deepEqual(
    attempts.map((
      a,
    ) => [a.attempt, a.status, (a.error as Error | undefined)?.message, a.retryDelay]),
    [[1, "Failed", "flaky 1", 4], [2, "Failed", "flaky 2", 8], [
      3,
      "Completed",
      undefined,
      undefined,
    ]],
  );
  for (let i = 0; i < attempts.length; i++) {
    assert.ok(attempts[i].start <= attempts[i].end);
    if (i > 0) assert.ok(attempts[i].start >= attempts[i - 1].end);
  }
  // A node without retries runs once and records no attempts list.
  const top = info.requestHeap.insertionRequests[0];
  assert.equal(top.attempts, undefined);
});

Deno.test("attempts are kept in the snapshot and the event log, and inspect lists them", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-retry-" });
  try {
    const flaky = flakyNode(3); // fails on every attempt but the last
    const alwaysFails = node(function doomed() {
      throw new RangeError("never");
    }, { retries: 1, retryDelay: 1 });
    const parent = node(async function parent() {
      const ok = await call(flaky, 1);
      return [ok, await call(alwaysFails).catch((e) => e.message)];
    });
    {
      await using runner = new Runner({ ...quiet, saveState: true, stateDir, runIdentifier: "r" });
      await runner.run(parent);
    }
    const fromSnapshot = requestRows((await loadRun(stateDir, "r")).runs);
    await Deno.remove(join(stateDir, "runs", "r.json"));
    const fromLog = requestRows((await loadRun(stateDir, "r")).runs);
    for (const rows of [fromSnapshot, fromLog]) {
      const flakyRow = rows.find((r) => r.name === "flaky")!;
      assert.deepEqual(flakyRow.attempts!.map((a) => a.status), [
        "Failed",
        "Failed",
        "Failed",
        "Completed",
      ]);
      assert.deepEqual(flakyRow.attempts!.map((a) => a.retryDelay), [4, 8, 16, undefined]);
      assert.equal((flakyRow.attempts![2].error as { message: string }).message, "flaky 3");
      const doomed = rows.find((r) => r.name === "doomed")!;
      assert.equal(doomed.status, "Failed");
      assert.deepEqual(doomed.attempts!.map((a) => [a.attempt, a.status]), [[1, "Failed"], [
        2,
        "Failed",
      ]]);
    }
    const output = {
      stdout: "",
      out: (t: string) => void (output.stdout += t),
      err: () => {},
      isTerminal: false,
      columns: 100,
    };
    assert.equal(await main(["inspect", "r", "--dir", stateDir], { output }), 0);
    assert.match(
      output.stdout,
      /^│ {2}· attempt 1 ✗ .* Error: flaky 1 {2}\(retried after 4\.00 ms\)$/m,
    );
    assert.match(output.stdout, /^│ {2}· attempt 4 ✓ /m);
    assert.match(output.stdout, /^ {3}· attempt 2 ✗ .*RangeError: never$/m);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test({
  name:
    "a cancellation ends the wait before a retry at once, and the attempts so far stay recorded",
  // Asked for: Deno checks for pending timers only when a test says so.
  sanitizeOps: true,
  fn: async () => {
    const failed = Promise.withResolvers<void>();
    const slowRetry = node(async function slowRetry() {
      failed.resolve();
      throw new Error("first try");
    }, { retries: 5, retryDelay: 3_600_000 }); // an hour: only a cancellation ends this wait
    const parent = node(async function parent() {
      return await call(slowRetry);
    });
    await using runner = new Runner(quiet);
    const run = runner.run(parent);
    await failed.promise;
    await new Promise((resolve) => setTimeout(resolve, 0)); // the attempt's failure is handled
    runner.rtState.cancel(runner.info.requestHeap.insertionRequests[0].identifier, "stop");
    await assert.rejects(run, RequestCancelledError);
    const record = [...runner.info.requestHeap.values()].find((r) => r.sourceId !== null)!;
    assert.equal(record.status, "Cancelled");
    assert.deepEqual(record.attempts!.map((a) => [a.attempt, a.status, a.retryDelay! > 0]), [
      [1, "Failed", true],
    ]);
    // The timer sanitizer fails this test if the hour-long wait were still pending.
  },
});

Deno.test("a worker node's attempts are recorded too", async () => {
  const broken = node(function broken() {
    throw new Error("worker says no");
  }, { worker: true, retries: 2, retryDelay: 1 });
  await using runner = new Runner({ ...quiet, workers: { size: 1 } });
  await assert.rejects(runner.run(broken), WorkerTaskError);
  const record = runner.info.requestHeap.insertionRequests[0];
  assert.deepEqual(record.attempts!.map((a) => a.attempt), [1, 2, 3]);
  assert.ok(record.attempts!.every((a) => a.error instanceof WorkerTaskError));
});
