/**
 * Tracing through providers an application registers itself (as an SDK
 * does): an in-memory tracer provider, a context manager on
 * AsyncLocalStorage and an in-memory meter provider, all written against
 * the public `@opentelemetry/api` interfaces.
 */
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Attributes,
  type Context,
  context,
  type ContextManager,
  createNoopMeter,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableCallback,
  type ObservableResult,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanStatus,
  trace,
  type Tracer,
  type TracerProvider,
} from "npm:@opentelemetry/api@^1";
import {
  call,
  ErrorHandler,
  Flow,
  GlobalTimeoutError,
  node,
  Runner,
  State,
  StateManager,
} from "../mod.ts";
import { Probe } from "./fixtures/flow_routines.ts";

/** A span kept in memory. */
class MemorySpan implements Span {
  readonly attributes: Attributes = {};
  readonly events: { name: string; attributes?: Attributes }[] = [];
  status: SpanStatus = { code: 0 };
  ended = false;
  readonly #context: SpanContext;
  constructor(readonly name: string, readonly parentId: string | undefined, traceId: string) {
    this.#context = {
      traceId,
      spanId: crypto.randomUUID().replaceAll("-", "").slice(0, 16),
      traceFlags: 1,
    };
  }
  spanContext(): SpanContext {
    return this.#context;
  }
  setAttribute(key: string, value: unknown): this {
    this.attributes[key] = value as string;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.attributes, attributes);
    return this;
  }
  addEvent(name: string, attributes?: Attributes): this {
    this.events.push({ name, attributes });
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {
    this.ended = true;
  }
  isRecording(): boolean {
    return !this.ended;
  }
  recordException(exception: unknown): void {
    const error = exception as Error;
    this.events.push({
      name: "exception",
      attributes: { "exception.type": error.name, "exception.message": error.message },
    });
  }
}

/** Tracer and provider keeping every span. */
class MemoryTracer implements Tracer, TracerProvider {
  readonly spans: MemorySpan[] = [];
  getTracer(): Tracer {
    return this;
  }
  startSpan(name: string, options?: { attributes?: Attributes }, ctx?: Context): Span {
    const parent = trace.getSpan(ctx ?? context.active())?.spanContext();
    const span = new MemorySpan(
      name,
      parent?.spanId,
      parent?.traceId ?? crypto.randomUUID().replaceAll("-", ""),
    );
    if (options?.attributes) span.setAttributes(options.attributes);
    this.spans.push(span);
    return span;
  }
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...rest: unknown[]
  ): ReturnType<F> {
    const fn = rest.at(-1) as F;
    const span = this.startSpan(name);
    return context.with(trace.setSpan(context.active(), span), () => fn(span)) as ReturnType<F>;
  }
  byName(name: string): MemorySpan[] {
    return this.spans.filter((s) => s.name === name);
  }
}

/** A context manager on AsyncLocalStorage, as an SDK's. */
class StorageContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

/** A meter that keeps its observable gauges' callbacks (other instruments are no-ops). */
class GaugeMeter implements Meter {
  readonly #noop = createNoopMeter();
  constructor(readonly callbacks: Map<string, ObservableCallback>) {}
  createGauge: Meter["createGauge"] = (...args) => this.#noop.createGauge(...args);
  createHistogram: Meter["createHistogram"] = (...args) => this.#noop.createHistogram(...args);
  createCounter: Meter["createCounter"] = (...args) => this.#noop.createCounter(...args);
  createUpDownCounter: Meter["createUpDownCounter"] = (...args) =>
    this.#noop.createUpDownCounter(...args);
  createObservableCounter: Meter["createObservableCounter"] = (...args) =>
    this.#noop.createObservableCounter(...args);
  createObservableUpDownCounter: Meter["createObservableUpDownCounter"] = (...args) =>
    this.#noop.createObservableUpDownCounter(...args);
  addBatchObservableCallback: Meter["addBatchObservableCallback"] = () => {};
  removeBatchObservableCallback: Meter["removeBatchObservableCallback"] = () => {};
  createObservableGauge: Meter["createObservableGauge"] = (name) => {
    const gauge = this.#noop.createObservableGauge(name);
    gauge.addCallback = (callback) => this.callbacks.set(name, callback);
    return gauge;
  };
}

/** A meter provider whose gauges can be read on demand. */
class GaugeMeterProvider implements MeterProvider {
  readonly callbacks = new Map<string, ObservableCallback>();
  getMeter(): Meter {
    return new GaugeMeter(this.callbacks);
  }
  read(name: string): number {
    let value = NaN;
    const result = { observe: (v: number) => value = v } as ObservableResult;
    this.callbacks.get(name)?.(result);
    return value;
  }
}

/** Registers the providers for one test, and removes them after. */
async function withProviders(
  body: (tracer: MemoryTracer, meters: GaugeMeterProvider) => Promise<void>,
): Promise<void> {
  const tracer = new MemoryTracer();
  const meters = new GaugeMeterProvider();
  context.setGlobalContextManager(new StorageContextManager());
  trace.setGlobalTracerProvider(tracer);
  metrics.setGlobalMeterProvider(meters);
  try {
    await body(tracer, meters);
  } finally {
    trace.disable();
    context.disable();
    metrics.disable();
  }
}

