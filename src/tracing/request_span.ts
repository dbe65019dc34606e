/**
 * A span per request, nested as the request tree, with the runtime's
 * attributes, an exception event on failure and a status and event on
 * cancellation and timeout; plus the request metrics. The runtime starts
 * one {@linkcode RequestSpan} per request of a traced run and ends it when
 * the request ends; with no tracer or meter provider registered, a run is
 * not traced and costs one check when it starts.
 *
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ProxyTracerProvider,
  type Span,
  SpanStatusCode,
  trace,
  type Tracer,
} from "npm:@opentelemetry/api@^1";
import { describeValue } from "../core/describe.ts";
import type { TaskTrace } from "../execution/task.ts";
import { GlobalTimeoutError, NodeTimeoutError } from "../core/errors.ts";
import { INSTRUMENTATION_SCOPE, type RequestInstruments, requestInstruments } from "./metrics.ts";

/** How a request ended, as the runtime records it. */
export type RequestEnd = "Completed" | "Failed" | "Cancelled";

/** What a span is made from: the request being created. */
export interface TracedRequest {
  /** The request's id. */
  readonly requestId: string;
  /** The node's name: the span's name. */
  readonly nodeName: string;
}

/**
 * The attribute names the runtime sets on its spans.
 *
 * @example Reading a span's request id
 * ```ts
 * import { ATTRIBUTES } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ATTRIBUTES.requestId, "switchyard.request_id");
 * ```
 */
export const ATTRIBUTES = {
  requestId: "switchyard.request_id",
  parentId: "switchyard.parent_id",
  nodeType: "switchyard.node_type",
  mode: "switchyard.mode",
  attempt: "switchyard.attempt",
  runId: "switchyard.run_id",
  workerId: "switchyard.worker_id",
  node: "switchyard.node",
  status: "switchyard.status",
} as const;

const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether a tracer provider other than the API's no-op one is registered
 * (Deno's built-in one with `OTEL_DENO=true`, or an SDK's).
 *
 * @returns `true` when spans would be recorded somewhere.
 *
 * @example Without a provider
 * ```ts
 * import { hasTracerProvider } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * assert.equal(hasTracerProvider(), Deno.env.get("OTEL_DENO") === "true");
 * ```
 */
export function hasTracerProvider(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) ||
    provider.getDelegate() !== NOOP_TRACER_PROVIDER;
}

/**
 * Starts the spans of one runtime's requests. A top-level request is traced
 * when a tracer or meter provider is registered (checked once per run, at
 * its creation); a child is traced exactly when its parent is.
 *
 * @example A runtime's tracing, with no provider registered
 * ```ts
 * import { RequestTracing } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const tracing = new RequestTracing("run-1");
 * const span = tracing.start({ requestId: "r1", nodeName: "double" }, undefined, null, "async", "async");
 * assert.equal(span, undefined); // nothing registered: the run is not traced
 * ```
 */
export class RequestTracing {
  readonly #runId: string;
  // The tracer of the provider it was taken from: taken again when another
  // provider is registered.
  #tracer: { provider: unknown; tracer: Tracer } | null = null;

  /**
   * Makes the tracing of one runtime.
   *
   * @param runId The run id recorded on every span (`switchyard.run_id`).
   */
  constructor(runId: string) {
    this.#runId = runId;
  }

  /**
   * Starts a request's span (and counts it). A top-level request's span is
   * a child of the span active now: the caller's.
   *
   * @param request The request.
   * @param parent The parent request's span; `undefined` for a top-level request.
   * @param parentId The parent request's id, `null` at top level.
   * @param nodeType The node type recorded for it.
   * @param mode The execution mode it runs in.
   * @param attempt Its attempt number (default 1).
   * @returns Its span, or `undefined` when its run is not traced (or the
   *   provider failed: tracing never fails a request).
   */
  start(
    request: TracedRequest,
    parent: RequestSpan | undefined,
    parentId: string | null,
    nodeType: string,
    mode: string,
    attempt = 1,
  ): RequestSpan | undefined {
    try {
      return this.#start(request, parent, parentId, nodeType, mode, attempt);
    } catch {
      return undefined;
    }
  }

