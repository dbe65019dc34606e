/**
 * `deno task bench states`: 100k non-blocking no-op states through the
 * StateManager (each one a tracked top-level request) against p-queue with
 * concurrency 1 running the same no-op, in the same process.
 *
 * @module
 */
import PQueue from "p-queue";
import { AsyncExecutionStrategy, Coordinator, RTPublisher, RTState } from "../engine.ts";
import { ExecutionInfo, Node, parseExecutorConfig, State, StateManager } from "../mod.ts";
import { median } from "./_measure.ts";

const N = 100_000;
const ROUNDS = Number(Deno.env.get("STATES_BENCH_ROUNDS") ?? 9);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function noop(): void {}

/** Makes N states and queues them; the list dies here, as p-queue's would. */
function queueStates(manager: StateManager, onLast: () => void): void {
  const states: State[] = new Array(N);
  for (let i = 0; i < N - 1; i++) states[i] = new State("noop", noop);
  states[N - 1] = new State("last", onLast);
  manager.putStates(states);
}

/** Makes, queues and drains N states; returns the elapsed ms. */
async function viaStateManager(): Promise<number> {
  await StateManager.reset();
  const manager = StateManager.instance({ loggingSetting: "NONE" });
  const last = Promise.withResolvers<void>();
  gc();
  const started = performance.now();
  queueStates(manager, () => last.resolve());
  const loop = manager.processStates();
  await last.promise;
  const elapsed = performance.now() - started;
  await manager.signalStopping();
  await loop;
  if (manager.info.requestHeap.insertionRequests.length !== N) {
    throw new Error("Cannot trust the run as some states were not recorded");
  }
  await StateManager.reset();
  return elapsed;
}

/** Adds N no-op tasks to a p-queue of concurrency 1; returns the elapsed ms. */
async function viaPQueue(): Promise<number> {
  const queue = new PQueue({ concurrency: 1 });
  gc();
  const started = performance.now();
  for (let i = 0; i < N; i++) queue.add(noop);
  await queue.onIdle();
  return performance.now() - started;
}

/**
 * The floor under the manager: N tracked top-level requests of a no-op
 * node made straight on RTState, each awaited before the next.
 */
async function viaRTState(): Promise<number> {
  const publisher = new RTPublisher();
  publisher.start();
  const coordinator = new Coordinator({ async: new AsyncExecutionStrategy() });
  coordinator.start(publisher);
  const config = parseExecutorConfig({ loggingSetting: "NONE" });
  const rt = new RTState(
    ExecutionInfo.createNew(),
    config,
    coordinator,
    publisher,
  );
  gc();
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const target = new Node(noop, { name: "noop" });
    await rt.callNodes({
      parentNodeId: null,
      node: target,
      args: [],
      nodeType: "state",
    });
  }
  const elapsed = performance.now() - started;
  await rt.shutdown();
  await coordinator.shutdown();
  publisher.shutdown();
  return elapsed;
}

const manager: number[] = [];
const pQueue: number[] = [];
const core: number[] = [];
const contenders: [() => Promise<number>, number[]][] = [
  [viaStateManager, manager],
  [viaPQueue, pQueue],
  [viaRTState, core],
];
for (const [run] of contenders) await run(); // warm-up
// The contenders take turns, and the one that goes first rotates round by
// round: a round's load, and what the previous run left for the collector,
// fall on each of them alike.
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < contenders.length; i++) {
    const [run, times] = contenders[(round + i) % contenders.length];
    times.push(await run());
  }
}
const m = median(manager);
const p = median(pQueue);
const c = median(core);
const rate = (ms: number) => Math.round(N / (ms / 1000)).toLocaleString("en");
// The verdict: the median of the ratios within each round (each ratio is
// of two runs made side by side), not a ratio of medians taken apart.
const perRound = manager.map((ms, i) => pQueue[i] / ms);
const corePerRound = core.map((ms, i) => pQueue[i] / ms);
console.log(
  `${N.toLocaleString("en")} non-blocking no-op states, ${ROUNDS} rounds (median)`,
);
console.log("| runner | ms | states/s | vs p-queue (per-round median) |");
console.log("|---|---:|---:|---:|");
console.log(
  `| StateManager | ${m.toFixed(1)} | ${rate(m)} | ${median(perRound).toFixed(2)}× |`,
);
console.log(
  `| p-queue (concurrency 1) | ${p.toFixed(1)} | ${rate(p)} | 1.00× |`,
);
console.log(
  `| RTState.callNodes, one at a time (the core under the manager) | ${c.toFixed(1)} | ${
    rate(c)
  } | ${median(corePerRound).toFixed(2)}× |`,
);
console.log(
  `p-queue ÷ StateManager per round: ${perRound.map((r) => r.toFixed(2)).join(" ")} (median ${
    median(perRound).toFixed(2)
  }×; ratio of the medians ${(p / m).toFixed(2)}×)`,
);
console.log(
  `Manager overhead over the core: ${((m / c - 1) * 100).toFixed(0)}% (per state: ${
    ((m - c) * 1000 / N).toFixed(2)
  } µs)`,
);
