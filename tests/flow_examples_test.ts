import assert from "node:assert/strict";
import { main as jobStateMain } from "../examples/flow_job_state.ts";
import { main as countersMain } from "../examples/flow_counters.ts";
import { main as sharedDataMain } from "../examples/flow_shared_data.ts";
import { main as historyMain } from "../examples/flow_history.ts";
import { main as validationMain } from "../examples/flow_validation.ts";
import { main as ordersMain } from "../examples/flow_orders.ts";
import { main as cli } from "../src/cli/main.ts";
import { loadRun } from "../persistence.ts";

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

Deno.test("examples/flow_orders.ts prices orders, and switchyard run runs its exported Flow", async () => {
  const out = await printed(ordersMain);
  assert.match(out, /^Job completed: total 11$/m);
  assert.match(out, /^Lines: tea: 6, cake: 5$/m);
  assert.match(out, /^Unknown items: scone$/m);

  const dir = await Deno.makeTempDir({ prefix: "switchyard-orders-" });
  try {
    const output = {
      stdout: "",
      stderr: "",
      out: (t: string) => void (output.stdout += t),
      err: (t: string) => void (output.stderr += t),
      isTerminal: false,
      columns: 100,
    };
    const module = new URL("../examples/flow_orders.ts", import.meta.url).pathname;
    const orders = JSON.stringify({ orders: [{ item: "coffee", quantity: 3 }] });
    const code = await cli(["run", module, orders, "--dir", dir, "--run-id", "orders"], { output });
    assert.equal(code, 0, output.stderr);
    const answer = JSON.parse(output.stdout);
    assert.equal(answer.status, "completed");
    assert.deepEqual(answer.sharedData, { total: 12, lines: ["coffee: 12"] });
    assert.equal((await loadRun(dir, "orders")).status, "Completed");
    // Its exported `args` schema checks the argument.
    const bad = { ...output, stdout: "", stderr: "" };
    bad.err = (t: string) => void (bad.stderr += t);
    assert.equal(await cli(["run", module, '{"orders":[]}', "--no-save"], { output: bad }), 2);
    assert.match(bad.stderr, /argument 1: 'orders' must be at least 1/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
