/**
 * The visualizer's HTTP server: a page listing saved runs and drawing each
 * as a tree and a timeline, a small JSON API, and server-sent events that
 * follow a running run's event log. Listens on 127.0.0.1 only.
 *
 * @module
 */
import { join } from "node:path";
import { logger } from "../core/logging.ts";
import { isEventLogActive, parseEventLog } from "../persistence/event_log_reader.ts";
import {
  isRunId,
  listRuns,
  loadFromDir,
  RunNotFoundError,
  type RunSummaryCache,
  summarize,
} from "../persistence/run_loader.ts";
import { type RequestRow, requestRows } from "../persistence/request_rows.ts";
import { runsDir } from "../persistence/run_store.ts";
import { safeStringify } from "../core/json_safe.ts";
import { APP_CSS, APP_JS, PAGE_HTML } from "./_assets.ts";

const log = logger("viz");

/** Options of {@linkcode serveViz}. */
export interface VizOptions {
  /** The state folder whose `runs/` are served (default `.switchyard`). */
  stateDir?: string;
  /** The port; `0` picks a free one (default 8484). */
  port?: number;
  /** How often a live run's event log is polled, in ms (default 200). */
  pollInterval?: number;
  /** Largest JSON text of one input or output in a run's rows (default 4096). */
  previewLimit?: number;
}

/** A running visualizer. */
export interface VizServer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** Closes live streams and stops the server. */
  shutdown(): Promise<void>;
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

function respond(
  body: BodyInit | null,
  status: number,
  type: string,
  extra: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": type, ...extra },
  });
}

const json = (value: unknown, status = 200) =>
  respond(safeStringify(value), status, "application/json; charset=utf-8", {
    "cache-control": "no-store",
  });
const problem = (status: number, message: string) => json({ error: message }, status);

/**
 * Starts the visualizer on 127.0.0.1.
 *
 * @param options The state folder, the port, the poll interval.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} If the port is taken.
 *
 * @example Listing runs over HTTP
 * ```ts
 * import { serveViz } from "@switchyard/core/viz";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * const server = serveViz({ stateDir, port: 0 });
 * const response = await fetch(`${server.url}api/runs`);
 * assert.deepEqual(await response.json(), []);
 * await server.shutdown();
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export function serveViz(options: VizOptions = {}): VizServer {
  const stateDir = options.stateDir ?? ".switchyard";
  const dir = runsDir(stateDir);
  const poll = options.pollInterval ?? 200;
  const previewLimit = options.previewLimit ?? 4096;
  const streams = new Set<() => void>();
  const summaries: RunSummaryCache = new Map();
  let port = 0;

  const handler = async (request: Request): Promise<Response> => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return problem(405, `Cannot ${request.method}: only GET is served`);
    }
    const host = request.headers.get("host") ?? "";
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return problem(400, `Cannot serve host ${JSON.stringify(host)}`);
    }
    const raw = request.url.slice(request.url.indexOf("/", 8));
    if (/(^|\/|%2f|\\|%5c)(\.|%2e){2}($|\/|%2f|\\|%5c|\?)/i.test(raw)) {
      return problem(400, "Cannot serve a path with '..' segments");
    }
    const url = new URL(request.url);
    const parts = url.pathname.split("/").slice(1);
    let segments: string[];
    try {
      segments = parts.map(decodeURIComponent);
    } catch {
      return problem(400, `Cannot decode path ${JSON.stringify(url.pathname)}`);
    }
    try {
      return await route(segments, url);
    } catch (error) {
      if (error instanceof RunNotFoundError) {
        return problem(404, `No saved run at ${url.pathname}`);
      }
      log.error("Visualizer failed on {path}: {error}", {
        path: url.pathname,
        error,
      });
      return problem(500, "The run could not be read; see the server's log");
    }
  };

  const checkedId = (id: string): string | Response =>
    isRunId(id) ? id : problem(
      400,
      `Cannot serve run as the id must be made of letters, digits, '.', '_' or '-': current value is ${
        JSON.stringify(id)
      }`,
    );

  const route = async (segments: string[], url: URL): Promise<Response> => {
    const [first, id, third, fourth] = segments;
    if (segments.length === 1 && (first === "" || first === "index.html")) {
      return respond(PAGE_HTML, 200, "text/html; charset=utf-8");
    }
    if (segments.length === 1 && first === "app.js") {
      return respond(APP_JS, 200, "text/javascript; charset=utf-8");
    }
    if (segments.length === 1 && first === "app.css") {
      return respond(APP_CSS, 200, "text/css; charset=utf-8");
    }
    if (first === "runs" && segments.length === 2) {
      const checked = checkedId(id);
      if (checked instanceof Response) return checked;
      await loadFromDir(dir, checked);
      return respond(PAGE_HTML, 200, "text/html; charset=utf-8");
    }
    if (first !== "api") return problem(404, `Nothing at ${url.pathname}`);
    if (segments.length === 2 && id === "runs") {
      return json(await listRuns(stateDir, { cache: summaries }));
    }
    const runId = third;
    if (id !== "runs" || runId === undefined) {
      return problem(404, `Nothing at ${url.pathname}`);
    }
    const checked = checkedId(runId);
    if (checked instanceof Response) return checked;
    if (segments.length === 3) {
      const run = await loadFromDir(dir, checked);
      return json({
        ...summarize(run),
        eventsOffset: run.eventsOffset,
        warnings: run.warnings,
        requests: requestRows(run.runs).map((r) => preview(r, previewLimit)),
      });
    }
    if (segments.length === 5 && fourth === "requests") {
      const run = await loadFromDir(dir, checked);
      const row = requestRows(run.runs).find((r) => r.id === segments[4]);
      if (!row) {
        return problem(
          404,
          `Run ${checked} has no request ${JSON.stringify(segments[4])}`,
        );
      }
      return json(row);
    }
    if (segments.length === 4 && fourth === "events") {
      const path = join(dir, `${checked}.events.jsonl`);
      const from = Number(url.searchParams.get("offset") ?? 0);
      if (!Number.isSafeInteger(from) || from < 0) {
        return problem(
          400,
          `Cannot stream events from offset ${JSON.stringify(url.searchParams.get("offset"))}`,
        );
      }
      await loadFromDir(dir, checked);
      return respond(
        eventStream(path, from, poll, streams),
        200,
        "text/event-stream; charset=utf-8",
        { "cache-control": "no-store" },
      );
    }
    return problem(404, `Nothing at ${url.pathname}`);
  };

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 8484,
    onListen: () => {},
    handler: (request) => {
      const lastId = request.headers.get("last-event-id");
      if (lastId !== null && /^\d+$/.test(lastId)) {
        const url = new URL(request.url);
        url.searchParams.set("offset", lastId);
        return handler(new Request(url, request));
      }
      return handler(request);
    },
  });
  port = server.addr.port;
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    async shutdown() {
      for (const close of [...streams]) close();
      await server.shutdown();
    },
  };
}

/** A row with inputs and outputs cut down to a size the page can hold. */
function preview(row: RequestRow, limit: number): RequestRow {
  const cut = (value: unknown) => {
    const text = safeStringify(value);
    return text.length > limit
      ? { "[Preview]": text.slice(0, limit), "[Bytes]": text.length }
      : value;
  };
  return {
    ...row,
    input: cut(row.input) as unknown[],
    output: cut(row.output),
  };
}