  #start(
    request: TracedRequest,
    parent: RequestSpan | undefined,
    parentId: string | null,
    nodeType: string,
    mode: string,
    attempt: number,
  ): RequestSpan | undefined {
    let tracer: Tracer | undefined;
    let instruments: RequestInstruments | undefined;
    let parentContext: Context;
    if (parent === undefined) {
      tracer = this.#currentTracer();
      instruments = requestInstruments();
      if (tracer === undefined && instruments === undefined) return undefined;
      parentContext = context.active();
    } else {
      const traced = parent as TracedSpan;
      tracer = traced.tracer;
      instruments = traced.instruments;
      parentContext = traced.context;
    }
    let span: Span | undefined;
    if (tracer !== undefined) {
      const attributes: Attributes = {
        [ATTRIBUTES.requestId]: request.requestId,
        [ATTRIBUTES.nodeType]: nodeType,
        [ATTRIBUTES.mode]: mode,
        [ATTRIBUTES.attempt]: attempt,
        [ATTRIBUTES.runId]: this.#runId,
      };
      if (parentId !== null) attributes[ATTRIBUTES.parentId] = parentId;
      span = tracer.startSpan(request.nodeName, { attributes }, parentContext);
    }
    instruments?.started.add(1, { [ATTRIBUTES.node]: request.nodeName });
    return new TracedSpan(request.nodeName, span, tracer, instruments, parentContext, attempt);
  }

  #currentTracer(): Tracer | undefined {
    if (!hasTracerProvider()) return undefined;
    const provider = trace.getTracerProvider();
    if (this.#tracer?.provider !== provider) {
      this.#tracer = { provider, tracer: provider.getTracer(INSTRUMENTATION_SCOPE) };
    }
    return this.#tracer.tracer;
  }
}

/**
 * The span of one request (made by {@linkcode RequestTracing.start}): node
 * code runs with it active, the runtime ends it with the request's outcome,
 * and its context travels with the task to workers and other processes.
 */
export interface RequestSpan extends TaskTrace {
  /**
   * Calls a function with this span active, so spans made inside nest under
   * it and log lines written inside carry its ids.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @returns What it returns.
   */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R;
  /**
   * Records that the request runs on a worker, and returns its trace
   * context to send along with the task.
   *
   * @param workerId The worker's id in its pool.
   * @returns The W3C trace context headers (`traceparent`, …).
   */
  toWorker(workerId: number): Record<string, string>;
  /**
   * Writes this span's trace context into a carrier, with the registered
   * propagator (W3C `traceparent` by default).
   *
   * @param carrier The object to write the headers into.
   * @returns `carrier`.
   */
  inject(carrier: Record<string, string>): Record<string, string>;
  /**
   * Records a failed attempt that is tried again: a `switchyard.retry`
   * event, and `switchyard.attempt` counts up.
   *
   * @param error Why the attempt failed.
   */
  retry(error: unknown): void;
  /**
   * Ends the span with the request's outcome: a failure records an
   * exception event and an error status; a cancellation an error status
   * and a `switchyard.cancelled` event; a timeout (of the node or the
   * run) also a `switchyard.timeout` event. Later calls do nothing.
   *
   * @param status How the request ended.
   * @param output Its result or error.
   */
  end(status: RequestEnd, output: unknown): void;
}

/** The one implementation of {@linkcode RequestSpan}. */
class TracedSpan implements RequestSpan {
  // The span, undefined when only metrics are recorded.
  readonly span: Span | undefined;
  // The tracer and metrics its children use.
  readonly tracer: Tracer | undefined;
  readonly instruments: RequestInstruments | undefined;
  // The context with this span active: node code runs in it.
  readonly context: Context;
  readonly #name: string;
  readonly #started: number = performance.now();
  // Invariant: #ended turns true once, when end() records the outcome.
  #ended = false;
  // The attempt running now: the request's first, plus one per retry().
  #attempt: number;

