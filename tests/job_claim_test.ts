import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { JobClaimedError, JobState } from "../mod.ts";
import { buildFlow, savePausedJob } from "./fixtures/claim_flow.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** A resumer process: its pid, its stdout lines, and its stdin to let it finish. */
function resumer(path: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      `${root}deno.json`,
      "-A",
      `${root}tests/fixtures/claim_flow.ts`,
      path,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  return {
    child,
    async next(): Promise<Record<string, unknown>> {
      while (!buffered.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`resumer ${child.pid} ended without a line`);
        buffered += value;
      }
      const at = buffered.indexOf("\n");
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      return JSON.parse(line);
    },
    async finish(): Promise<Deno.CommandStatus> {
      await child.stdin.close().catch(() => {});
      const rest = [];
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        rest.push(value);
      }
      buffered += rest.join("");
      return await child.status;
    },
    rest: () => buffered,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("A job resumed by one process cannot be resumed by another, nor by a loaded copy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-claim-" });
  const path = `${dir}/job.json`;
  try {
    await savePausedJob(path);
    const first = resumer(path);
    const { resumed } = await first.next();
    assert.equal(resumed, first.child.pid);
    assert.ok(await exists(`${path}.lock`));

    const second = resumer(path);
    const refused = await second.next();
    assert.equal((await second.finish()).code, 3);
    assert.equal(refused.error, "JobClaimedError");
    assert.match(String(refused.message), new RegExp(`held by pid ${first.child.pid} on `));

    const copy = await JobState.load(path);
    await assert.rejects(
      () => buildFlow().resume(copy),
      (error: unknown) =>
        error instanceof JobClaimedError && error.holder?.pid === first.child.pid &&
        error.path === `${path}.lock`,
    );
    assert.equal(copy.status, "paused");

    const status = await first.finish();
    assert.equal(status.code, 0);
    assert.deepEqual(JSON.parse(first.rest()), { status: "completed", processed: [1, 2, 3] });
    // Released once the job finished.
    assert.equal(await exists(`${path}.lock`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A lease whose holder process died is taken over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-claim-" });
  const path = `${dir}/job.json`;
  try {
    await savePausedJob(path);
    const holder = resumer(path);
    await holder.next();
    holder.child.kill("SIGKILL");
    await holder.finish();
    const left = JSON.parse(await Deno.readTextFile(`${path}.lock`));
    assert.equal(left.pid, holder.child.pid);

    const job = await JobState.load(path);
    const flow = buildFlow();
    await flow.resume(job);
    await flow.waitForCompletion({ jobState: job });
    assert.equal(job.status, "completed");
    assert.deepEqual(job.getSharedData("processed"), [1, 2, 3]);
    assert.equal(await exists(`${path}.lock`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Two loaded copies in one process: the second resumer waits for a pause", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-claim-" });
  const path = `${dir}/job.json`;
  try {
    await savePausedJob(path);
    const gate = Promise.withResolvers<void>();
    const flow = buildFlow(gate.promise);
    const one = await JobState.load(path);
    const two = await JobState.load(path);
    await flow.resume(one);
    await assert.rejects(() => flow.resume(two), /held by pid \d+ on .* \(this process\)/);
    const pausing = flow.pause(one, { reason: "hand over" });
    gate.resolve();
    await pausing;
    assert.equal(one.status, "paused");
    assert.equal(await exists(`${path}.lock`), false);
    await flow.resume(two);
    await flow.waitForCompletion({ jobState: two });
    assert.equal(two.status, "completed");
    // Resuming the first again after its pause works as well (its own lease was released).
    await flow.resume(one);
    await flow.waitForCompletion({ jobState: one });
    assert.equal(one.status, "completed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Resumers racing for one job: exactly one wins, also when taking over a dead holder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-claim-" });
  const path = `${dir}/job.json`;
  try {
    await savePausedJob(path);
    // Processes starting together.
    const racers = [resumer(path), resumer(path), resumer(path)];
    const first = await Promise.all(racers.map((r) => r.next()));
    const winners = racers.filter((_, i) => first[i].resumed !== undefined);
    assert.equal(winners.length, 1, JSON.stringify(first));
    assert.ok(
      first.every((line) => line.resumed !== undefined || line.error === "JobClaimedError"),
    );
    const statuses = await Promise.all(racers.map((r) => r.finish()));
    assert.deepEqual(statuses.map((s) => s.code).sort(), [0, 3, 3]);
    assert.equal(await exists(`${path}.lock`), false);

    // Copies in one process, first with a free lease, then over a dead holder's.
    for (const dead of [false, true]) {
      if (dead) {
        const gone = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" })
          .spawn();
        await gone.status;
        await Deno.writeTextFile(
          `${path}.lock`,
          JSON.stringify({
            jobId: "x",
            pid: gone.pid,
            hostname: (await import("node:os")).hostname(),
            claimedAt: 0,
            token: "dead",
          }),
        );
      }
      const gate = Promise.withResolvers<void>();
      const flow = buildFlow(gate.promise);
      const copies = await Promise.all(Array.from({ length: 12 }, () => JobState.load(path)));
      const results = await Promise.allSettled(copies.map((copy) => flow.resume(copy)));
      const won = results.filter((r) => r.status === "fulfilled");
      assert.equal(won.length, 1, `dead holder: ${dead}`);
      for (const r of results) {
        if (r.status === "rejected") {
          assert.ok(r.reason instanceof JobClaimedError, String(r.reason));
        }
      }
      gate.resolve();
      await flow.waitForCompletion();
      assert.equal(await exists(`${path}.lock`), false);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