/**
 * Follows an event log from a byte offset as server-sent events: one
 * `message` per complete line (its `id` the offset after it), then an `end`
 * event once no process writes the log and nothing new is left.
 */
function eventStream(
  path: string,
  from: number,
  poll: number,
  streams: Set<() => void>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let offset = from;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let close = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      close = () => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        streams.delete(close);
        try {
          controller.close();
        } catch { /* already closed by the client */ }
      };
      streams.add(close);
      const tick = async () => {
        if (closed) return;
        try {
          const active = await isEventLogActive(path);
          const sent = await sendNew();
          if (!sent && !active) {
            controller.enqueue(encoder.encode(`event: end\ndata: {}\n\n`));
            close();
            return;
          }
        } catch (error) {
          log.warn("Event stream of {path} stopped: {error}", { path, error });
          close();
          return;
        }
        if (!closed) timer = setTimeout(tick, poll);
      };
      const sendNew = async (): Promise<boolean> => {
        const file = await Deno.open(path, { read: true });
        let bytes: Uint8Array;
        try {
          const size = (await file.stat()).size;
          if (size <= offset) return false;
          await file.seek(offset, Deno.SeekMode.Start);
          bytes = new Uint8Array(size - offset);
          let read = 0;
          while (read < bytes.length) {
            const n = await file.read(bytes.subarray(read));
            if (n === null) break;
            read += n;
          }
          bytes = bytes.subarray(0, read);
        } finally {
          file.close();
        }
        const parsed = parseEventLog(bytes);
        if (parsed.offset === 0 || closed) return false;
        offset += parsed.offset;
        const lines = new TextDecoder().decode(bytes.subarray(0, parsed.offset))
          .split("\n").filter((line) => line.trim() !== "");
        const text = lines.map((line, i) =>
          (i === lines.length - 1 ? `id: ${offset}\n` : "") +
          `data: ${line}\n\n`
        ).join("");
        controller.enqueue(encoder.encode(text));
        return true;
      };
      controller.enqueue(encoder.encode(`retry: 1000\n\n`));
      tick();
    },
    cancel() {
      close();
    },
  });
}
