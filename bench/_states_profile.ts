/**
 * The StateManager's part of `bench/states_bench.ts` alone, for a profile:
 * `deno run -A --cpu-prof bench/_states_profile.ts [rounds]` makes, queues
 * and drains 100k no-op states per round and prints each round's ms.
 *
 * @module
 */
import { State, StateManager } from "../mod.ts";
const N = 100_000;
function noop(): void {}
async function once(): Promise<number> {
  await StateManager.reset();
  const manager = StateManager.instance({ loggingSetting: "NONE" });
  const last = Promise.withResolvers<void>();
  const t = performance.now();
  const states: State[] = new Array(N);
  for (let i = 0; i < N - 1; i++) states[i] = new State("noop", noop);
  states[N - 1] = new State("last", () => last.resolve());
  manager.putStates(states);
  const loop = manager.processStates();
  await last.promise;
  const e = performance.now() - t;
  await manager.signalStopping();
  await loop;
  await StateManager.reset();
  return e;
}
const R = Number(Deno.args[0] ?? 6);
const out: string[] = [];
for (let i = 0; i < R; i++) out.push((await once()).toFixed(0));
console.log(out.join(" "));
