import assert from "node:assert/strict";
import { killSaving } from "./fixtures/kill_saving.ts";

Deno.test("A saving run killed with SIGKILL at random points never leaves a torn snapshot or an unreadable log", async () => {
  // Spread over the first ~300 ms: during runs, snapshot writes and new logs.
  for (const delay of [0, 20, 75, 150, 300]) {
    const stateDir = await Deno.makeTempDir({ prefix: "switchyard-kill-" });
    try {
      const outcome = await killSaving(stateDir, delay);
      assert.deepEqual(outcome.problems, [], `killed after ${delay} ms`);
      assert.ok(outcome.logs >= 1, `killed after ${delay} ms: ${JSON.stringify(outcome)}`);
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  }
});
