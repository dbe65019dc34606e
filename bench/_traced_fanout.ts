/**
 * The traced half of the tracing benchmark, run in a child process with
 * Deno's built-in OpenTelemetry on: the same fan-out with `tracing: true`
 * and `tracing: false`, rounds interleaved, the median of each; and the
 * platform's own cost of the same telemetry without the runtime: N spans
 * with the same five attributes started under a parent, then ended, each
 * with the same three metric records. Printed as one JSON line `{ n,
 * rounds, onMs, offMs, spanMs }`.
 *
 * @module
 */
import { context, metrics, type Span, trace } from "npm:@opentelemetry/api@^1";
import { Runner } from "../mod.ts";
import { best, median } from "./_measure.ts";
import { fanOut } from "./_fanout.ts";

const N = Number(Deno.args[0] ?? 10_000);
const ROUNDS = Number(Deno.args[1] ?? 5);
const gc = (globalThis as { gc?: () => void }).gc;

async function fan(tracing: boolean): Promise<void> {
  await using runner = new Runner({ loggingSetting: "NONE", tracing });
  await runner.run(fanOut, N);
}

const meter = metrics.getMeter("bench");
const started = meter.createCounter("bench.started");
const finished = meter.createCounter("bench.finished");
const duration = meter.createHistogram("bench.duration");

function bareSpans(): Promise<void> {
  const tracer = trace.getTracer("bench");
  const parent = tracer.startSpan("parent");
  const parentContext = trace.setSpan(context.active(), parent);
  const spans: Span[] = new Array(N);
  for (let i = 0; i < N; i++) {
    const attributes = {
      "switchyard.request_id": crypto.randomUUID(),
      "switchyard.node_type": "async",
      "switchyard.mode": "async",
      "switchyard.attempt": 1,
      "switchyard.run_id": "bench",
    };
    spans[i] = tracer.startSpan("noop", { attributes }, parentContext);
    started.add(1, { "switchyard.node": "noop" });
  }
  for (const span of spans) {
    span.setAttribute("switchyard.status", "Completed");
    const attributes = { "switchyard.node": "noop", "switchyard.status": "Completed" };
    finished.add(1, attributes);
    duration.record(1, attributes);
    span.end();
  }
  parent.end();
  return Promise.resolve();
}

await fan(true); // warm up
await fan(false);
const on: number[] = [], off: number[] = [], bare: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  gc?.();
  off.push(await best(() => fan(false), 1));
  gc?.();
  on.push(await best(() => fan(true), 1));
  gc?.();
  bare.push(await best(bareSpans, 1));
}
console.log(
  JSON.stringify({
    n: N,
    rounds: ROUNDS,
    onMs: median(on),
    offMs: median(off),
    spanMs: median(bare),
  }),
);
