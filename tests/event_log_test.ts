import assert from "node:assert/strict";
import { join } from "node:path";
import { call, type ExecutionInfo, node, Runner, RunNotSavedError } from "../mod.ts";
import {
  eventLogPath,
  loadRun,
  parseEventLog,
  requestRows,
  type RunEvent,
} from "../persistence.ts";

async function withStateDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-log-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readEvents(dir: string, runId: string): Promise<RunEvent[]> {
  const parsed = parseEventLog(await Deno.readFile(eventLogPath(dir, runId)));
  assert.deepEqual(parsed.warnings, []);
  return parsed.events;
}

const leaf = node((x: number) => {
  if (x < 0) throw new RangeError(`negative ${x}`);
  return x * 2;
}, { name: "leaf" });
const root = node(async (xs: number[]) => {
  const out = await Promise.allSettled(xs.map((x) => call(leaf, x)));
  return out.map((o) => o.status === "fulfilled" ? o.value : 10n);
}, { name: "root" });

Deno.test("EventLogWriter writes one line per request created and ended", async () => {
  await withStateDir(async (stateDir) => {
    {
      await using runner = new Runner({
        saveState: true,
        stateDir,
        runIdentifier: "one",
        loggingSetting: "NONE",
      });
      await runner.run(root, [1, -1]);
    }
    const events = await readEvents(stateDir, "one");
    const kinds = events.map((e) => e.event);
    assert.deepEqual(kinds.slice(0, 4), [
      "start",
      "created",
      "created",
      "created",
    ]);
    assert.deepEqual(kinds.slice(4, 7).sort(), [
      "completed",
      "completed",
      "failed",
    ]);
    // Saved once: shutting down with nothing new does not save again.
    assert.deepEqual(kinds.slice(7), ["saved"]);
    const failed = events.find((e) => e.event === "failed")!;
    assert.equal(
      (failed as { output: { name: string; message: string } }).output.message,
      "negative -1",
    );
    const last = events.findLast((e) => e.event === "completed")!;
    // Values JSON cannot hold are written as placeholders, not dropped.
    assert.deepEqual((last as { output: unknown }).output, [
      2,
      "[BigInt: 10n]",
    ]);
  });
});

Deno.test("EventLogWriter events rebuild the same tree as the snapshot", async () => {
  await withStateDir(async (stateDir) => {
    let info: ExecutionInfo;
    {
      await using runner = new Runner({
        saveState: true,
        stateDir,
        runIdentifier: "same",
        loggingSetting: "NONE",
      });
      await runner.run(root, [1, 2, -3]);
      await runner.run(root, [4]);
      info = runner.info;
    }
    const fromSnapshot = await loadRun(stateDir, "same");
    assert.equal(fromSnapshot.source, "snapshot");
    await Deno.remove(join(stateDir, "runs", "same.json"));
    const fromLog = await loadRun(stateDir, "same");
    assert.equal(fromLog.source, "events");
    assert.equal(fromLog.status, "Completed");
    assert.deepEqual(requestRows(fromLog.runs), requestRows(fromSnapshot.runs));
    assert.equal(requestRows(fromLog.runs).length, info.requestHeap.size);
  });
});

Deno.test("EventLogWriter records a node timeout as the failure the run recorded", async () => {
  await withStateDir(async (stateDir) => {
    const { promise: never } = Promise.withResolvers<never>();
    const stuck = node(() => never, { name: "stuck", timeout: 5 });
    const top = node(async () => {
      try {
        await call(stuck);
      } catch (error) {
        return (error as Error).name;
      }
    }, { name: "top" });
    {
      await using runner = new Runner({
        saveState: true,
        stateDir,
        runIdentifier: "timeout",
        loggingSetting: "NONE",
      });
      assert.equal((await runner.run(top)).answer, "NodeTimeoutError");
    }
    const events = await readEvents(stateDir, "timeout");
    const failed = events.filter((e) => e.event === "failed");
    assert.equal(failed.length, 1);
    assert.equal(
      (failed[0] as { output: { name: string } }).output.name,
      "NodeTimeoutError",
    );
  });
});

Deno.test("A state folder that cannot be written is refused when the runner is made", async () => {
  await withStateDir(async (stateDir) => {
    const blocker = join(stateDir, "not-a-dir");
    await Deno.writeTextFile(blocker, "a file where a folder should be");
    assert.throws(
      () =>
        new Runner({
          saveState: true,
          stateDir: blocker,
          runIdentifier: "nowhere",
          loggingSetting: "NONE",
        }),
      RunNotSavedError,
      "Cannot save run 'nowhere'",
    );
    assert.equal(await Deno.readTextFile(blocker), "a file where a folder should be");
  });
});

Deno.test("Runner without saveState writes no event log", async () => {
  await withStateDir(async (stateDir) => {
    {
      await using runner = new Runner({
        stateDir,
        runIdentifier: "unsaved",
        loggingSetting: "NONE",
      });
      await runner.run(root, [1]);
    }
    await assert.rejects(
      Deno.stat(eventLogPath(stateDir, "unsaved")),
      Deno.errors.NotFound,
    );
  });
});
