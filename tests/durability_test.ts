import assert from "node:assert/strict";
import fc from "fast-check";
import { join } from "node:path";
import {
  listRuns,
  loadRun,
  parseEventLog,
  rebuildExecution,
  requestRows,
  summarize,
} from "../persistence.ts";
import { killSaving } from "./fixtures/kill_saving.ts";

Deno.test("A saving run killed with SIGKILL at random points never leaves a torn snapshot or an unreadable log", async () => {
  // Spread over the first ~300 ms: during runs, snapshot writes and new logs.
  for (const delay of [0, 20, 75, 150, 300]) {
    const stateDir = await Deno.makeTempDir({ prefix: "switchyard-kill-" });
    try {
      const outcome = await killSaving(stateDir, delay);
      assert.deepEqual(outcome.problems, [], `killed after ${delay} ms`);
      assert.ok(outcome.logs >= 1, `killed after ${delay} ms: ${JSON.stringify(outcome)}`);
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  }
});

Deno.test("The event-log reader rebuilds every truncation of a log and skips corrupted lines", () => {
  const fixtures = ["fixture-done", "fixture-crashed"].map((name) =>
    Deno.readFileSync(new URL(`./fixtures/runs/${name}.events.jsonl`, import.meta.url))
  );
  for (const bytes of fixtures) {
    let previous = 0;
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { info } = rebuildExecution(parseEventLog(bytes.subarray(0, cut)).events);
      // A longer prefix never knows fewer requests.
      assert.ok(info.requestHeap.size >= previous, `cut at ${cut}`);
      previous = info.requestHeap.size;
    }
  }
  const lines: Record<string, unknown>[] = new TextDecoder().decode(fixtures[0]).trim()
    .split("\n").map((line) => JSON.parse(line));
  const created = lines.filter((l) => l.event === "created").length;
  const keys = [...new Set(lines.flatMap((line) => Object.keys(line)))];
  fc.assert(
    fc.property(
      fc.nat(lines.length - 1),
      fc.constantFrom(...keys),
      fc.option(fc.jsonValue(), { nil: undefined }),
      (index, key, value) => {
        const copy = structuredClone(lines);
        if (value === undefined) delete copy[index][key];
        else copy[index][key] = value;
        const text = copy.map((line) => JSON.stringify(line)).join("\n") + "\n";
        const { info } = rebuildExecution(parseEventLog(new TextEncoder().encode(text)).events);
        // Only the corrupted line's request may be missing.
        assert.ok(info.requestHeap.size >= created - 1);
      },
    ),
    // A request that is an object whose toString is not a function once made the reader throw.
    { numRuns: 1_000, examples: [[7, "request", { toString: "" }]] },
  );
});

Deno.test("loadRun() of a damaged snapshot returns the run or a TypeError naming the field, and listRuns() lists every run", async () => {
  const fixtures = new URL("./fixtures/runs/", import.meta.url);
  const snapshot = JSON.parse(await Deno.readTextFile(new URL("fixture-done.json", fixtures)));
  const log = await Deno.readTextFile(new URL("fixture-done.events.jsonl", fixtures));
  const paths: string[][] = [];
  const walk = (value: unknown, path: string[]) => {
    if (path.length) paths.push(path);
    if (value && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
    }
  };
  walk(snapshot, []);
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-damaged-" });
  await Deno.mkdir(join(stateDir, "runs"));
  let count = 0;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
        fc.boolean(),
        async (path, value, withLog) => {
          const damaged = structuredClone(snapshot);
          let parent = damaged;
          for (const key of path.slice(0, -1)) parent = parent[key];
          if (value === undefined) delete parent[path.at(-1)!];
          else parent[path.at(-1)!] = value;
          const id = `damaged-${count++}`;
          await Deno.writeTextFile(join(stateDir, "runs", `${id}.json`), JSON.stringify(damaged));
          if (withLog) await Deno.writeTextFile(join(stateDir, "runs", `${id}.events.jsonl`), log);
          try {
            const run = await loadRun(stateDir, id);
            summarize(run);
            requestRows(run.runs);
          } catch (error) {
            assert.ok(error instanceof TypeError, String(error));
            assert.match(
              error.message,
              /^Cannot load run as '.*' must be a switchyard.run\/1 snapshot/,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
    assert.equal((await listRuns(stateDir)).length, count);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("rebuildExecution() keeps an event whose step or time is not a number", () => {
  const { info, warnings } = rebuildExecution([
    {
      event: "created",
      time: 1,
      step: 0,
      request: "r",
      parentNode: null,
      node: "n",
      name: "one",
      nodeType: "async",
      args: [],
    },
    {
      event: "completed",
      time: { toString: null } as never,
      step: { toString: null } as never,
      request: "r",
      output: 1,
    },
  ]);
  assert.equal(info.status, "Completed");
  assert.equal(info.allStamps.length, 2);
  assert.match(warnings.join("\n"), /step or time is not a number/);
});

Deno.test("rebuildExecution() keeps an event whose name or node type is not a string", () => {
  const { info } = rebuildExecution([
    {
      event: "created",
      time: 1,
      step: 0,
      request: "r",
      parentNode: null,
      node: "n",
      name: { toString: {} } as never,
      nodeType: { toString: 0 } as never,
      args: [],
    },
  ]);
  assert.equal(info.requestHeap.size, 1);
  assert.equal(typeof info.nodeHeap.get("n")?.name, "string");
  assert.equal(typeof info.nodeHeap.get("n")?.nodeType, "string");
});
