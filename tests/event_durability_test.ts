import assert from "node:assert/strict";
import { Flow, parseExecutorConfig, Runner, StateManager } from "../mod.ts";
import { loadRun, requestRows } from "../persistence.ts";
import { main } from "../src/cli/main.ts";
import { Probe } from "./fixtures/flow_routines.ts";

const fixture = new URL("./fixtures/reporting_run.ts", import.meta.url);
const config = new URL("../deno.json", import.meta.url);

/**
 * Runs the reporting fixture with `durability: "event"`, SIGKILLs it right
 * after reading at least `reports` completions off its stdout, and returns
 * the indexes it reported.
 */
async function killAfterReports(
  stateDir: string,
  runId: string,
  kind: string,
  reports: number,
): Promise<number[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", config.pathname, fixture.pathname, stateDir, runId, kind],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const reported: number[] = [];
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    while (reported.length < reports) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        const match = /^DONE (\d+)$/.exec(line);
        assert.ok(match, `unexpected line ${JSON.stringify(line)}`);
        reported.push(Number(match[1]));
      }
    }
  } finally {
    // Killed right after the read: the child is somewhere in the middle of
    // writing events.
    child.kill("SIGKILL");
  }
  const status = await child.status;
  await reader.cancel();
  const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  assert.equal(status.signal, "SIGKILL", stderr);
  assert.ok(reported.length >= reports, `only ${reported.length} reports: ${stderr}`);
  return reported;
}

for (const kind of ["runner", "flow", "states"]) {
  Deno.test(`With durability "event", a ${kind} killed with SIGKILL keeps every completion it reported`, async () => {
    const stateDir = await Deno.makeTempDir({ prefix: "switchyard-event-" });
    try {
      const reported = await killAfterReports(stateDir, "killed", kind, 1_000);
      const run = await loadRun(stateDir, "killed");
      assert.equal(run.source, "events");
      assert.equal(run.status, "Crashed");
      const leaves = new Map(
        requestRows(run.runs).filter((r) => r.name === "leaf").map((r) => [r.input[0], r]),
      );
      const missing = reported.filter((i) =>
        leaves.get(i)?.status !== "Completed" || leaves.get(i)?.output !== `leaf ${i}`
      );
      assert.deepEqual(
        missing,
        [],
        `${missing.length} of ${reported.length} reported completions lost`,
      );
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  });
}

Deno.test("A bad durability is refused, naming the option and its value", async () => {
  const message =
    /^TypeError: Cannot create (Runner|the StateManager|a Flow) as 'durability' must be one of "batch", "event": current value is "sometimes"$/;
  assert.throws(() => new Runner({ durability: "sometimes" as never }), message);
  assert.throws(() => new StateManager({ durability: "sometimes" as never }), message);
  assert.throws(() => new Flow({ durability: "sometimes" as never }), message);
  assert.throws(
    () => parseExecutorConfig({ durability: 1 as never }),
    /^TypeError: Cannot create ExecutorConfig as 'durability' must be one of "batch", "event": current value is 1$/,
  );
  const flow = new Flow();
  flow.addRoutine(new Probe(() => {}), "entry");
  await assert.rejects(
    flow.execute("entry", { durability: "sometimes" as never }),
    /Cannot execute flow '.*' as 'durability' must be one of "batch", "event": current value is "sometimes"/,
  );

  let err = "";
  const output = {
    out: () => {},
    err: (t: string) => void (err += t),
    isTerminal: false,
    columns: 80,
  };
  const code = await main(["run", fixture.pathname, "--durability", "sometimes"], { output });
  assert.equal(code, 2);
  assert.match(
    err,
    /option '--durability <mode>' argument 'sometimes' is invalid\. Allowed choices are batch, event/,
  );
});

Deno.test("switchyard run --durability event writes each event before the run goes on", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-event-" });
  try {
    const module = new URL("./fixtures/log_reading_module.ts", import.meta.url).pathname;
    const eventsSeen = async (runId: string, ...flags: string[]) => {
      let out = "";
      let err = "";
      const output = {
        out: (t: string) => void (out += t),
        err: (t: string) => void (err += t),
        isTerminal: false,
        columns: 80,
      };
      const code = await main(
        ["run", module, stateDir, runId, "--dir", stateDir, "--run-id", runId, ...flags],
        { output },
      );
      assert.equal(code, 0, err);
      return JSON.parse(out);
    };
    assert.deepEqual(await eventsSeen("each", "--durability", "event"), [
      "start",
      "created",
      "created",
      "completed",
    ]);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
