/**
 * The visualizer's HTTP server: a page listing saved runs and drawing each
 * as a tree and a timeline, a small JSON API that serves a run a slice at a
 * time, and server-sent events that follow a running run's event log.
 * Listens on 127.0.0.1 only; caps connections and live streams and closes
 * idle connections.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "npm:zod@^4.1.0";
import { logger } from "../core/logging.ts";
import { describeIssues } from "../core/validation.ts";
import { isRunId, RunNotFoundError } from "../persistence/run_ref.ts";
import { runsDir } from "../persistence/run_store.ts";
import { isRunFile } from "../persistence/run_files.ts";
import { UnreadableRunError } from "../persistence/run_loader.ts";
import { asset, ASSETS } from "./_assets.ts";
import { openFront } from "./_front.ts";
import { routeApi } from "./_api.ts";
import { problem, respond } from "./_http.ts";
import { RunIndexCache } from "./_index_cache.ts";

const log = logger("viz");

/** Options of {@linkcode serveViz}. */
export interface VizOptions {
  /**
   * The state folder whose `runs/` are served.
   * @default {".switchyard"}
   */
  stateDir?: string;
  /**
   * The port; `0` picks a free one.
   * @default {8484}
   */
  port?: number;
  /**
   * How often a live run's event log is polled, in ms.
   * @default {200}
   */
  pollInterval?: number;
  /**
   * Most live streams (server-sent events) at once; more are answered 503.
   * @default {32}
   */
  maxLiveClients?: number;
  /**
   * Most open connections at once; more are answered 503 and closed.
   * @default {256}
   */
  maxConnections?: number;
  /**
   * A connection with no traffic for this long (ms) is closed; live
   * streams send a heartbeat at half this interval.
   * @default {10000}
   */
  idleTimeout?: number;
}

const OPTIONS = z.object({
  stateDir: z.string().min(1).default(".switchyard"),
  port: z.number().int().min(0).max(65535).default(8484),
  pollInterval: z.number().int().min(1).max(60_000).default(200),
  maxLiveClients: z.number().int().min(1).default(32),
  maxConnections: z.number().int().min(1).default(256),
  idleTimeout: z.number().int().min(50).default(10_000),
}).strict();

/** A running visualizer. */
export interface VizServer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** How many live streams are open now. */
  readonly liveClients: number;
  /** Closes live streams and connections and stops the server. */
  shutdown(): Promise<void>;
}

/**
 * Starts the visualizer on 127.0.0.1.
 *
 * @param options The state folder, the port, the limits.
 * @returns The running server.
 * @throws {TypeError} If an option is malformed.
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
  const parsed = OPTIONS.safeParse(options);
  if (!parsed.success) {
    throw new TypeError(
      `Cannot serve the visualizer as ${describeIssues(parsed.error, options)}`,
    );
  }
  const opts = parsed.data;
  const dir = runsDir(opts.stateDir);
  const streams = new Set<() => void>();
  const indexes = new RunIndexCache(dir);
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
    let segments: string[];
    try {
      segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    } catch {
      return problem(400, `Cannot decode path ${JSON.stringify(url.pathname)}`);
    }
    try {
      if (segments.length === 1 && (segments[0] === "" || segments[0] === "index.html")) {
        return await page(200);
      }
      if (segments.length === 1 && segments[0] in ASSETS) {
        return respond(await asset(segments[0]), 200, ASSETS[segments[0]].type, {
          "cache-control": "no-cache",
        });
      }
      if (segments[0] === "runs" && segments.length === 2) {
        // A missing run is still a page (it says so), with a 404 status.
        const known = isRunId(segments[1]) && await runExists(dir, segments[1]);
        return await page(known ? 200 : 404);
      }
      if (segments[0] !== "api") return await page(404);
      return await routeApi(segments.slice(1), url, request, {
        stateDir: opts.stateDir,
        dir,
        indexes,
        streams,
        maxLiveClients: opts.maxLiveClients,
        timing: {
          poll: opts.pollInterval,
          heartbeat: Math.max(25, Math.floor(opts.idleTimeout / 2)),
        },
      });
    } catch (error) {
      if (error instanceof RunNotFoundError) {
        return problem(404, `No saved run at ${url.pathname}`);
      }
      if (error instanceof UnreadableRunError) {
        // A damaged run, not a fault of the server: the page says what.
        return problem(500, error.message);
      }
      log.error("Visualizer failed on {path}: {error}", { path: url.pathname, error });
      return problem(500, "The run could not be read; see the server's log");
    }
  };

  const page = async (status: number) =>
    respond(await asset("index.html"), status, ASSETS["index.html"].type);

  // The HTTP server listens where only this process can reach it; the
  // front door on 127.0.0.1 enforces the limits and passes bytes through.
  const socketDir = Deno.build.os === "windows" ? null : Deno.makeTempDirSync({
    prefix: "switchyard-viz-",
  });
  const socketPath = socketDir ? join(socketDir, "http.sock") : null;
  const abort = new AbortController();
  const httpServer = socketPath
    ? Deno.serve({ path: socketPath, signal: abort.signal, onListen: () => {} }, handler)
    : Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen: () => {} },
      handler,
    );
  const connect = socketPath
    ? () => Deno.connect({ transport: "unix", path: socketPath })
    : () => Deno.connect({ hostname: "127.0.0.1", port: (httpServer.addr as Deno.NetAddr).port });
  const front = openFront(opts.port, connect, {
    maxConnections: opts.maxConnections,
    idleTimeout: opts.idleTimeout,
    answerTimeout: Math.max(opts.idleTimeout, 120_000),
  });
  port = front.port;
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    get liveClients() {
      return streams.size;
    },
    async shutdown() {
      for (const close of [...streams]) close();
      await front.close();
      abort.abort();
      await httpServer.finished;
      if (socketDir) await Deno.remove(socketDir, { recursive: true }).catch(() => {});
    },
  };
}

async function runExists(dir: string, runId: string): Promise<boolean> {
  for (const name of [`${runId}.events.jsonl`, `${runId}.json`]) {
    if (await isRunFile(join(dir, name))) return true;
  }
  return false;
}
