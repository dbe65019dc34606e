import assert from "node:assert/strict";
import { join } from "node:path";
import { call, node, Runner } from "../mod.ts";
import {
  EVENT_LOG_FORMAT,
  isEventLogActive,
  listRuns,
  loadFromDir,
  loadRun,
  parseEventLog,
  requestRows,
  RunNotFoundError,
  UnreadableRunError,
} from "../persistence.ts";

async function withStateDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-loader-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const lines = (...objects: unknown[]) => objects.map((o) => JSON.stringify(o) + "\n").join("");
const start = {
  event: "start",
  format: EVENT_LOG_FORMAT,
  runId: "x",
  time: 1000,
  pid: 1,
};
const created = (
  request: string,
  node: string,
  parentNode: string | null,
  step: number,
) => ({
  event: "created",
  time: 1000 + step,
  step,
  request,
  parentNode,
  node,
  name: `n-${node}`,
  nodeType: "async",
  args: [step],
});

async function writeRun(stateDir: string, runId: string, text: string) {
  await Deno.mkdir(join(stateDir, "runs"), { recursive: true });
  await Deno.writeTextFile(
    join(stateDir, "runs", `${runId}.events.jsonl`),
    text,
  );
}

Deno.test("parseEventLog() skips a torn last line and unreadable lines", () => {
  const text = lines(start) + "not json\n" +
    lines({ event: "saved", time: 2, status: "Completed", events: 0 }) +
    '{"event":"cre';
  const parsed = parseEventLog(new TextEncoder().encode(text));
  assert.deepEqual(parsed.events.map((e) => e.event), ["start", "saved"]);
  assert.equal(parsed.offset, text.lastIndexOf("\n") + 1);
  assert.deepEqual(parsed.warnings, [
    "line 2: not valid JSON",
    "ignored a torn last line (13 bytes)",
  ]);
});

Deno.test("loadRun() rebuilds a crashed run from its log, torn last line included", async () => {
  await withStateDir(async (stateDir) => {
    await writeRun(
      stateDir,
      "crashed",
      lines(
        start,
        created("r1", "a", null, 0),
        created("r2", "b", "a", 1),
        {
          event: "completed",
          time: 1003,
          step: 2,
          request: "r2",
          output: "done",
        },
        created("r3", "c", "a", 3),
      ) + '{"event":"failed","time":10',
    );
    const run = await loadRun(stateDir, "crashed");
    assert.equal(run.status, "Crashed");
    assert.equal(run.source, "events");
    assert.equal(run.live, false);
    assert.equal(run.name, "n-a");
    assert.equal(run.endTime, null);
    assert.match(run.warnings.join(), /torn last line/);
    assert.deepEqual(
      requestRows(run.runs).map((
        r,
      ) => [r.name, r.depth, r.status, r.output ?? null]),
      [["n-a", 0, "Open", null], ["n-b", 1, "Completed", "done"], [
        "n-c",
        1,
        "Open",
        null,
      ]],
    );
  });
});

