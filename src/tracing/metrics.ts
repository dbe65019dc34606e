/**
 * The runtime's OpenTelemetry metrics: requests started and finished by
 * node and status, request durations, worker pool sizes and the state
 * queue's depth. Instruments are made on the registered meter provider the
 * first time a traced run asks for them; with no provider, nothing is made.
 *
 * @module
 */
import {
  createNoopMeter,
  type Meter,
  type MeterProvider,
  metrics,
} from "npm:@opentelemetry/api@^1";
import { poolTotal, queuedStates, remoteTotal } from "../execution/load_gauges.ts";

/**
 * The instrumentation scope of everything the runtime records.
 *
 * @example Finding the runtime's spans and metrics
 * ```ts
 * import { INSTRUMENTATION_SCOPE } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * assert.equal(INSTRUMENTATION_SCOPE, "switchyard");
 * ```
 */
export const INSTRUMENTATION_SCOPE = "switchyard";

/** A counter, as the runtime uses it. */
export interface CountInstrument {
  /** Adds to the count of one attribute set. */
  add(value: number, attributes?: Record<string, string>): void;
}

/** A histogram, as the runtime uses it. */
export interface RecordInstrument {
  /** Records one value for an attribute set. */
  record(value: number, attributes?: Record<string, string>): void;
}

/** The per-request instruments. */
export interface RequestInstruments {
  /** `switchyard.requests.started`, by `switchyard.node`. */
  readonly started: CountInstrument;
  /** `switchyard.requests.finished`, by `switchyard.node` and `switchyard.status`. */
  readonly finished: CountInstrument;
  /** `switchyard.request.duration` in ms, by `switchyard.node` and `switchyard.status`. */
  readonly duration: RecordInstrument;
}

const NOOP_METER_CLASS = createNoopMeter().constructor;
// The instruments of the provider they were made on: made again only when
// another provider is registered.
let made: { provider: MeterProvider; instruments: RequestInstruments | undefined } | null = null;

/**
 * The per-request instruments of the registered meter provider, made (with
 * the pool and queue gauges) on first use.
 *
 * @returns The instruments, or `undefined` when no meter provider is registered
 *   (or it refused them).
 *
 * @example Without a meter provider there is nothing to record into
 * ```ts
 * import { requestInstruments } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * assert.equal(requestInstruments(), undefined);
 * ```
 */
export function requestInstruments(): RequestInstruments | undefined {
  const provider = metrics.getMeterProvider();
  if (made?.provider === provider) return made.instruments;
  let instruments: RequestInstruments | undefined;
  try {
    const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
    if (meter.constructor === NOOP_METER_CLASS) return undefined;
    instruments = makeInstruments(meter);
  } catch {
    // A provider that refuses the instruments records none: metrics must
    // never fail a run.
    instruments = undefined;
  }
  made = { provider, instruments };
  return instruments;
}

function makeInstruments(meter: Meter): RequestInstruments {
  const gauge = (name: string, description: string, read: () => number) =>
    meter.createObservableGauge(name, { description })
      .addCallback((result) => result.observe(read()));
  gauge(
    "switchyard.workers.size",
    "Live workers in the worker pools",
    () => poolTotal((p) => p.workerCount),
  );
  gauge("switchyard.workers.busy", "Workers running a task", () => poolTotal((p) => p.busyCount));
  gauge(
    "switchyard.workers.queued",
    "Tasks waiting for a worker",
    () => poolTotal((p) => p.queued),
  );
  gauge("switchyard.states.queued", "States queued and not started", queuedStates);
  gauge(
    "switchyard.remote.open",
    "Remote jobs sent and not settled",
    () => remoteTotal((r) => r.openCount),
  );
  gauge(
    "switchyard.remote.waiting",
    "Remote jobs sent that no worker has started",
    () => remoteTotal((r) => r.waitingCount),
  );
  return {
    started: meter.createCounter("switchyard.requests.started", {
      description: "Requests created",
    }),
    finished: meter.createCounter("switchyard.requests.finished", {
      description: "Requests ended (Completed, Failed or Cancelled)",
    }),
    duration: meter.createHistogram("switchyard.request.duration", {
      description: "Time from a request's creation to its end",
      unit: "ms",
    }),
  };
}
