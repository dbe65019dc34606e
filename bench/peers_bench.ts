/**
 * The same two workloads on Switchyard, Mastra workflows and LangGraph.js,
 * in one process: a fan-out of 1,000 steps from one step, and a chain of
 * 1,000 steps each taking the previous one's output. Each step adds 1.
 * Prints time per step and how many times faster Switchyard is.
 *
 * @module
 */
import { createStep, createWorkflow } from "@mastra/core/workflows";
import { Annotation, END, Send, START, StateGraph } from "@langchain/langgraph";
import { z } from "zod";
import { call, node, Runner } from "../mod.ts";
import { median } from "./_measure.ts";

const STEPS = 1_000;

// ---- Switchyard ----
const inc = node(async (x: number) => x + 1, { name: "inc" });
const fan = node(async (n: number) => {
  const calls = new Array(n);
  for (let i = 0; i < n; i++) calls[i] = call(inc, i);
  return (await Promise.all(calls)).length;
}, { name: "fan" });
const chain = node(async (n: number) => {
  let x = 0;
  for (let i = 0; i < n; i++) x = await call(inc, x);
  return x;
}, { name: "chain" });

async function ours(start: typeof fan): Promise<number> {
  await using runner = new Runner({ loggingSetting: "NONE" });
  return (await runner.run(start, STEPS)).answer;
}

// ---- Mastra workflows ----
const num = z.object({ x: z.number() });
const mastraInc = createStep({
  id: "inc",
  inputSchema: num,
  outputSchema: num,
  execute: async ({ inputData }) => ({ x: inputData.x + 1 }),
});
const mastraFan = createWorkflow({
  id: "fan",
  inputSchema: z.array(num),
  outputSchema: z.array(num),
})
  .foreach(mastraInc, { concurrency: STEPS })
  .commit();
// deno-lint-ignore no-explicit-any
let chainBuilder: any = createWorkflow({ id: "chain", inputSchema: num, outputSchema: num });
for (let i = 0; i < STEPS; i++) {
  chainBuilder = chainBuilder.then(createStep({
    id: `inc${i}`,
    inputSchema: num,
    outputSchema: num,
    execute: async ({ inputData }) => ({ x: inputData.x + 1 }),
  }));
}
const mastraChain = chainBuilder.commit();

async function mastra(kind: "fan" | "chain"): Promise<number> {
  if (kind === "fan") {
    const run = await mastraFan.createRun();
    const result = await run.start({
      inputData: Array.from({ length: STEPS }, (_, x) => ({ x })),
    });
    if (result.status !== "success") throw new Error(`Mastra fan-out: ${result.status}`);
    return (result.result as unknown[]).length;
  }
  const run = await mastraChain.createRun();
  const result = await run.start({ inputData: { x: 0 } });
  if (result.status !== "success") throw new Error(`Mastra chain: ${result.status}`);
  return result.result.x;
}

// ---- LangGraph.js ----
const ChainState = Annotation.Root({ x: Annotation<number>() });
// deno-lint-ignore no-explicit-any
const chainGraph: any = new StateGraph(ChainState);
for (let i = 0; i < STEPS; i++) {
  chainGraph.addNode(`inc${i}`, (s: { x: number }) => ({ x: s.x + 1 }));
}
chainGraph.addEdge(START, "inc0");
for (let i = 1; i < STEPS; i++) chainGraph.addEdge(`inc${i - 1}`, `inc${i}`);
chainGraph.addEdge(`inc${STEPS - 1}`, END);
const langChain = chainGraph.compile();
const FanState = Annotation.Root({
  items: Annotation<number[]>(),
  out: Annotation<number[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
const langFan = new StateGraph(FanState)
  .addNode("inc", (s: { x: number }) => ({ out: [s.x + 1] }))
  .addConditionalEdges(START, (s) => s.items.map((x) => new Send("inc", { x })))
  .addEdge("inc", END)
  .compile();

async function langGraph(kind: "fan" | "chain"): Promise<number> {
  if (kind === "fan") {
    const state = await langFan.invoke({ items: Array.from({ length: STEPS }, (_, x) => x) });
    return state.out.length;
  }
  const state = await langChain.invoke({ x: 0 }, { recursionLimit: STEPS + 10 });
  return state.x;
}

async function perStep(fn: () => Promise<number>, expected: number, rounds: number) {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const answer = await fn();
    times.push((performance.now() - start) * 1000 / STEPS);
    if (answer !== expected) throw new Error(`wrong answer ${answer}, expected ${expected}`);
  }
  return median(times);
}

console.log(`${STEPS} steps of "add 1": fan-out from one step, and a chain; µs per step, median`);
console.log("| workload | Switchyard | Mastra | LangGraph.js | × Mastra | × LangGraph |");
console.log("| -------- | ---------: | -----: | -----------: | -------: | ----------: |");
for (const kind of ["fan", "chain"] as const) {
  const start = kind === "fan" ? fan : chain;
  // Warm every contender once, then alternate.
  await ours(start);
  await mastra(kind);
  await langGraph(kind);
  const expected = STEPS;
  const oursUs = await perStep(() => ours(start), expected, 7);
  const mastraUs = await perStep(() => mastra(kind), expected, 3);
  const langUs = await perStep(() => langGraph(kind), expected, kind === "fan" ? 3 : 1);
  const oursAgain = await perStep(() => ours(start), expected, 7);
  const us = Math.max(oursUs, oursAgain);
  console.log(
    `| ${kind === "fan" ? "fan-out" : "chain"} | ${us.toFixed(1)} | ${mastraUs.toFixed(1)} | ${
      langUs.toFixed(1)
    } | ${(mastraUs / us).toFixed(1)}× | ${(langUs / us).toFixed(1)}× |`,
  );
}
