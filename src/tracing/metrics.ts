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

/** What a worker pool reports to the pool gauges. */
export interface WorkerPoolGauge {
  /** Live workers. */
  readonly workerCount: number;
  /** Workers running at least one task. */
  readonly busyCount: number;
  /** Tasks waiting for a worker. */
  readonly queued: number;
}

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

// Invariant: the sources below are the live pools and state queues of this
// process; their owners remove them when they shut down.
const pools = new Set<WorkerPoolGauge>();
const stateQueues = new Set<() => number>();
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
    () => sum((p) => p.workerCount),
  );
  gauge("switchyard.workers.busy", "Workers running a task", () => sum((p) => p.busyCount));
  gauge("switchyard.workers.queued", "Tasks waiting for a worker", () => sum((p) => p.queued));
  gauge("switchyard.states.queued", "States queued and not started", () => {
    let total = 0;
    for (const read of stateQueues) total += read();
    return total;
  });
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

function sum(read: (pool: WorkerPoolGauge) => number): number {
  let total = 0;
  for (const pool of pools) total += read(pool);
  return total;
}

/**
 * Adds a worker pool to the `switchyard.workers.*` gauges (summed over
 * every live pool of the process).
 *
 * @param pool The pool.
 * @returns A function that removes it again (call it when the pool shuts down).
 *
 * @example Observing a pool until it shuts down
 * ```ts
 * import { observeWorkerPool } from "@switchyard/core/engine";
 *
 * const stop = observeWorkerPool({ workerCount: 2, busyCount: 1, queued: 0 });
 * stop();
 * ```
 */
export function observeWorkerPool(pool: WorkerPoolGauge): () => void {
  pools.add(pool);
  return () => pools.delete(pool);
}

/**
 * Adds a state queue to the `switchyard.states.queued` gauge.
 *
 * @param depth Reads how many states are queued.
 * @returns A function that removes it again.
 *
 * @example Observing a queue
 * ```ts
 * import { observeStateQueue } from "@switchyard/core/engine";
 *
 * const queue: string[] = [];
 * const stop = observeStateQueue(() => queue.length);
 * stop();
 * ```
 */
export function observeStateQueue(depth: () => number): () => void {
  stateQueues.add(depth);
  return () => stateQueues.delete(depth);
}
