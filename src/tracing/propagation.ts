/**
 * Trace context across boundaries the runtime does not carry itself (other
 * processes, queues): write the current span's W3C headers into a carrier
 * on one side, run code under them on the other.
 *
 * @module
 */
import { context, propagation } from "npm:@opentelemetry/api@^1";
import type { TaskTrace } from "../execution/task.ts";

/** Reads `carrier[key]` for the propagator. */
const getter = {
  get: (carrier: Record<string, string>, key: string) => carrier[key],
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
};

/**
 * Runs a function in the trace context a carrier holds (as written by
 * `RequestSpan.inject` on the other side of a process or queue
 * boundary), so the spans it starts nest under the sender's span.
 *
 * @param carrier The headers (`traceparent`, …); `undefined` runs `fn` as is.
 * @param fn The function.
 * @returns What `fn` returns.
 *
 * @example Nesting under a span sent from elsewhere
 * ```ts
 * import { withTraceContext } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const carrier = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
 * assert.equal(withTraceContext(carrier, () => 42), 42);
 * ```
 */
export function withTraceContext<R>(
  carrier: Record<string, string> | undefined,
  fn: () => R,
): R {
  if (carrier === undefined) return fn();
  return context.with(propagation.extract(context.active(), carrier, getter), fn);
}

/**
 * Writes the trace context of the running span (or a request's) into a
 * carrier, for work that continues in another process or queue.
 *
 * @param carrier The object to write into (default: a new one).
 * @param span A request's span; by default the span active now.
 * @returns `carrier`, with `traceparent` (and `tracestate`) when a span is active.
 *
 * @example Nothing to write outside any span
 * ```ts
 * import { injectTraceContext } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(injectTraceContext(), {});
 * ```
 */
export function injectTraceContext(
  carrier: Record<string, string> = {},
  span?: TaskTrace,
): Record<string, string> {
  if (span !== undefined) return span.inject(carrier);
  propagation.inject(context.active(), carrier);
  return carrier;
}
