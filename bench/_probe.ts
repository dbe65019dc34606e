import { node, Task, WorkerExecutionStrategy } from "../mod.ts";
const inc = node(function inc(x: number) { return x + 1; }, { worker: true });
const N = 50000;
const strategy = new WorkerExecutionStrategy({ size: 2 });
const run = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => strategy.execute(new Task(String(i), inc, [i]))));
await run(1000);
for (let r = 0; r < 3; r++) {
  const t = performance.now();
  await run(N);
  console.log(Math.round(N / ((performance.now() - t) / 1000)));
}
await strategy.shutdown();
