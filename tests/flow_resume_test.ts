import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { buildFlow } from "./fixtures/resume_flow.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

Deno.test("Flow.resume() in another process finishes a saved job, each activation once", async () => {
  const flow = buildFlow();
  const job = await flow.execute("numbers", { entryParams: { count: 6 } });
  assert.equal(await flow.waitForCompletion({ jobState: job }), true);
  assert.equal(job.status, "paused");
  assert.deepEqual(job.getSharedData("processed"), [1, 2, 3]);
  assert.deepEqual(job.pendingActivations.map((a) => a.data), [
    { n: 4 },
    { n: 5 },
    { n: 6 },
  ]);
  assert.deepEqual(job.deferredEvents.map((e) => e.eventName), ["finished"]);
  assert.deepEqual(job.pausePoints[0].checkpoint, { after: 3 });

  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/job.json`;
    await job.save(path);
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        `${root}deno.json`,
        "-A",
        `${root}tests/fixtures/resume_flow.ts`,
        path,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.notEqual(result.pid, Deno.pid);
    assert.equal(result.finished, true);
    assert.equal(result.jobId, job.jobId);
    assert.equal(result.status, "completed");
    assert.deepEqual(result.processed, [1, 2, 3, 4, 5, 6]);
    assert.equal(result.summary, 6);
    assert.equal(result.worker.runs, 6);
    assert.equal(result.pausePoints, 1);
    // The resumed part is tracked in that process: 3 items and the summary.
    assert.equal(result.requests, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Flow.resume() in the same process after save and load", async () => {
  const flow = buildFlow();
  const job = await flow.execute("numbers", { entryParams: { count: 4 } });
  await flow.waitForCompletion({ jobState: job });
  const { JobState } = await import("../mod.ts");
  const copy = JobState.fromJSON(JSON.parse(JSON.stringify(job)));
  const again = buildFlow();
  await again.resume(copy);
  await again.waitForCompletion({ jobState: copy });
  assert.equal(copy.status, "completed");
  assert.deepEqual(copy.getSharedData("processed"), [1, 2, 3, 4]);
  // The original stays paused and untouched.
  assert.equal(job.status, "paused");
  assert.deepEqual(job.getSharedData("processed"), [1, 2, 3]);
});
