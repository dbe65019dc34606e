import assert from "node:assert/strict";
import { join } from "node:path";
import { EVENT_LOG_BATCH_BYTES, eventLogPath, loadRun, requestRows } from "../persistence.ts";
import { main } from "../src/cli/main.ts";

const fixture = new URL("./fixtures/crash_run.ts", import.meta.url);
const config = new URL("../deno.json", import.meta.url);

/** Reads a child's stdout line by line until one matches. */
async function readUntil(
  lines: AsyncIterator<string>,
  wanted: RegExp,
  seen: string[],
): Promise<void> {
  while (true) {
    const { value, done } = await lines.next();
    if (done) {
      throw new Error(`stdout ended before ${wanted}: ${seen.join("|")}`);
    }
    seen.push(value);
    if (wanted.test(value)) return;
  }
}

async function* splitLines(stream: ReadableStream<Uint8Array>) {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer) yield buffer;
}

Deno.test("A run killed with SIGKILL leaves a readable log and an untouched snapshot", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-crash-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        config.pathname,
        fixture.pathname,
        stateDir,
        "crashy",
        "3",
      ],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const lines = splitLines(child.stdout);
    const seen: string[] = [];
    await readUntil(lines, /^SAVED$/, seen);
    const snapshotPath = join(stateDir, "runs", "crashy.json");
    const snapshotBefore = await Deno.readTextFile(snapshotPath);
    await readUntil(lines, /^READY 3$/, seen);
    child.kill("SIGKILL");
    const status = await child.status;
    for await (const _ of lines) { /* drain */ }
    assert.equal(status.signal, "SIGKILL");

    assert.equal(await Deno.readTextFile(snapshotPath), snapshotBefore);
    const run = await loadRun(stateDir, "crashy");
    assert.equal(run.source, "events");
    assert.equal(run.status, "Crashed");
    assert.equal(run.live, false);
    const rows = requestRows(run.runs);
    const summary = rows.map((r) => `${r.name}:${r.status}:${JSON.stringify(r.output ?? null)}`);
    assert.deepEqual(summary, [
      "first:Completed:0",
      "step:Completed:0",
      "second:Open:null",
      "step:Completed:10",
      "step:Completed:20",
      "step:Completed:30",
      "forever:Open:null",
    ]);

    let text = "";
    const output = {
      out: (t: string) => void (text += t),
      err: () => {},
      isTerminal: false,
      columns: 80,
    };
    assert.equal(
      await main(["inspect", "crashy", "--dir", stateDir], { output }),
      0,
    );
    const printed = text.trimEnd().split("\n");
    assert.match(
      printed[0],
      /^Run crashy {2}first, second {2}Crashed .* 7 requests, 0 failed {2}\(from event log\)$/,
    );
    assert.deepEqual(
      printed.slice(1).map((l) => l.replace(/ {2}[\d.]+ ms$/, "")),
      [
        "✓ first()",
        "└─ ✓ step(0)",
        "… second()  open",
        "├─ ✓ step(1)",
        "├─ ✓ step(2)",
        "├─ ✓ step(3)",
        "└─ … forever()  open",
      ],
    );
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("A run killed with SIGKILL loads every event its log had written, over many batches", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-crash-" });
  const done = 3_000;
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        config.pathname,
        fixture.pathname,
        stateDir,
        "many",
        `${done}`,
      ],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const lines = splitLines(child.stdout);
    const seen: string[] = [];
    // READY: the batch holding the last request's creation is on disk.
    await readUntil(lines, new RegExp(`^READY ${done}$`), seen);
    child.kill("SIGKILL");
    assert.equal((await child.status).signal, "SIGKILL");
    for await (const _ of lines) { /* drain */ }

    // More than one batch's worth: some were written by the size bound.
    assert.ok((await Deno.stat(eventLogPath(stateDir, "many"))).size > EVENT_LOG_BATCH_BYTES);
    const run = await loadRun(stateDir, "many");
    assert.equal(run.status, "Crashed");
    assert.deepEqual(run.warnings, []);
    const rows = requestRows(run.runs);
    assert.equal(rows.length, done + 4);
    const steps = rows.filter((r) => r.name === "step");
    assert.equal(steps.length, done + 1);
    assert.ok(steps.every((r, i) => r.status === "Completed" && r.output === i * 10));
    assert.deepEqual(rows.filter((r) => r.status === "Open").map((r) => r.name), [
      "second",
      "forever",
    ]);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("A run that dies of an uncaught error writes its last batch on the way out", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-crash-" });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        config.pathname,
        new URL("./fixtures/crash_uncaught.ts", import.meta.url).pathname,
        stateDir,
        "uncaught",
        "50",
      ],
      stdout: "null",
      stderr: "piped",
      stdin: "null",
    }).output();
    assert.equal(output.code, 1);
    assert.match(new TextDecoder().decode(output.stderr), /boom/);
    const run = await loadRun(stateDir, "uncaught");
    assert.equal(run.status, "Crashed");
    const rows = requestRows(run.runs);
    assert.equal(rows.length, 51);
    assert.ok(rows.slice(1).every((r, i) => r.status === "Completed" && r.output === i * 10));
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
