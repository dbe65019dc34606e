/**
 * OpenTelemetry: a workflow runs in a child process with Deno's built-in
 * exporter (`OTEL_DENO=true`) pointed at an OTLP/HTTP JSON receiver in this
 * test, and what arrives must mirror the recorded request tree.
 */
import assert from "node:assert/strict";
import {
  attribute,
  type OtlpAttribute,
  type OtlpLog,
  type OtlpMetric,
  type OtlpSpan,
  startReceiver,
} from "./helpers/otlp.ts";

const fixture = new URL("./fixtures/traced_run.ts", import.meta.url);
const config = new URL("../deno.json", import.meta.url);

interface Row {
  id: string;
  parent: string | null;
  name: string;
  status: string;
}

/** What the receiver got, and the request tree the child printed. */
interface Received {
  spans: OtlpSpan[];
  logs: OtlpLog[];
  metrics: OtlpMetric[];
  rows: Row[];
}

/**
 * The totals of cumulative points exported several times: per attribute
 * set, the largest value.
 */
function totals<P extends { attributes?: OtlpAttribute[] }>(
  points: P[],
  value: (point: P) => number,
): number[] {
  const largest = new Map<string, number>();
  for (const point of points) {
    const key = JSON.stringify(point.attributes ?? []);
    largest.set(key, Math.max(largest.get(key) ?? 0, value(point)));
  }
  return [...largest.values()];
}

function pointValue(point: { asDouble?: number; asInt?: string | number }): number {
  return Number(point.asDouble ?? point.asInt);
}

/**
 * Runs the fixture against a loopback OTLP receiver and collects what
 * arrives. With `hold`, the fixture keeps its worker pool until the
 * receiver has seen the pool gauge report its worker.
 */
async function runTraced(extraArgs: string[], hold: boolean): Promise<Received> {
  const poolSeen = Promise.withResolvers<void>();
  await using receiver = startReceiver();
  receiver.onMetrics = () => {
    const pool = receiver.metrics.filter((m) => m.name === "switchyard.workers.size");
    if (pool.some((m) => m.gauge?.dataPoints.some((p) => pointValue(p) === 1))) {
      poolSeen.resolve();
    }
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-worker-options",
      "--config",
      config.pathname,
      fixture.pathname,
      ...extraArgs,
      ...(hold ? ["--hold"] : []),
    ],
    env: {
      ...receiver.env,
      // Observable gauges are read at periodic exports only (not the one at exit).
      OTEL_METRIC_EXPORT_INTERVAL: "100",
    },
    stdout: "piped",
    stderr: "piped",
    stdin: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  if (hold) {
    // A guard, not a timing assumption: a broken gauge fails the test
    // instead of leaving the child waiting forever.
    let guard: ReturnType<typeof setTimeout> | undefined;
    const seen = await Promise.race([
      poolSeen.promise.then(() => true),
      new Promise<false>((resolve) => guard = setTimeout(() => resolve(false), 60_000)),
    ]);
    clearTimeout(guard);
    if (!seen) {
      child.kill();
      await writer.close().catch(() => {});
      await child.output();
      assert.fail("the pool gauge never reported the fixture's worker");
    }
    await writer.write(new TextEncoder().encode("done\n"));
  }
  await writer.close();
  const output = await child.output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const last = stdout.trim().split("\n").at(-1)!;
  const rows: Row[] = JSON.parse(last);
  return { spans: receiver.spans, logs: receiver.logs, metrics: receiver.metrics, rows };
}

