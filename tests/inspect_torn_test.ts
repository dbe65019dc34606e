import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../src/cli/main.ts";
import type { CliOutput } from "../src/cli/progress.ts";
import { listRuns, loadRun } from "../persistence.ts";

const fixtures = new URL("./fixtures/runs/", import.meta.url);

function capture(): CliOutput & { stdout: string; stderr: string } {
  const captured = {
    stdout: "",
    stderr: "",
    out: (text: string) => void (captured.stdout += text),
    err: (text: string) => void (captured.stderr += text),
    isTerminal: false,
    columns: 100,
  };
  return captured;
}

/** A state folder holding fixture-done with its snapshot cut at `cut` bytes. */
async function tornRun(cut: number, withLog: boolean): Promise<string> {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-torn-" });
  const runs = join(stateDir, "runs");
  await Deno.mkdir(runs);
  const snapshot = await Deno.readFile(new URL("fixture-done.json", fixtures));
  await Deno.writeFile(join(runs, "fixture-done.json"), snapshot.subarray(0, cut));
  if (withLog) {
    await Deno.copyFile(
      new URL("fixture-done.events.jsonl", fixtures),
      join(runs, "fixture-done.events.jsonl"),
    );
  }
  return stateDir;
}

Deno.test("switchyard inspect of a torn snapshot falls back to the event log beside it", async () => {
  const size = (await Deno.stat(new URL("fixture-done.json", fixtures))).size;
  for (const cut of [0, 1, Math.floor(size / 2), size - 2]) {
    const stateDir = await tornRun(cut, true);
    try {
      for (const ref of ["fixture-done", join(stateDir, "runs", "fixture-done.json")]) {
        const output = capture();
        assert.equal(await main(["inspect", ref, "--dir", stateDir], { output }), 0, output.stderr);
        assert.ok(
          output.stdout.startsWith(
            "Run fixture-done  pipeline  Completed  75.0 ms  6 requests, 1 failed  (from event log)\n",
          ),
          output.stdout,
        );
        assert.match(
          output.stdout,
          /└─ ✗ analyse\("\.\/data\/c\.bin"\) .* RangeError: binary file c\.bin/,
        );
        assert.match(
          output.stderr,
          /warning: the snapshot '.*fixture-done\.json' is unreadable, so the run was read from its event log/,
        );
      }
      const run = await loadRun(stateDir, "fixture-done");
      assert.equal(run.source, "events");
      const [listed] = await listRuns(stateDir);
      assert.equal(listed.status, "Completed");
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  }
});

Deno.test("switchyard inspect of a torn snapshot without a log still explains the snapshot", async () => {
  const stateDir = await tornRun(100, false);
  try {
    const output = capture();
    assert.equal(await main(["inspect", "fixture-done", "--dir", stateDir], { output }), 2);
    assert.match(output.stderr, /Cannot load run as '.*fixture-done\.json' must be JSON/);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
