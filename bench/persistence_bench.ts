/**
 * `deno task bench persistence`: what saving a run costs.
 *
 * - the event log, against the raw platform (one `writeSync` per line of
 *   the same size, and one write for all lines);
 * - a run of 100,000 tiny requests with `saveState` on (the event log in
 *   batches, and with `durability: "event"` a write per event), against
 *   the same run with it off, and its `graphSerialization()`; the snapshot's bytes
 *   written with one `writeFile`, against saving it;
 * - reading a run back (rebuilding it from its event log, and from its
 *   snapshot), against `JSON.parse` of the same bytes.
 *
 * @module
 */
import { callBatch, node, Runner } from "../mod.ts";
import { EventLogWriter, loadRun } from "../persistence.ts";
import { join } from "node:path";
import { median } from "./_measure.ts";

const REQUESTS = Number(Deno.env.get("PERSISTENCE_BENCH_N") ?? 100_000);
const ROUNDS = 3;

async function time1(fn: () => Promise<unknown>): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  (globalThis as { gc?: () => void }).gc?.();
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const dir = await Deno.makeTempDir({ prefix: "switchyard-bench-" });
const rows: Array<[string, string, string]> = [];
const us = (ms: number, n: number) => `${((ms * 1000) / n).toFixed(2)} µs`;

