/**
 * Run by `core_bench.ts` in a process of its own, so its peak RSS is its
 * own: a 100k fan-out (warm), then one run of 1M tracked calls, each timed
 * per call; prints one JSON line.
 *
 * @module
 */
import { Runner } from "../mod.ts";
import { fanOut } from "./_fanout.ts";

const SMALL = 100_000;
const LARGE = 1_000_000;

async function perCall(n: number): Promise<number> {
  const start = performance.now();
  await using runner = new Runner({ loggingSetting: "NONE" });
  await runner.run(fanOut, n);
  return (performance.now() - start) * 1000 / n;
}

await perCall(SMALL); // warm up
const small: number[] = [];
for (let i = 0; i < 3; i++) small.push(await perCall(SMALL));
const large = await perCall(LARGE);
const status = await Deno.readTextFile("/proc/self/status").catch(() => "");
const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
console.log(JSON.stringify({
  smallUs: small.toSorted((a, b) => a - b)[1],
  largeUs: large,
  peakRssMiB: peakKb / 1024,
}));
