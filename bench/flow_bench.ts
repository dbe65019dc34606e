/**
 * Flow activations per second against the raw platform (an EventTarget
 * dispatching to a listener) and against the same number of plain tracked
 * calls on a Runner, measured in the same run: the three take turns round
 * by round (so load from elsewhere hits them alike), each after the event
 * loop turned, after warm-up rounds; best and median. No forced gc()
 * between rounds: a forced full collection drops the compiled code and type
 * feedback of the round's functions, and a 5,000-activation round is short
 * enough that it would then measure mostly the warm-up.
 *
 * @module
 */
import { call, Flow, node, Routine, Runner } from "../mod.ts";
import { median } from "./_measure.ts";

const N = Number(Deno.env.get("FLOW_BENCH_N") ?? 5_000);
const ROUNDS = Number(Deno.env.get("FLOW_BENCH_ROUNDS") ?? 15);
const WARM_UP = 5;

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

/** The event loop turns: the last round's leftovers run first. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
}

const contenders: [string, () => Promise<number>][] = [
  ["EventTarget dispatch (platform)", eventTargetRound],
  ["Runner: tracked call() fan-out", runnerRound],
  ["Flow: tracked slot activations", flowRound],
];
const times: number[][] = contenders.map(() => []);
for (let round = 0; round < WARM_UP + ROUNDS; round++) {
  for (const [i, [, run]] of contenders.entries()) {
    await settle();
    const ms = await run();
    if (round >= WARM_UP) times[i].push(ms);
  }
}
const bestMs = times.map((t) => Math.min(...t));
const medianMs = times.map((t) => median(t));
const rate = (ms: number) => Math.round((N + 1) / (ms / 1000)).toLocaleString("en-US");
console.log(
  `${N + 1} activations per round, ${ROUNDS} rounds after ${WARM_UP} warm-up rounds`,
);
console.log(
  "| what | best ms | per second (best) | median ms | per second (median) | flow is × slower (median) |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const [i, [what]] of contenders.entries()) {
  console.log(
    `| ${what} | ${bestMs[i].toFixed(1)} | ${rate(bestMs[i])} | ${medianMs[i].toFixed(1)} | ${
      rate(medianMs[i])
    } | ${(medianMs[2] / medianMs[i]).toFixed(1)} |`,
  );
}