try {
  // 1. The raw platform: lines like the log's, one writeSync each / one write.
  const line = new TextEncoder().encode(
    JSON.stringify({
      event: "completed",
      time: Date.now(),
      step: 12345,
      request: crypto.randomUUID(),
      output: { path: "./src/some/file.ts", bytes: 1234, lines: 56 },
    }) + "\n",
  );
  const events = 2 * REQUESTS;
  const perLine = await time(() => {
    using file = Deno.openSync(join(dir, "raw.jsonl"), {
      create: true,
      write: true,
      truncate: true,
    });
    for (let i = 0; i < events; i++) file.writeSync(line);
  });
  const all = new Uint8Array(line.length * events);
  for (let i = 0; i < events; i++) all.set(line, i * line.length);
  const oneWrite = await time(() => Deno.writeFileSync(join(dir, "raw-all.jsonl"), all));

  // 2. A run of tiny requests, saved and not.
  const leaf = node((x: number) => x + 1, { name: "leaf" });
  const fanOut = node(async function fanOut(n: number) {
    return (await callBatch(leaf, Array.from({ length: n }, (_, i) => [i])))
      .length;
  });
  let round = 0;
  const run = (saveState: boolean, durability: "batch" | "event" = "batch") => async () => {
    await using runner = new Runner({
      saveState,
      durability,
      stateDir: dir,
      runIdentifier: `run-${saveState}-${durability}-${round++}`,
      loggingSetting: "NONE",
    });
    await runner.run(fanOut, REQUESTS);
  };
  const logOnly = async () => {
    await using runner = new Runner({ loggingSetting: "NONE" });
    const writer = new EventLogWriter(dir, `log-${round++}`, runner.info);
    runner.publisher.subscribe((m) => writer.handle(m), "event-log", { passive: true });
    await runner.run(fanOut, REQUESTS);
    writer.close();
  };
  let serialized = "";
  const serialize = async () => {
    await using runner = new Runner({ loggingSetting: "NONE" });
    const info = await runner.run(fanOut, REQUESTS);
    const start = performance.now();
    serialized = info.graphSerialization();
    return performance.now() - start;
  };
  await run(false)();
  // The contenders take turns round by round, so load hits them alike.
  const unsavedMs: number[] = [], loggedMs: number[] = [], savedMs: number[] = [];
  const eachEventMs: number[] = [], serializeMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    unsavedMs.push(await time1(run(false)));
    loggedMs.push(await time1(logOnly));
    eachEventMs.push(await time1(run(true, "event")));
    savedMs.push(await time1(run(true)));
    serializeMs.push(await serialize());
  }
  const unsaved = median(unsavedMs), logged = median(loggedMs), saved = median(savedMs);
  const eachEvent = median(eachEventMs);
  const serializing = median(serializeMs);

  // 3. Reading back, from the log and from the snapshot.
  const runId = `run-true-batch-${round - 1}`;
  const logBytes = await Deno.readFile(
    join(dir, "runs", `${runId}.events.jsonl`),
  );
  const snapshotText = await Deno.readTextFile(
    join(dir, "runs", `${runId}.json`),
  );
  const fromSnapshot = await time(() => loadRun(dir, runId));
  await Deno.rename(
    join(dir, "runs", `${runId}.json`),
    join(dir, "runs", `${runId}.json.aside`),
  );
  const fromLog = await time(() => loadRun(dir, runId));
  const parseLog = await time(() =>
    new TextDecoder().decode(logBytes).trimEnd().split("\n").map((l) => JSON.parse(l))
  );
  const parseSnapshot = await time(() => JSON.parse(snapshotText));
  const snapshotBytes = new TextEncoder().encode(snapshotText);
  const rawSnapshot = await time(() => Deno.writeFileSync(join(dir, "raw.json"), snapshotBytes));
  // The floor of any serializer that returns one string: making it from bytes.
  const rawDecode = await time(() => new TextDecoder().decode(snapshotBytes).length);
  const serializedBytes = new TextEncoder().encode(serialized).length;

  rows.push(
    ["raw: one writeSync per log line", us(perLine, events), "1.00×"],
    [
      "raw: one write for all lines",
      us(oneWrite, events),
      `${(oneWrite / perLine).toFixed(2)}×`,
    ],
    [
      `run of ${REQUESTS + 1} requests, saveState off (per request)`,
      us(unsaved, REQUESTS + 1),
      "1.00×",
    ],
    [
      "same run, event log only (per request)",
      us(logged, REQUESTS + 1),
      `${(logged / unsaved).toFixed(2)}×`,
    ],
    [
      "  extra cost of the event log, per event (2 per request)",
      us(logged - unsaved, events),
      `${((logged - unsaved) / perLine).toFixed(2)}× raw writeSync`,
    ],
    [
      `same run, saveState on: log + snapshot (per request)`,
      us(saved, REQUESTS + 1),
      `${(saved / unsaved).toFixed(2)}×`,
    ],
    [
      `same run, saveState on, durability "event" (per request)`,
      us(eachEvent, REQUESTS + 1),
      `${(eachEvent / unsaved).toFixed(2)}× (${(eachEvent / saved).toFixed(2)}× "batch")`,
    ],
    [
      "  extra cost of a write per event, per event",
      us(eachEvent - saved, events),
      `${((eachEvent - saved) / perLine).toFixed(2)}× raw writeSync`,
    ],
    [
      `graphSerialization() of the unsaved run (${(serializedBytes / 1e6).toFixed(1)} MB)`,
      us(serializing, REQUESTS + 1),
      `${(serializing / unsaved).toFixed(2)}× the run`,
    ],
    [
      "raw: the snapshot's bytes decoded into one string",
      us(rawDecode, REQUESTS + 1),
      `${(rawDecode / unsaved).toFixed(2)}× the run`,
    ],
    [
      "raw: the snapshot's bytes in one writeFile",
      us(rawSnapshot, REQUESTS + 1),
      `${(rawSnapshot / unsaved).toFixed(2)}× the run`,
    ],
    [
      "  extra cost of log + snapshot, per event",
      us(saved - unsaved, events),
      `${((saved - unsaved) / perLine).toFixed(2)}× raw writeSync`,
    ],
    [
      `JSON.parse of the event log (${(logBytes.length / 1e6).toFixed(1)} MB)`,
      us(parseLog, REQUESTS + 1),
      "1.00×",
    ],
    [
      "loadRun() rebuilding from the event log",
      us(fromLog, REQUESTS + 1),
      `${(fromLog / parseLog).toFixed(2)}×`,
    ],
    [
      `JSON.parse of the snapshot (${(snapshotText.length / 1e6).toFixed(1)} MB)`,
      us(parseSnapshot, REQUESTS + 1),
      "1.00×",
    ],
    [
      "loadRun() from the snapshot",
      us(fromSnapshot, REQUESTS + 1),
      `${(fromSnapshot / parseSnapshot).toFixed(2)}×`,
    ],
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}

const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 8));
console.log(
  `| ${"case".padEnd(widths[0])} | ${"time".padEnd(widths[1])} | ${"ratio".padEnd(widths[2])} |`,
);
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of rows) {
  console.log(`| ${row.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`);
}
console.log(
  `(median of ${ROUNDS} rounds, the run variants taking turns; times per line, per request or per event as named)`,
);
