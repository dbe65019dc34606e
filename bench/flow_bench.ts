/**
 * Flow activations per second against the raw platform (an EventTarget
 * dispatching to a listener) and against the same number of plain tracked
 * calls on a Runner, measured in the same run.
 *
 * @module
 */
import { call, Flow, node, Routine, Runner } from "../mod.ts";

const N = Number(Deno.env.get("FLOW_BENCH_N") ?? 5_000);
const ROUNDS = 5;

class Source extends Routine {
  constructor() {
    super();
    this.defineSlot("trigger", ({ n }) => {
      for (let i = 0; i < (n as number); i++) this.emit("item", { i });
    });
    this.defineEvent("item", ["i"]);
  }
}

class Sink extends Routine {
  constructor() {
    super();
    this.defineSlot("input", () => {});
  }
}

async function flowRound(): Promise<number> {
  const flow = new Flow({ flowId: "bench" });
  flow.addRoutine(new Source(), "source");
  flow.addRoutine(new Sink(), "sink");
  flow.connect("source", "item", "sink", "input");
  const start = performance.now();
  const job = await flow.execute("source", { entryParams: { n: N } });
  await flow.waitForCompletion({ jobState: job });
  const ms = performance.now() - start;
  if (job.status !== "completed") throw new Error(`bench job ${job.status}`);
  return ms;
}

async function runnerRound(): Promise<number> {
  const leaf = node(() => {}, { name: "leaf" });
  const fan = node(async (n: number) => {
    await Promise.all(Array.from({ length: n }, () => call(leaf)));
  }, { name: "fan" });
  await using runner = new Runner({ loggingSetting: "NONE" });
  const start = performance.now();
  await runner.run(fan, N);
  return performance.now() - start;
}

// deno-lint-ignore require-await
async function eventTargetRound(): Promise<number> {
  const target = new EventTarget();
  let seen = 0;
  target.addEventListener("item", () => seen++);
  const start = performance.now();
  for (let i = 0; i < N + 1; i++) target.dispatchEvent(new Event("item"));
  const ms = performance.now() - start;
  if (seen !== N + 1) throw new Error("lost events");
  return ms;
}

async function best(round: () => Promise<number>): Promise<number> {
  await round(); // warm-up
  let min = Infinity;
  for (let i = 0; i < ROUNDS; i++) min = Math.min(min, await round());
  return min;
}

const rows: [string, number][] = [
  ["EventTarget dispatch (platform)", await best(eventTargetRound)],
  ["Runner: tracked call() fan-out", await best(runnerRound)],
  ["Flow: tracked slot activations", await best(flowRound)],
];
const flowMs = rows[2][1];
console.log(`${N + 1} activations per round, best of ${ROUNDS}`);
console.log("| what | ms | per second | flow is × slower |");
console.log("| --- | ---: | ---: | ---: |");
for (const [what, ms] of rows) {
  console.log(
    `| ${what} | ${ms.toFixed(1)} | ${
      Math.round((N + 1) / (ms / 1000)).toLocaleString("en-US")
    } | ${(flowMs / ms).toFixed(1)} |`,
  );
}
