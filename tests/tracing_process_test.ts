/**
 * OpenTelemetry across process isolation: a workflow whose worker nodes run
 * in child `deno` processes runs in a subprocess with Deno's built-in
 * exporter (`OTEL_DENO=true`) pointed at a receiver in this test. The spans
 * the node code makes in a child nest under the node's span, and the pool
 * shuts down even when the collector never answers.
 */
import assert from "node:assert/strict";
import { attribute, type OtlpSpan, startReceiver } from "./helpers/otlp.ts";

const fixture = new URL("./fixtures/traced_process.ts", import.meta.url).pathname;
const config = new URL("../deno.json", import.meta.url).pathname;

interface Row {
  id: string;
  parent: string | null;
  name: string;
  status: string;
}

/** Starts the fixture against a receiver's environment. */
function startFixture(env: Record<string, string>, calls: number): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-worker-options",
      "--config",
      config,
      fixture,
      "--calls",
      String(calls),
    ],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** The first line of a stream that matches, once it is complete; reading goes on after. */
async function lineOf(
  stream: ReadableStream<Uint8Array>,
  match: RegExp,
): Promise<string | undefined> {
  let text = "";
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) return undefined;
    text += value;
    const line = text.split("\n").slice(0, -1).find((l) => match.test(l));
    if (line !== undefined) {
      (async () => {
        while (!(await reader.read()).done);
      })();
      return line;
    }
  }
}

Deno.test("Spans made by node code in a child process nest under the node's span", async () => {
  const calls = 40;
  await using receiver = startReceiver();
  const child = startFixture(receiver.env, calls);
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const rows: Row[] = JSON.parse(
    new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!,
  );

  // One span per request, with the request tree's parents.
  const ours = receiver.spans.filter((s) => s.scope === "switchyard");
  const byRequest = new Map<unknown, OtlpSpan>(
    ours.map((s) => [attribute(s.attributes, "switchyard.request_id"), s]),
  );
  assert.equal(rows.length, 1 + 2 * calls);
  assert.equal(ours.length, rows.length);
  for (const row of rows) {
    const span = byRequest.get(row.id);
    assert.ok(span, `no span for request ${row.name} (${row.id})`);
    assert.equal(span.name, row.name);
    if (row.parent !== null) assert.equal(span.parentSpanId, byRequest.get(row.parent)!.spanId);
  }
  const isolated = ours.filter((s) => s.name === "isolated");
  assert.equal(isolated.length, calls);
  for (const span of isolated) {
    assert.equal(attribute(span.attributes, "switchyard.mode"), "worker");
    assert.equal(typeof attribute(span.attributes, "switchyard.worker_id"), "number");
  }

  // Every child's user span arrived (the children flushed as they exited),
  // each under the span of the request it ran for.
  const userSpans = receiver.spans.filter((s) => s.name === "process-work");
  assert.equal(userSpans.length, calls);
  const isolatedIds = new Set(isolated.map((s) => s.spanId));
  const parents = new Set(userSpans.map((s) => s.parentSpanId));
  assert.deepEqual([...parents].sort(), [...isolatedIds].sort());
  const handler = receiver.spans.find((s) => s.name === "handler")!;
  assert.ok(userSpans.every((s) => s.traceId === handler.traceId));
  // Which request a user span ran for: its `fixture.n` argument, doubled and
  // incremented by the call back to the parent, whose span is its sibling.
  for (const user of userSpans) {
    const increment = ours.find((s) =>
      s.name === "increment" && s.parentSpanId === user.parentSpanId
    );
    assert.ok(increment, "the call back to the parent nests under the same node span");
  }
});

Deno.test("A pool whose children cannot flush their telemetry still shuts down", async () => {
  // The collector takes every export and never answers: a child's exit
  // flush waits for its exporter's own timeout, so the pool must end it.
  await using receiver = startReceiver({ hang: true });
  const child = startFixture(receiver.env, 4);
  const stderr = new Response(child.stderr).text();
  try {
    const line = await lineOf(child.stdout, /^\[/);
    if (line === undefined) {
      assert.fail(`the fixture ended before its runner shut down: ${await stderr}`);
    }
    const rows: Row[] = JSON.parse(line);
    assert.equal(rows.length, 1 + 2 * 4);
    assert.ok(rows.every((r) => r.status === "Completed"));
  } finally {
    // Its own exit flush would wait for the exporter too: not part of the test.
    child.kill("SIGKILL");
    await child.status;
  }
  assert.match(await stderr, /Child process #\d+ \(pid \d+\) did not exit within 2000 ms/);
});
