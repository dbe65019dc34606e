import assert from "node:assert/strict";
import { crashStorm, kindOf } from "./fixtures/crash_storm.ts";

Deno.test("A worker crash storm ends every task, never exceeds the pool size and leaks no worker", async () => {
  const total = 150;
  const size = 3;
  const outcome = await crashStorm(total, size);
  const kinds = Array.from({ length: total }, (_, i) => kindOf(i));
  const count = (k: number) => kinds.filter((x) => x === k).length;
  assert.equal(outcome.succeeded, count(3));
  assert.deepEqual(outcome.failed, {
    threw: count(0),
    closed: count(1),
    exited: count(2),
  });
  assert.deepEqual(outcome.records, { Completed: count(3), Failed: total - count(3) });
  assert.ok(outcome.peakLive <= size, `${outcome.peakLive} workers alive at once`);
  assert.equal(outcome.leftLive, 0);
  // Each worker that closed or exited was replaced by a fresh one.
  assert.ok(outcome.spawned >= count(1) + count(2));
});
