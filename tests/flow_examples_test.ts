import assert from "node:assert/strict";
import { main as jobStateMain } from "../examples/flow_job_state.ts";
import { main as countersMain } from "../examples/flow_counters.ts";
import { main as sharedDataMain } from "../examples/flow_shared_data.ts";
import { main as historyMain } from "../examples/flow_history.ts";
import { main as validationMain } from "../examples/flow_validation.ts";

async function printed(
  main: (args: string[]) => Promise<void>,
  args: string[] = [],
): Promise<string> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => lines.push(parts.join(" "));
  try {
    await main(args);
  } finally {
    console.log = original;
  }
  return lines.join("\n");
}

Deno.test("examples/flow_job_state.ts reads the JobState after a run", async () => {
  const out = await printed(jobStateMain, ["one", "three", "eleven"]);
  assert.match(out, /started: running/);
  assert.match(out, /Finished in time: true; status: completed/);
  assert.match(out, /Words emitted: 3/);
  assert.match(out, /Letters counted: 14/);
  assert.match(out, /"lastWord":"eleven"/);
  assert.match(out, /Tracked 4 activations; engine status Completed/);
});

Deno.test("examples/flow_counters.ts keeps per-routine counters per job", async () => {
  const out = await printed(countersMain, ["6"]);
  assert.match(out, /counter +\{"emitted":6\}/);
  assert.match(out, /filter +\{"seen":6,"passed":3\}/);
  assert.match(out, /sink +\{"received":3\}/);
  assert.match(out, /counter +\{"emitted":3\}/);
  assert.match(out, /sink +\{"received":1\}/);
});

Deno.test("examples/flow_shared_data.ts shares data and a log across routines", async () => {
  const out = await printed(sharedDataMain, ["10", "60", "80"]);
  assert.match(out, /Shared data: sum=150 max=80/);
  assert.match(out, /Shared log: 5 entries/);
  assert.match(out, /Alerts: 60, 80/);
  assert.match(out, /stats=3 audit=2/);
});

Deno.test("examples/flow_history.ts filters the history by routine", async () => {
  const out = await printed(historyMain, ["ab\\n\\ncde"]);
  assert.match(out, /Status: completed; 6 records/);
  assert.match(out, /lines: 3 records/);
  assert.match(
    out,
    /measure: 3 records\n {2}length \{"length":2\}\n {2}empty \{\}/,
  );
  assert.match(out, /Total length: 5/);
});

Deno.test("examples/flow_validation.ts validates and aggregates with entryParams", async () => {
  assert.match(
    await printed(validationMain, ["18"]),
    /Valid: 2 \(Ada, Linus\)\nMean age: 28.5\nRejected "": empty name\nRejected "Grace": negative age\nRejected "Ken": younger than 18/,
  );
  const lenient = await printed(validationMain, ["0"]);
  assert.match(lenient, /Valid: 3 \(Ada, Linus, Ken\)/);
  assert.doesNotMatch(lenient, /younger/);
});
