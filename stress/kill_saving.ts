/**
 * SIGKILL a saving run at 50 random points: no snapshot may be torn and
 * every event log must load. Prints what the kills left behind.
 *
 * @module
 */
import { killSaving } from "../tests/fixtures/kill_saving.ts";

const KILLS = Number(Deno.env.get("KILLS") ?? 50);
const totals = { snapshots: 0, logs: 0, temps: 0 };
const statuses: Record<string, number> = {};
const problems: string[] = [];
const started = performance.now();
for (let i = 0; i < KILLS; i++) {
  const delay = Math.floor(Math.random() * 1_500);
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-kill-" });
  try {
    const outcome = await killSaving(stateDir, delay);
    totals.snapshots += outcome.snapshots;
    totals.logs += outcome.logs;
    totals.temps += outcome.temps;
    for (const [status, n] of Object.entries(outcome.statuses)) {
      statuses[status] = (statuses[status] ?? 0) + n;
    }
    problems.push(...outcome.problems.map((p) => `kill ${i} after ${delay} ms: ${p}`));
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
}
console.log(
  `| kills                  | ${KILLS} (random points 0-1500 ms after the first saved run) |`,
);
console.log(`| snapshots left         | ${totals.snapshots}, every one complete JSON |`);
console.log(`| event logs left        | ${totals.logs} |`);
console.log(`| runs loaded, by status | ${JSON.stringify(statuses)} |`);
console.log(`| interrupted temp files | ${totals.temps} (ignored by the loader) |`);
console.log(`| problems               | ${problems.length} |`);
console.log(`| wall time              | ${((performance.now() - started) / 1000).toFixed(1)} s |`);
for (const problem of problems) console.log(`  ${problem}`);
if (problems.length) throw new Error("A kill left a torn snapshot or an unreadable log");
