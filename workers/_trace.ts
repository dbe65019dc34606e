/**
 * Trace context for tasks that run in this worker. The bootstrap imports
 * nothing but relative modules, so it does not load the OpenTelemetry API:
 * it uses the API's global registration (`Symbol.for("opentelemetry.js.api.1")`
 * on `globalThis`), which Deno's built-in OpenTelemetry fills in every worker
 * when `OTEL_DENO=true`, and an SDK fills in when one is set up in the
 * worker. With nothing registered, a task runs as is.
 *
 * @module
 */

/** The parts of the API's global registration used here. */
interface OtelGlobal {
  context?: {
    active(): unknown;
    with<R>(context: unknown, fn: () => R): R;
  };
  propagation?: {
    extract(
      context: unknown,
      carrier: Record<string, string>,
      getter: {
        get(carrier: Record<string, string>, key: string): string | undefined;
        keys(carrier: Record<string, string>): string[];
      },
    ): unknown;
  };
}

const OTEL = Symbol.for("opentelemetry.js.api.1");

const getter = {
  get: (carrier: Record<string, string>, key: string) => carrier[key],
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
};

/**
 * Calls `fn` with the main thread's span (from `carrier`) as the active
 * span, so spans made by the node's code nest under it.
 *
 * @param carrier The W3C trace context headers sent with the task.
 * @param fn The task's code.
 * @returns What `fn` returns.
 */
export function inTraceContext<R>(carrier: Record<string, string>, fn: () => R): R {
  const otel = (globalThis as Record<symbol, OtelGlobal | undefined>)[OTEL];
  const manager = otel?.context;
  const propagator = otel?.propagation;
  if (!manager || !propagator) return fn();
  let parent: unknown;
  try {
    parent = propagator.extract(manager.active(), carrier, getter);
  } catch {
    // A trace context that cannot be read must not fail the task.
    return fn();
  }
  return manager.with(parent, fn);
}
