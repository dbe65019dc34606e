/**
 * What tracing costs. Without a tracer provider (the default): the core
 * fan-out with `tracing: true` (one provider check per run, then nothing)
 * against `tracing: false` (the path with no tracing at all), rounds
 * interleaved in the same run; target ≤ 3%. With Deno's built-in
 * OpenTelemetry on (a child process exporting OTLP/HTTP JSON to a loopback
 * receiver here): the cost per traced request.
 *
 * @module
 */
import { call, node, Runner } from "../mod.ts";
import { best } from "./_measure.ts";

const N = 100_000;
const TRACED_N = 10_000;
const ROUNDS = 7;
const gc = (globalThis as { gc?: () => void }).gc;

const child = node(async () => {}, { name: "noop" });
const fanOut = node(async (n: number) => {
  const calls = new Array(n);
  for (let i = 0; i < n; i++) calls[i] = call(child);
  await Promise.all(calls);
}, { name: "fanOut" });

async function fan(tracing: boolean): Promise<void> {
  await using runner = new Runner({ loggingSetting: "NONE", tracing });
  await runner.run(fanOut, N);
}

// No provider registered: the option on (checked, skipped) against off.
await fan(true); // warm up
await fan(false);
let onMs = Infinity, offMs = Infinity;
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so neither always inherits the other's garbage.
  const order = round % 2 === 0 ? [false, true] : [true, false];
  for (const tracing of order) {
    gc?.();
    const ms = await best(() => fan(tracing), 1);
    if (tracing) onMs = Math.min(onMs, ms);
    else offMs = Math.min(offMs, ms);
  }
}

// Provider registered: Deno's exporter in a child process, sending to us.
// Bodies are only kept while the child measures, and read after it ends,
// so the receiver takes as little CPU from it as it can.
const bodies: Uint8Array[] = [];
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  if (new URL(req.url).pathname === "/v1/traces") bodies.push(await req.bytes());
  else await req.body?.cancel();
  return Response.json({});
});
const output = await new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    new URL("./_traced_fanout.ts", import.meta.url).pathname,
    String(TRACED_N),
    "5",
  ],
  env: {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  },
  stdout: "piped",
  stderr: "inherit",
}).output();
await server.shutdown();
let spans = 0;
for (const body of bodies) {
  const { resourceSpans } = JSON.parse(new TextDecoder().decode(body));
  for (const rs of resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      if (ss.scope?.name === "switchyard") spans += ss.spans?.length ?? 0;
    }
  }
}
const traced = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);

const us = (ms: number, n: number) => (ms * 1000 / n).toFixed(2);
console.log(`fan-out of ${N} no-op children, no tracer provider, best of ${ROUNDS}`);
console.log("| tracing option            | total ms | µs per call | time ÷ off time |");
console.log("| ------------------------- | -------- | ----------- | --------------- |");
console.log(`| false (no tracing path)   | ${offMs.toFixed(1)} | ${us(offMs, N)} | 1.00× |`);
console.log(
  `| true (default, no provider) | ${onMs.toFixed(1)} | ${us(onMs, N)} | ${
    (onMs / offMs).toFixed(3)
  }× (target ≤ 1.03×) |`,
);
console.log(
  `\nfan-out of ${traced.n} with OTEL_DENO=true (OTLP/HTTP JSON to loopback), best of ${traced.rounds}`,
);
console.log("| tracing option | total ms | µs per call |");
console.log("| -------------- | -------- | ----------- |");
console.log(`| false          | ${traced.offMs.toFixed(1)} | ${us(traced.offMs, traced.n)} |`);
console.log(`| true           | ${traced.onMs.toFixed(1)} | ${us(traced.onMs, traced.n)} |`);
console.log(
  `| platform alone (same spans and metric records, no runtime) | ${traced.spanMs.toFixed(1)} | ${
    us(traced.spanMs, traced.n)
  } |`,
);
const perRequest = (traced.onMs - traced.offMs) * 1000 / traced.n;
console.log(
  `cost per traced request: ${perRequest.toFixed(2)} µs (span, context, metrics) = ${
    (perRequest / (traced.spanMs * 1000 / traced.n)).toFixed(2)
  }× the platform alone; runtime spans received: ${spans} of ${
    traced.n * (traced.rounds + 1) + traced.rounds + 1
  } (Deno's exporter drops what overflows its queue)`,
);
