/**
 * An OTLP/HTTP JSON receiver on loopback, for the tracing tests: it keeps
 * the spans, log records and metrics a process exports to it, and can be
 * told to hold every request unanswered (a collector that hangs).
 *
 * @module
 */

/** An attribute as OTLP JSON writes it. */
export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number };
}

/** A span, with the name of the scope that made it. */
export interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes?: OtlpAttribute[];
  status?: { code?: number; message?: string };
  events?: { name: string; attributes?: OtlpAttribute[] }[];
  scope: string;
}

/** A log record. */
export interface OtlpLog {
  body?: { stringValue?: string };
  traceId?: string;
  spanId?: string;
  severityText?: string;
}

/** A metric. */
export interface OtlpMetric {
  name: string;
  sum?: { dataPoints: { attributes?: OtlpAttribute[]; asDouble?: number; asInt?: string }[] };
  gauge?: { dataPoints: { asDouble?: number; asInt?: string | number }[] };
  histogram?: { dataPoints: { attributes?: OtlpAttribute[]; count: string | number }[] };
}

/** A running receiver. */
export interface OtlpReceiver extends AsyncDisposable {
  /** Everything received so far. */
  readonly spans: OtlpSpan[];
  readonly logs: OtlpLog[];
  readonly metrics: OtlpMetric[];
  /** The environment that points Deno's built-in exporter at it. */
  readonly env: Record<string, string>;
  /** Called after each metrics export arrives. */
  onMetrics?: () => void;
}

/**
 * Starts a receiver on a free loopback port.
 *
 * @param options `hang`: hold every request until the receiver is disposed.
 * @returns The receiver; dispose it to stop it.
 */
export function startReceiver(options: { hang?: boolean } = {}): OtlpReceiver {
  const released = Promise.withResolvers<void>();
  const receiver: OtlpReceiver = {
    spans: [],
    logs: [],
    metrics: [],
    env: {},
    async [Symbol.asyncDispose]() {
      released.resolve();
      await server.shutdown();
    },
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    if (options.hang) await released.promise;
    const path = new URL(req.url).pathname;
    if (path === "/v1/traces") {
      for (const rs of body.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const span of ss.spans ?? []) {
            receiver.spans.push({ ...span, scope: ss.scope?.name });
          }
        }
      }
    } else if (path === "/v1/logs") {
      for (const rl of body.resourceLogs ?? []) {
        for (const sl of rl.scopeLogs ?? []) receiver.logs.push(...(sl.logRecords ?? []));
      }
    } else if (path === "/v1/metrics") {
      for (const rm of body.resourceMetrics ?? []) {
        for (const sm of rm.scopeMetrics ?? []) receiver.metrics.push(...(sm.metrics ?? []));
      }
      receiver.onMetrics?.();
    } else {
      return new Response("unknown path", { status: 404 });
    }
    return Response.json({});
  });
  Object.assign(receiver.env, {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_SERVICE_NAME: "switchyard-tracing-test",
  });
  return receiver;
}

/**
 * An attribute's value: a number for integers, else the string or double.
 *
 * @param attributes The attributes.
 * @param key The key.
 * @returns The value, `undefined` when absent.
 */
export function attribute(attributes: OtlpAttribute[] | undefined, key: string): unknown {
  const value = attributes?.find((a) => a.key === key)?.value;
  if (value === undefined) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.doubleValue;
}