Deno.test("loadRun() says Open while a runner is writing the log", async () => {
  await withStateDir(async (stateDir) => {
    const gate = Promise.withResolvers<void>();
    const started = Promise.withResolvers<void>();
    const step = node(() => 1, { name: "step" });
    const slow = node(async () => {
      await call(step);
      started.resolve();
      await gate.promise;
    }, { name: "slow" });
    await using runner = new Runner({
      saveState: true,
      stateDir,
      runIdentifier: "going",
      loggingSetting: "NONE",
    });
    const running = runner.run(slow);
    await started.promise;
    // The log is written in batches: wait for the one holding both requests.
    const log = join(stateDir, "runs", "going.events.jsonl");
    while ((await Deno.readTextFile(log)).split('"event":"created"').length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const during = await loadRun(stateDir, "going");
    assert.equal(during.status, "Open");
    assert.equal(during.live, true);
    assert.equal(during.source, "events");
    assert.equal(requestRows(during.runs).length, 2);
    assert.equal(
      await isEventLogActive(join(stateDir, "runs", "going.events.jsonl")),
      true,
    );
    gate.resolve();
    await running;
    const after = await loadRun(stateDir, "going");
    assert.equal(after.status, "Completed");
    assert.equal(after.source, "snapshot");
  });
});

Deno.test("loadRun() prefers the log when it goes on past the snapshot", async () => {
  await withStateDir(async (stateDir) => {
    const step = node((x: number) => x, { name: "step" });
    {
      await using runner = new Runner({
        saveState: true,
        stateDir,
        runIdentifier: "more",
        loggingSetting: "NONE",
      });
      await runner.run(step, 1);
    }
    const path = join(stateDir, "runs", "more.events.jsonl");
    await Deno.writeTextFile(path, lines(created("late", "z", null, 50)), {
      append: true,
    });
    const run = await loadRun(stateDir, "more");
    assert.equal(run.source, "events");
    assert.equal(run.status, "Crashed");
    assert.equal(requestRows(run.runs).length, 2);
  });
});

Deno.test("loadRun() finds runs by unique prefix and by file path", async () => {
  await withStateDir(async (stateDir) => {
    await writeRun(
      stateDir,
      "abc-1",
      lines(start, created("r1", "a", null, 0)),
    );
    await writeRun(
      stateDir,
      "abd-2",
      lines(start, created("r1", "a", null, 0)),
    );
    assert.equal((await loadRun(stateDir, "abc")).runId, "abc-1");
    const file = join(stateDir, "runs", "abd-2.events.jsonl");
    assert.equal((await loadRun("/nowhere", file)).runId, "abd-2");
    await assert.rejects(loadRun(stateDir, "ab"), {
      name: "RunNotFoundError",
      message: /'ab' starts 2/,
    });
    await assert.rejects(loadRun(stateDir, "zzz"), {
      name: "RunNotFoundError",
      message: /current value is "zzz"/,
    });
    await assert.rejects(loadRun(stateDir, "../etc/passwd"), TypeError);
    await assert.rejects(loadRun(stateDir, "a/b.json"), RunNotFoundError);
  });
});

Deno.test("loadRun() rejects a file that is not a run", async () => {
  await withStateDir(async (stateDir) => {
    await Deno.mkdir(join(stateDir, "runs"));
    await Deno.writeTextFile(
      join(stateDir, "runs", "odd.json"),
      '{"format":"other"}',
    );
    await assert.rejects(loadRun(stateDir, "odd"), {
      name: "UnreadableRunError",
      message: /switchyard\.run\/1/,
    });
  });
});

Deno.test("loadRun() of a damaged snapshot quotes its start escaped, and of a folder, link or pipe says what it is", async () => {
  await withStateDir(async (stateDir) => {
    const runs = join(stateDir, "runs");
    await Deno.mkdir(runs);
    // Terminal escapes and a NUL in a damaged file reach the message escaped.
    await Deno.writeTextFile(join(runs, "bad.json"), '{"format":"\x1b[31mred\x00');
    await assert.rejects(loadRun(stateDir, "bad"), (error: Error) => {
      assert.ok(error instanceof UnreadableRunError && error instanceof TypeError);
      assert.match(
        error.message,
        /'.*bad\.json' must be JSON \(it breaks at position \d+\): current value is "/,
      );
      assert.match(error.message, /\\u001b\[31mred\\u0000/);
      assert.ok([...error.message].every((c) => c >= " "), "no control characters");
      return true;
    });
    await Deno.writeTextFile(join(runs, "list.json"), "[1,2]");
    await assert.rejects(loadRun(stateDir, "list"), {
      name: "UnreadableRunError",
      message: /must be a switchyard\.run\/1 snapshot: current value is \[1,2\]$/,
    });
    await Deno.mkdir(join(stateDir, "folder.json"));
    await assert.rejects(loadRun(stateDir, join(stateDir, "folder.json")), {
      name: "TypeError",
      message: /must be a run file, not a folder: current value is ".*folder\.json"$/,
    });
    await Deno.symlink(join(stateDir, "folder.json"), join(stateDir, "link.json"));
    await assert.rejects(loadRun(stateDir, join(stateDir, "link.json")), {
      name: "TypeError",
      message: /not a link/,
    });
    const fifo = await new Deno.Command("mkfifo", { args: [join(stateDir, "pipe.json")] }).output();
    assert.ok(fifo.success);
    await assert.rejects(loadRun(stateDir, join(stateDir, "pipe.json")), {
      name: "TypeError",
      message: /not a special file/,
    });
  });
});

Deno.test("loadRun() reads no run through a link in the runs folder", async () => {
  await withStateDir(async (stateDir) => {
    const runs = join(stateDir, "runs");
    await Deno.mkdir(runs);
    const outside = join(stateDir, "outside.json");
    await Deno.writeTextFile(outside, "{}");
    await Deno.symlink(outside, join(runs, "linked.json"));
    await assert.rejects(loadRun(stateDir, "linked"), RunNotFoundError);
    // By exact id too, as the visualizer reads runs.
    await assert.rejects(loadFromDir(runs, "linked"), RunNotFoundError);
  });
});

Deno.test("listRuns() lists runs newest first, unreadable ones included", async () => {
  await withStateDir(async (stateDir) => {
    assert.deepEqual(await listRuns(stateDir), []);
    await writeRun(stateDir, "old", lines(start, created("r1", "a", null, 0)));
    await writeRun(
      stateDir,
      "new",
      lines({ ...start, time: 5000 }, {
        ...created("r1", "a", null, 0),
        time: 5000,
      }),
    );
    await Deno.writeTextFile(join(stateDir, "runs", "bad.json"), "{");
    const runs = await listRuns(stateDir);
    assert.deepEqual(runs.map((r) => [r.runId, r.status]), [
      ["new", "Crashed"],
      ["old", "Crashed"],
      ["bad", "Crashed"],
    ]);
    assert.match(runs[2].name, /unreadable/);
    assert.equal(runs[0].requests, 1);
  });
});

Deno.test("listRuns() reuses cached summaries of unchanged runs only", async () => {
  await withStateDir(async (stateDir) => {
    await writeRun(stateDir, "kept", lines(start, created("r1", "a", null, 0)));
    await writeRun(
      stateDir,
      "grows",
      lines(start, created("r1", "a", null, 0)),
    );
    const cache = new Map();
    const first = await listRuns(stateDir, { cache });
    const path = join(stateDir, "runs", "grows.events.jsonl");
    await Deno.writeTextFile(path, lines(created("r2", "b", "a", 1)), {
      append: true,
    });
    const second = await listRuns(stateDir, { cache });
    const byId = (runs: typeof first, id: string) => runs.find((r) => r.runId === id)!;
    assert.equal(byId(second, "kept"), byId(first, "kept"));
    assert.equal(byId(first, "grows").requests, 1);
    assert.equal(byId(second, "grows").requests, 2);
    await Deno.remove(join(stateDir, "runs", "kept.events.jsonl"));
    assert.deepEqual(
      (await listRuns(stateDir, { cache })).map((r) => r.runId),
      ["grows"],
    );
    assert.deepEqual([...cache.keys()], ["grows"]);
  });
});

Deno.test("a saved run ends with its last request, even one that outlives the top-level request", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-late-" });
  try {
    const { promise: released, resolve: release } = Promise.withResolvers<void>();
    let child: Promise<unknown> | undefined;
    const late = node(async () => {
      await released;
      return 1;
    }, { name: "late" });
    const root = node(() => {
      child = call(late);
      return "done";
    }, { name: "root" });
    {
      await using runner = new Runner({
        saveState: true,
        stateDir,
        runIdentifier: "late",
        loggingSetting: "NONE",
      });
      await runner.run(root);
      release();
      assert.equal(await child, 1);
    }
    const run = await loadRun(stateDir, "late");
    const edges = run.runs[0].edges;
    const rootEnd = edges.find((e) => e.source === null)!.stamp.time;
    const lateEnd = edges.find((e) => e.source !== null)!.stamp.time;
    assert.ok(lateEnd > rootEnd, "the child ended after its caller");
    assert.equal(run.endTime, lateEnd);
    // The visualizer's summary says the same.
    const { RunIndex } = await import("../src/viz/run_index.ts");
    const index = await RunIndex.open(join(stateDir, "runs"), "late");
    assert.equal(index.summary().endTime, lateEnd);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
