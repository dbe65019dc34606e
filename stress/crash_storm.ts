/**
 * The worker crash storm at full size: 3,000 worker tasks on a pool of 4,
 * a third throw, a third close or exit their worker, the rest succeed.
 * Checks every task ended as it should and the pool never held more than
 * its size; prints the counts.
 *
 * @module
 */
import { crashStorm, kindOf } from "../tests/fixtures/crash_storm.ts";

const TOTAL = Number(Deno.env.get("TASKS") ?? 3_000);
const SIZE = 4;
const outcome = await crashStorm(TOTAL, SIZE);
const kinds = Array.from({ length: TOTAL }, (_, i) => kindOf(i));
const count = (k: number) => kinds.filter((x) => x === k).length;
const expected = { threw: count(0), closed: count(1), exited: count(2) };
const failed = Object.values(outcome.failed).reduce((a, b) => a + b, 0);
console.log(`| tasks submitted      | ${outcome.submitted} (pool size ${SIZE}) |`);
console.log(`| succeeded            | ${outcome.succeeded} (expected ${count(3)}) |`);
console.log(
  `| failed               | ${failed}: ${JSON.stringify(outcome.failed)} (expected ${
    JSON.stringify(expected)
  }) |`,
);
console.log(`| request records      | ${JSON.stringify(outcome.records)} |`);
console.log(`| workers spawned      | ${outcome.spawned} |`);
console.log(`| most alive at once   | ${outcome.peakLive} |`);
console.log(`| alive after shutdown | ${outcome.leftLive} |`);
console.log(`| wall time            | ${(outcome.ms / 1000).toFixed(1)} s |`);
const ok = outcome.succeeded === count(3) &&
  Object.entries(expected).every(([reason, n]) => outcome.failed[reason] === n) &&
  outcome.succeeded + failed === TOTAL && outcome.peakLive <= SIZE &&
  outcome.leftLive === 0;
if (!ok) throw new Error("The crash storm broke a promise: see the table above");