Deno.test("With an application's tracer provider, spans nest as the requests and user spans as the nodes", async () => {
  await withProviders(async (tracer) => {
    const leaf = node(async (x: number) => {
      trace.getTracer("app").startActiveSpan("user-work", (span) => span.end());
      return x + 1;
    }, { name: "leaf" });
    const root = node(async () => Promise.all([call(leaf, 1), call(leaf, 2)]), { name: "root" });
    await using runner = new Runner({ loggingSetting: "NONE", runIdentifier: "sdk-run" });
    const outer = tracer.startSpan("outer");
    await context.with(trace.setSpan(context.active(), outer), () => runner.run(root));

    const [rootSpan] = tracer.byName("root");
    assert.equal(rootSpan.parentId, outer.spanContext().spanId);
    assert.equal(rootSpan.attributes["switchyard.run_id"], "sdk-run");
    const leaves = tracer.byName("leaf");
    assert.equal(leaves.length, 2);
    for (const span of leaves) {
      assert.equal(span.parentId, rootSpan.spanContext().spanId);
      assert.equal(
        span.attributes["switchyard.parent_id"],
        rootSpan.attributes["switchyard.request_id"],
      );
      assert.ok(span.ended);
    }
    const users = tracer.byName("user-work");
    assert.deepEqual(
      users.map((u) => u.parentId).sort(),
      leaves.map((l) => l.spanContext().spanId).sort(),
    );
  });
});

Deno.test("Retries, node timeouts and run timeouts show on the spans", async () => {
  await withProviders(async (tracer) => {
    let tries = 0;
    const flaky = node(async () => {
      if (++tries === 1) throw new Error("first try fails");
      return tries;
    }, { name: "flaky", retries: 2 });
    const slow = node(() => new Promise(() => {}), { name: "slow", timeout: 20 });
    const root = node(async () => {
      await call(flaky);
      await call(slow).catch(() => {});
    }, { name: "root" });
    await using runner = new Runner({ loggingSetting: "NONE" });
    await runner.run(root);

    const [flakySpan] = tracer.byName("flaky");
    assert.equal(flakySpan.attributes["switchyard.attempt"], 2);
    assert.deepEqual(flakySpan.events.map((e) => e.name), ["switchyard.retry"]);
    assert.equal(flakySpan.status.code, 0);
    const [slowSpan] = tracer.byName("slow");
    assert.equal(slowSpan.status.code, 2);
    assert.deepEqual(slowSpan.events.map((e) => e.name), ["exception", "switchyard.timeout"]);

    await using timed = new Runner({ loggingSetting: "NONE", timeout: 20 });
    const hang = node(() => new Promise(() => {}), { name: "hang" });
    await assert.rejects(timed.run(hang), GlobalTimeoutError);
    const [hangSpan] = tracer.byName("hang");
    assert.equal(hangSpan.attributes["switchyard.status"], "Cancelled");
    assert.deepEqual(hangSpan.events.map((e) => e.name), [
      "switchyard.cancelled",
      "switchyard.timeout",
    ]);
  });
});

Deno.test("tracing: false makes no span even with a provider registered", async () => {
  await withProviders(async (tracer) => {
    await using runner = new Runner({ loggingSetting: "NONE", tracing: false });
    await runner.run(node(async () => 1, { name: "quiet" }));
    assert.equal(tracer.spans.length, 0);
  });
});

Deno.test("The state queue gauge reads the StateManager's queue", async () => {
  await withProviders(async (_tracer, meters) => {
    // A run makes the instruments on the registered provider.
    await using runner = new Runner({ loggingSetting: "NONE" });
    await runner.run(node(async () => 1, { name: "one" }));
    await StateManager.reset();
    const manager = StateManager.instance({ loggingSetting: "NONE" });
    try {
      await manager.putStates([new State("a", () => 1), new State("b", () => 2)]);
      assert.equal(meters.read("switchyard.states.queued"), 2);
      assert.equal(meters.read("switchyard.workers.size"), 0);
    } finally {
      await StateManager.reset();
    }
    assert.equal(meters.read("switchyard.states.queued"), 0);
  });
});

Deno.test("A flow's retried activation records its attempt on its span", async () => {
  await withProviders(async (tracer) => {
    let attempts = 0;
    const probe = new Probe(() => {
      if (++attempts === 1) throw new RangeError("first try fails");
    });
    probe.setErrorHandler(new ErrorHandler({ strategy: "retry", maxRetries: 2, retryDelay: 1 }));
    const flow = new Flow({ flowId: "traced-retry" });
    flow.addRoutine(probe, "probe");
    const job = await flow.execute("probe");
    await flow.waitForCompletion({ jobState: job });
    assert.equal(job.status, "completed");
    const spans = tracer.byName("probe.trigger");
    assert.deepEqual(spans.map((s) => s.attributes["switchyard.attempt"]), [1, 2]);
    assert.deepEqual(spans.map((s) => s.attributes["switchyard.status"]), ["Failed", "Completed"]);
  });
});
