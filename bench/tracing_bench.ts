/**
 * What tracing costs. Without a tracer provider (the default): the core
 * fan-out with `tracing: true` (one provider check when the run session
 * opens, then nothing) against `tracing: false` (the path with no tracing
 * at all), and `tracing: false` again as a control (same code: its ratio is
 * the machine's noise), rounds interleaved in the same run with the order
 * rotated every round, medians of the times and of the per-round ratios;
 * target ≤ 3%. Rounds: the first argument (default 21). With Deno's
 * built-in OpenTelemetry on (a child process exporting OTLP/HTTP JSON to a
 * loopback receiver here): the cost per traced request.
 *
 * @module
 */
import { Runner } from "../mod.ts";
import { best, median } from "./_measure.ts";
import { fanOut } from "./_fanout.ts";

const N = 100_000;
const TRACED_N = 10_000;
// Rounds come from the environment: bench/main.ts passes the names of the benches it runs as arguments.
const ROUNDS = Number(Deno.env.get("TRACING_BENCH_ROUNDS") ?? 21);
const gc = (globalThis as { gc?: () => void }).gc;

async function fan(tracing: boolean): Promise<void> {
  await using runner = new Runner({ loggingSetting: "NONE", tracing });
  await runner.run(fanOut, N);
}

// No provider registered: the option on (checked, skipped) against off.
await fan(true); // warm up
await fan(false);
// Three variants per round, the order rotated every round: `tracing: false`,
// `tracing: true`, and `tracing: false` again — the last is the same code
// as the first, so its ratio shows how far this machine's noise alone moves
// a ratio.
const variants = [false, true, false] as const;
const times: number[][] = [[], [], []];
const ratios: number[] = [], controls: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const took: number[] = [];
  for (let k = 0; k < variants.length; k++) {
    const v = (k + round) % variants.length;
    gc?.();
    // Let the event loop turn, so what the last round left is collectable.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc?.();
    took[v] = await best(() => fan(variants[v]), 1);
  }
  for (let v = 0; v < variants.length; v++) times[v].push(took[v]);
  ratios.push(took[1] / took[0]);
  controls.push(took[2] / took[0]);
}
const offMs = median(times[0]), onMs = median(times[1]), againMs = median(times[2]);
const quartiles = (values: number[]) => {
  const sorted = values.toSorted((a, b) => a - b);
  return `${sorted[Math.floor(values.length / 4)].toFixed(3)}–${
    sorted[Math.floor((3 * values.length) / 4)].toFixed(3)
  }×`;
};

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
    "9",
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
console.log(
  `fan-out of ${N} no-op children, no tracer provider, ${ROUNDS} interleaved rounds, medians`,
);
console.log("| tracing option              | median ms | µs per call |");
console.log("| --------------------------- | --------- | ----------- |");
console.log(`| false (no tracing path)     | ${offMs.toFixed(1)} | ${us(offMs, N)} |`);
console.log(`| true (default, no provider) | ${onMs.toFixed(1)} | ${us(onMs, N)} |`);
console.log(`| false again (control)       | ${againMs.toFixed(1)} | ${us(againMs, N)} |`);
console.log(
  `true ÷ false: median of per-round ratios ${median(ratios).toFixed(3)}× (target ≤ 1.03×), ` +
    `ratio of medians ${(onMs / offMs).toFixed(3)}×, quartiles ${quartiles(ratios)}`,
);
console.log(
  `control, false again ÷ false (same code): median ${median(controls).toFixed(3)}×, ` +
    `quartiles ${quartiles(controls)}`,
);
console.log(
  `\nfan-out of ${traced.n} with OTEL_DENO=true (OTLP/HTTP JSON to loopback), medians of ${traced.rounds} interleaved rounds`,
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
