import assert from "node:assert/strict";
import { join } from "node:path";
import { loadRun, requestRows } from "../persistence.ts";

const examples = new URL("../examples/", import.meta.url);
const entry = new URL("main.ts", examples).pathname;
const config = new URL("../deno.json", import.meta.url).pathname;

/** Runs `deno task run <args>` as `examples/main.ts` does, from `cwd`. */
async function runExample(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-worker-options", "--config", config, entry, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-examples-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno task run: the pipeline scans the repository from any folder, prints the summary and saves one run", async () => {
  await withTempDir(async (dir) => {
    const stateDir = join(dir, "state");
    const { code, stdout, stderr } = await runExample(["--state-dir", stateDir], dir);
    assert.equal(code, 0, stderr);
    const summary = stdout.match(/^Scanned .*: (\d+) files, (\d+) lines, [\d.]+ KiB$/m);
    assert.ok(summary, stdout);
    assert.match(stdout, /^Largest files:\n( +[\d.]+ KiB {2}\S+\n){5}/m);
    assert.match(stdout, /^Lines by extension: \.ts \d+/m);
    assert.match(stdout, /^Duplicate contents: /m);
    const runId = stdout.match(/^ {2}deno task switchyard inspect (\S+) --dir (\S+)$/m);
    assert.ok(runId, stdout);
    assert.equal(runId[2], stateDir);
    assert.match(stdout, /^ {2}deno task switchyard viz --dir \S+ /m);

    const run = await loadRun(stateDir, runId[1]);
    assert.equal(run.status, "Completed");
    assert.equal(run.source, "snapshot"); // and its event log says it is complete
    assert.deepEqual(run.runs.map((r) => r.name), ["Scan", "Analyse", "Aggregate", "Report"]);
    const rows = requestRows(run.runs);
    const scan = rows.find((r) => r.name === "Scan")!;
    const files = scan.output as number;
    assert.equal(files, Number(summary[1]));
    // Analyse ran in workers: one analyseFiles call, batches of files below it.
    const batches = rows.filter((r) => r.name === "measureBatch");
    assert.equal(rows.filter((r) => r.name === "analyseFiles").length, 1);
    assert.equal(batches.length, Math.ceil(files / 16));
    assert.ok(batches.every((r) => r.depth === 2 && r.status === "Completed"));
    const measured = batches.flatMap((r) => r.output as { path: string }[]);
    assert.equal(measured.length, files);
    assert.ok(measured.some((f) => f.path === "examples/pipeline.ts"));
    assert.ok(!measured.some((f) => f.path.startsWith(".git/")));
    const report = rows.find((r) => r.name === "Report")!;
    assert.ok(stdout.includes(report.output as string));
  });
});

Deno.test("deno task run state_machine migrates, checksums in a worker and stops the service", async () => {
  await withTempDir(async (dir) => {
    const { code, stdout, stderr } = await runExample(["state_machine", "5"], dir);
    assert.equal(code, 0, stderr);
    assert.match(
      stdout,
      /^DB Migration +Completed .* calls: applyMigration, applyMigration, applyMigration$/m,
    );
    assert.match(stdout, /^Checksum +Completed +\d+ +[0-9a-f]{8} +calls: checksum$/m);
    assert.match(stdout, /^Serve +Completed +\d+ +\d+ +calls: serve$/m);
    assert.match(stdout, /The service beat \d+ times before it was stopped\./);
  });
});

Deno.test("deno task run workers counts primes in workers that call back to the main thread", async () => {
  await withTempDir(async (dir) => {
    const { code, stdout, stderr } = await runExample(["workers", "2000"], dir);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /"303 primes below 2000"/);
    assert.match(stdout, /^9 requests in \d+ ms/m);
    assert.equal(stdout.match(/^ {4}label: Completed$/gm)?.length, 4);
  });
});

Deno.test("deno task run <unknown> lists the examples and exits 2", async () => {
  await withTempDir(async (dir) => {
    const { code, stderr } = await runExample(["nope"], dir);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /'name' must be one of .*pipeline, state_machine, workers: current value is "nope"/,
    );
  });
});

Deno.test("deno task run pipeline: a missing folder fails in one line, a bad option exits 2", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "nope");
    const failed = await runExample(["pipeline", missing], dir);
    assert.equal(failed.code, 1);
    assert.match(
      failed.stderr,
      new RegExp(`^StateFailedError: State 'Scan' failed: .*${missing}`, "m"),
    );
    assert.doesNotMatch(failed.stderr, /^\s+at /m);
    const usage = await runExample(["pipeline", "--bogus"], dir);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^TypeError: Unknown option '--bogus'/m);
    assert.doesNotMatch(usage.stderr, /^\s+at /m);
  });
});

Deno.test("every example in examples/ is run by a test", async () => {
  // Flow examples run in flow_examples_test.ts, fleet in remote_test.ts; the others above.
  const tested = new Set([
    "fleet",
    "pipeline",
    "state_machine",
    "workers",
    "flow_counters",
    "flow_history",
    "flow_job_state",
    "flow_shared_data",
    "flow_validation",
    "flow_orders",
  ]);
  const flowTests = await Deno.readTextFile(new URL("flow_examples_test.ts", import.meta.url));
  for (const name of tested) {
    if (name.startsWith("flow_")) assert.ok(flowTests.includes(`examples/${name}.ts`), name);
  }
  const found: string[] = [];
  for await (const entry of Deno.readDir(examples)) {
    if (entry.name.endsWith(".ts") && entry.name !== "main.ts") {
      found.push(entry.name.slice(0, -3));
    }
  }
  assert.deepEqual(found.sort(), [...tested].sort());
});
