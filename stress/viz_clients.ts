/**
 * The visualizer under load: a live 100,000-request run followed by 20
 * clients at once, each listing the runs, streaming the whole event log
 * from offset 0 and paging through rows, failures and request details. The server runs in
 * its own process; its peak resident memory (VmHWM) is read from /proc.
 *
 * @module
 */
import { join } from "node:path";

const REQUESTS = 100_000;
const CLIENTS = 20;
const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-load-" });
const runs = join(stateDir, "runs");
await Deno.mkdir(runs);
const logPath = join(runs, "big.events.jsonl");

// A run of 100 groups of 999 leaves, every 1,000th leaf failing with a stack.
const lines: string[] = [];
let step = 0;
const t = 1_767_225_600_000;
const push = (value: unknown) => lines.push(JSON.stringify(value));
push({ event: "start", format: "switchyard.events/1", runId: "big", time: t, pid: 1 });
push({
  event: "created",
  time: t,
  step: step++,
  request: "root",
  parentNode: null,
  node: "n-root",
  name: "load",
  nodeType: "async",
  args: [{ items: REQUESTS }],
});
for (let g = 0; g < 100; g++) {
  push({
    event: "created",
    time: t + step,
    step: step++,
    request: `g${g}`,
    parentNode: "n-root",
    node: `n-g${g}`,
    name: "group",
    nodeType: "worker",
    args: [g, "x".repeat(60)],
  });
  for (let i = 0; i < 999; i++) {
    push({
      event: "created",
      time: t + step,
      step: step++,
      request: `g${g}-${i}`,
      parentNode: `n-g${g}`,
      node: `n-g${g}-${i}`,
      name: "leaf",
      nodeType: "async",
      args: [{ group: g, item: i, path: `/data/${g}/${i}.json` }],
    });
    push(
      i % 1000 === 500
        ? {
          event: "failed",
          time: t + step,
          step: step++,
          request: `g${g}-${i}`,
          output: {
            name: "RangeError",
            message: `item ${i} is out of range`,
            stack:
              `RangeError: item ${i}\n    at leaf (file:///app/leaf.ts:3:9)\n    at run (file:///app/main.ts:10:2)`,
          },
        }
        : {
          event: "completed",
          time: t + step,
          step: step++,
          request: `g${g}-${i}`,
          output: { bytes: i * 17, lines: i, digest: "9f86d081884c7d659a2feaa0c55ad015" },
        },
    );
  }
  push({ event: "completed", time: t + step, step: step++, request: `g${g}`, output: 999 });
}
await Deno.writeTextFile(logPath, lines.join("\n") + "\n");
lines.length = 0;
const logBytes = (await Deno.stat(logPath)).size;

// This process holds the writer's lock: the run is live, streams stay open.
const writer = await Deno.open(logPath, { append: true });
await writer.lock(true);

const serverCode = `
import { serveViz } from ${JSON.stringify(new URL("../viz.ts", import.meta.url).href)};
const server = serveViz({ stateDir: ${
  JSON.stringify(stateDir)
}, port: 0, maxLiveClients: ${CLIENTS} });
console.log(server.port);
await new Promise(() => {});
`;
const child = new Deno.Command(Deno.execPath(), {
  args: ["eval", serverCode],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let first = "";
while (!first.includes("\n")) first += (await reader.read()).value ?? "";
const port = Number(first.trim());
const base = `http://127.0.0.1:${port}/api/runs/big`;
const memory = async () => {
  const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)![1]);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
};
const idle = await memory();

const started = performance.now();
let streamed = 0;
let total = 0;
const client = async (n: number) => {
  const list = await (await fetch(`http://127.0.0.1:${port}/api/runs`)).json();
  if (list[0]?.live !== true) throw new Error("the run should be listed live");
  const summary = await (await fetch(base)).json();
  for (const from of [0, 50_000, 99_900]) {
    const rows = await (await fetch(`${base}/rows?from=${from}&limit=100`)).json();
    if (rows.rows.length === 0) throw new Error("no rows");
  }
  const filtered = await (await fetch(`${base}/rows?status=Failed&limit=200`)).json();
  const found = await (await fetch(`${base}/find?find=Failed`)).json();
  await (await fetch(`${base}/requests/${found.found.id}`)).json();
  // Follow the live log from its start: read until caught up.
  const response = await fetch(`${base}/events?offset=0`);
  const text = response.body!.getReader();
  let bytes = 0;
  while (bytes < logBytes) {
    const { value, done } = await text.read();
    if (done) break;
    bytes += value.length;
  }
  streamed += bytes;
  await text.cancel();
  total = summary.requests;
  if (n === 0) {
    console.log(
      `summary: ${summary.requests} requests, ${summary.failed} failed; filter Failed: ${filtered.total} rows`,
    );
  }
};
await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
const elapsed = (performance.now() - started) / 1000;
const after = await memory();
console.log(
  `log ${
    (logBytes / 2 ** 20).toFixed(1)
  } MiB, ${total} requests; ${CLIENTS} live clients streamed ${
    (streamed / 2 ** 20).toFixed(0)
  } MiB in ${elapsed.toFixed(1)} s`,
);
console.log(
  `server RSS idle ${idle.rss.toFixed(0)} MiB; peak (VmHWM) ${after.peak.toFixed(0)} MiB; after ${
    after.rss.toFixed(0)
  } MiB (target: peak <= 300 MiB)`,
);
child.kill();
await child.status;
await reader.cancel();
writer.close();
await Deno.remove(stateDir, { recursive: true });
if (after.peak > 300) Deno.exitCode = 1;