  constructor(
    name: string,
    span: Span | undefined,
    tracer: Tracer | undefined,
    instruments: RequestInstruments | undefined,
    parentContext: Context,
    attempt: number,
  ) {
    this.#name = name;
    this.#attempt = attempt;
    this.span = span;
    this.tracer = tracer;
    this.instruments = instruments;
    this.context = span === undefined ? parentContext : trace.setSpan(parentContext, span);
  }

  /**
   * Calls a function with this span active, so spans made inside nest under
   * it and log lines written inside carry its ids.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @returns What it returns.
   */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    if (this.span === undefined) return fn(...args);
    return context.with(this.context, fn, undefined, ...args);
  }

  /**
   * Records that the request runs on a worker, and returns its trace
   * context to send along with the task.
   *
   * @param workerId The worker's id in its pool.
   * @returns The W3C trace context headers (`traceparent`, …).
   */
  toWorker(workerId: number): Record<string, string> {
    this.span?.setAttribute(ATTRIBUTES.workerId, workerId);
    return this.inject({});
  }

  /**
   * Writes this span's trace context into a carrier, with the registered
   * propagator (W3C `traceparent` by default).
   *
   * @param carrier The object to write the headers into.
   * @returns `carrier`.
   */
  inject(carrier: Record<string, string>): Record<string, string> {
    if (this.span !== undefined) propagation.inject(this.context, carrier);
    return carrier;
  }

  retry(error: unknown): void {
    if (this.span === undefined || this.#ended) return;
    this.#attempt++;
    this.span.addEvent("switchyard.retry", {
      [ATTRIBUTES.attempt]: this.#attempt,
      "exception.message": messageOf(error),
    });
    this.span.setAttribute(ATTRIBUTES.attempt, this.#attempt);
  }

  /**
   * Ends the span with the request's outcome: a failure records an
   * exception event and an error status; a cancellation an error status
   * and a `switchyard.cancelled` event; a timeout (of the node or the
   * run) also a `switchyard.timeout` event. Later calls do nothing.
   *
   * @param status How the request ended.
   * @param output Its result or error.
   */
  end(status: RequestEnd, output: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      this.#end(status, output);
    } catch {
      // A provider that throws must not fail the request being recorded.
    }
  }

  #end(status: RequestEnd, output: unknown): void {
    const instruments = this.instruments;
    if (instruments !== undefined) {
      const attributes = { [ATTRIBUTES.node]: this.#name, [ATTRIBUTES.status]: status };
      instruments.finished.add(1, attributes);
      instruments.duration.record(performance.now() - this.#started, attributes);
    }
    const span = this.span;
    if (span === undefined) return;
    span.setAttribute(ATTRIBUTES.status, status);
    if (status === "Failed") {
      span.recordException(asException(output));
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(output) });
      if (output instanceof NodeTimeoutError) timeoutEvent(span, output);
    } else if (status === "Cancelled") {
      const reason = output instanceof Error && output.cause !== undefined ? output.cause : output;
      span.addEvent("switchyard.cancelled", { "switchyard.reason": messageOf(reason) });
      if (reason instanceof GlobalTimeoutError || reason instanceof NodeTimeoutError) {
        timeoutEvent(span, reason);
      }
      span.setStatus({ code: SpanStatusCode.ERROR, message: `Cancelled: ${messageOf(reason)}` });
    }
    span.end();
  }
}

function timeoutEvent(span: Span, error: Error): void {
  span.addEvent("switchyard.timeout", { "switchyard.reason": error.message });
}

function messageOf(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}` : describeValue(value, 200);
}

function asException(value: unknown): Error | string {
  return value instanceof Error ? value : describeValue(value, 200);
}