Deno.test("Every request is one span, nested as the request tree, with logs and metrics", async () => {
  const { spans, logs, metrics, rows } = await runTraced([], true);
  const ours = spans.filter((s) => s.scope === "switchyard");
  const byRequest = new Map(ours.map((s) => [attribute(s.attributes, "switchyard.request_id"), s]));

  // One span per request, named after its node.
  assert.equal(rows.length, 7);
  assert.equal(ours.length, rows.length);
  assert.equal(byRequest.size, rows.length);
  for (const row of rows) {
    const span = byRequest.get(row.id);
    assert.ok(span, `no span for request ${row.name} (${row.id})`);
    assert.equal(span.name, row.name);
    assert.equal(attribute(span.attributes, "switchyard.status"), row.status);
    assert.equal(attribute(span.attributes, "switchyard.attempt"), 1);
    assert.equal(typeof attribute(span.attributes, "switchyard.run_id"), "string");
  }

  // The same parent/child structure as ExecutionInfo, under the caller's span.
  const handler = spans.find((s) => s.name === "handler" && s.scope === "fixture");
  assert.ok(handler, "the fixture's own span was exported");
  for (const row of rows) {
    const span = byRequest.get(row.id)!;
    assert.equal(span.traceId, handler.traceId);
    if (row.parent === null) {
      assert.equal(span.parentSpanId, handler.spanId);
      assert.equal(attribute(span.attributes, "switchyard.parent_id"), undefined);
    } else {
      assert.equal(span.parentSpanId, byRequest.get(row.parent)!.spanId);
      assert.equal(attribute(span.attributes, "switchyard.parent_id"), row.parent);
    }
  }

  // A worker node's own span nests under the node's span.
  const crunch = ours.find((s) => s.name === "crunch")!;
  assert.equal(attribute(crunch.attributes, "switchyard.mode"), "worker");
  assert.equal(attribute(crunch.attributes, "switchyard.worker_id"), 1);
  const inner = spans.find((s) => s.name === "inner-work");
  assert.ok(inner, "the worker's user span was exported");
  assert.equal(inner.parentSpanId, crunch.spanId);
  assert.equal(inner.traceId, crunch.traceId);
  // A call the worker node makes back on the main thread nests under it too.
  const increment = ours.find((s) => s.name === "increment")!;
  assert.equal(increment.parentSpanId, crunch.spanId);

  // A trace context carried across a boundary by hand nests the far side under the node.
  const pipeline = ours.find((s) => s.name === "pipeline")!;
  const remote = spans.find((s) => s.name === "remote-side");
  assert.equal(remote?.parentSpanId, pipeline.spanId);
  assert.equal(remote?.traceId, pipeline.traceId);

  // A failure: error status and an exception event.
  const failing = ours.find((s) => s.name === "failing")!;
  assert.equal(failing.status?.code, 2);
  const exception = failing.events?.find((e) => e.name === "exception");
  assert.ok(exception, "the failure has an exception event");
  assert.equal(attribute(exception.attributes, "exception.type"), "RangeError");
  assert.equal(attribute(exception.attributes, "exception.message"), "broken on purpose");

  // A cancellation: error status and a cancelled event with the reason.
  const hang = ours.find((s) => s.name === "hang")!;
  assert.equal(hang.status?.code, 2);
  assert.match(hang.status?.message ?? "", /^Cancelled: Error: not needed/);
  const cancelled = hang.events?.find((e) => e.name === "switchyard.cancelled");
  assert.equal(attribute(cancelled?.attributes, "switchyard.reason"), "Error: not needed");

  // The runtime's log line about the failure carries the failed request's ids.
  const line = logs.find((l) =>
    /switchyard\.runtime: Request \S+ to failing failed/.test(l.body?.stringValue ?? "")
  );
  assert.ok(line, "the runtime's failure line was exported");
  assert.equal(line.traceId, failing.traceId);
  assert.equal(line.spanId, failing.spanId);
  // Category text stays ASCII, so nothing is mangled on the way.
  assert.ok(logs.every((l) => !(l.body?.stringValue ?? "").includes("\ufffd")));

  // Metrics: requests by node and status, durations, pool gauges.
  const metric = (name: string) => metrics.filter((m) => m.name === name);
  const startedPoints = metric("switchyard.requests.started").flatMap((m) =>
    m.sum?.dataPoints ?? []
  );
  const doubles = startedPoints.find((p) =>
    attribute(p.attributes, "switchyard.node") === "double"
  );
  assert.equal(pointValue(doubles!), 2);
  const finished = metric("switchyard.requests.finished").flatMap((m) => m.sum?.dataPoints ?? []);
  const statuses = new Set(finished.map((p) => attribute(p.attributes, "switchyard.status")));
  assert.deepEqual([...statuses].sort(), ["Cancelled", "Completed", "Failed"]);
  const durations = metric("switchyard.request.duration").flatMap((m) =>
    m.histogram?.dataPoints ?? []
  );
  const counted = totals(durations, (p) => Number(p.count)).reduce((n, c) => n + c, 0);
  assert.equal(counted, rows.length);
  // (the receiver saw the pool gauge report its one worker before the fixture ended)
  assert.ok(metric("switchyard.workers.busy").length > 0, "the busy gauge was exported");
  assert.ok(metric("switchyard.workers.queued").length > 0, "the queue gauge was exported");
});

Deno.test("tracing: false records no spans of the runtime, only the application's", async () => {
  const { spans, metrics, rows } = await runTraced(["--no-tracing"], false);
  assert.equal(rows.length, 7);
  assert.equal(spans.filter((s) => s.scope === "switchyard").length, 0);
  assert.ok(spans.some((s) => s.name === "handler"), "the application's span still goes out");
  assert.equal(metrics.filter((m) => m.name === "switchyard.requests.started").length, 0);
});
