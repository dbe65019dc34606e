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
await viaStateManager(); // warm-up
await viaPQueue();
await viaRTState();
for (let round = 0; round < ROUNDS; round++) {
  manager.push(await viaStateManager());
  pQueue.push(await viaPQueue());
  core.push(await viaRTState());
}
const m = median(manager);
const p = median(pQueue);
const c = median(core);
const rate = (ms: number) => Math.round(N / (ms / 1000)).toLocaleString("en");
console.log(
  `${N.toLocaleString("en")} non-blocking no-op states, median of ${ROUNDS}`,
);
console.log("| runner | ms | states/s | vs p-queue |");
console.log("|---|---:|---:|---:|");
console.log(
  `| StateManager | ${m.toFixed(1)} | ${rate(m)} | ${(p / m).toFixed(2)}× |`,
);
console.log(
  `| p-queue (concurrency 1) | ${p.toFixed(1)} | ${rate(p)} | 1.00× |`,
);
console.log(
  `| RTState.callNodes, one at a time (the core under the manager) | ${c.toFixed(1)} | ${
    rate(c)
  } | ${(p / c).toFixed(2)}× |`,
);
const perRound = manager.map((ms, i) => pQueue[i] / ms);
console.log(
  `p-queue ÷ StateManager per round: ${perRound.map((r) => r.toFixed(2)).join(" ")} (median ${
    median(perRound).toFixed(2)
  }×)`,
);
console.log(
  `Manager overhead over the core: ${((m / c - 1) * 100).toFixed(0)}% (per state: ${
    ((m - c) * 1000 / N).toFixed(2)
  } µs)`,
);
