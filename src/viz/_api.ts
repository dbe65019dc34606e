/**
 * The visualizer's JSON API under `/api/`: the run list, one run's summary,
 * a slice of its rows, finding the next request with a status, one
 * request's full record, and the live event stream.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { join } from "node:path";
import { isRunId } from "../persistence/run_ref.ts";
import { listSummaries, type SummaryCache } from "./_run_list.ts";
import { eventStream, type EventStreamTiming } from "./_event_stream.ts";
import { json, problem, respond } from "./_http.ts";
import type { RunIndexCache } from "./_index_cache.ts";
import { isLineBoundary } from "./_lines.ts";
import { findRequest, parseViewQuery, rowOf, visibleRows } from "./_view.ts";
import type { Status } from "./run_index.ts";

/** Most rows one `rows` request returns. */
export const MAX_ROWS = 1000;

/** What the API needs of its server. */
export interface ApiContext {
  /** The state folder. */
  stateDir: string;
  /** Its runs folder. */
  dir: string;
  /** The run indexes. */
  indexes: RunIndexCache;
  /** Closers of the open live streams. */
  streams: Set<() => void>;
  /** Most live streams at once. */
  maxLiveClients: number;
  /** How live streams poll and beat. */
  timing: EventStreamTiming;
}

const summaries = new WeakMap<ApiContext, SummaryCache>();

function whole(name: string, text: string | null, fallback: number, max: number): number | string {
  if (text === null) return fallback;
  if (!/^\d{1,15}$/.test(text) || Number(text) > max) {
    return `Cannot answer as '${name}' must be a whole number from 0 to ${max}: current value is ${
      describeValue(text.slice(0, 40))
    }`;
  }
  return Number(text);
}

/**
 * Answers one API request.
 *
 * @param segments The decoded path after `/api/`.
 * @param url The request URL.
 * @param request The request.
 * @param ctx The server's state.
 * @returns The answer.
 */
export async function routeApi(
  segments: string[],
  url: URL,
  request: Request,
  ctx: ApiContext,
): Promise<Response> {
  const [first, runId, what, requestId] = segments;
  if (first !== "runs") return problem(404, `Nothing at ${url.pathname}`);
  if (segments.length === 1) {
    let cache = summaries.get(ctx);
    if (!cache) summaries.set(ctx, cache = new Map());
    return json(await listSummaries(ctx.dir, ctx.indexes, cache));
  }
  if (!isRunId(runId)) {
    return problem(
      400,
      `Cannot serve run as the id must be made of letters, digits, '.', '_' or '-': current value is ${
        describeValue(runId)
      }`,
    );
  }
  if (segments.length > 4 || (segments.length === 4 && what !== "requests")) {
    return problem(404, `Nothing at ${url.pathname}`);
  }
  if (what === "events" && segments.length === 3) return await events(runId, url, request, ctx);
  const index = await ctx.indexes.get(runId);
  if (segments.length === 2) return json(index.summary());
  if (what === "requests" && segments.length === 4) {
    const i = index.indexOf(requestId);
    if (i < 0) return problem(404, `Run ${runId} has no request ${JSON.stringify(requestId)}`);
    return json(await index.details(i));
  }
  const query = parseViewQuery(url.searchParams);
  if (typeof query === "string") return problem(400, query);
  if (what === "rows" && segments.length === 3) {
    const rows = visibleRows(index, query);
    const from = whole("from", url.searchParams.get("from"), 0, Number.MAX_SAFE_INTEGER);
    const limit = whole("limit", url.searchParams.get("limit"), 200, MAX_ROWS);
    if (typeof from === "string") return problem(400, from);
    if (typeof limit === "string") return problem(400, limit);
    return json({
      total: rows.length,
      from,
      version: index.version,
      rows: rows.slice(from, from + limit).map((i) => rowOf(index, i, query)),
    });
  }
  if (what === "find" && segments.length === 3) {
    const wanted = (url.searchParams.get("find") ?? "Failed").split(",");
    if (!wanted.every((s) => ["Open", "Completed", "Failed", "Cancelled"].includes(s))) {
      return problem(
        400,
        `Cannot find a request as 'find' must list statuses (Open, Completed, Failed, Cancelled): current value is ${
          describeValue(wanted.join(",").slice(0, 80))
        }`,
      );
    }
    const after = url.searchParams.get("after");
    const backwards = url.searchParams.get("direction") === "previous";
    return json({
      found: findRequest(index, query, new Set(wanted as Status[]), after || null, backwards),
    });
  }
  return problem(404, `Nothing at ${url.pathname}`);
}

async function events(
  runId: string,
  url: URL,
  request: Request,
  ctx: ApiContext,
): Promise<Response> {
  const path = join(ctx.dir, `${runId}.events.jsonl`);
  // Only a regular file is followed: a link could name any file.
  const info = await Deno.lstat(path).catch(() => null);
  if (!info?.isFile) {
    await ctx.indexes.get(runId); // a run with no log: a snapshot or a 404
    return problem(404, `Run ${runId} has no event log to follow`);
  }
  const size = info.size;
  // A browser reconnecting says where it was in Last-Event-ID.
  const text = request.headers.get("last-event-id") ?? url.searchParams.get("offset");
  if (text !== null && !/^\d{1,15}$/.test(text)) {
    return problem(
      400,
      `Cannot stream events as 'offset' must be a whole number of bytes: current value is ${
        describeValue(text.slice(0, 40))
      }`,
    );
  }
  const from = text === null ? 0 : Number(text);
  if (from > size || !await isLineBoundary(path, from)) {
    return problem(
      400,
      `Cannot stream events as 'offset' must be at a line boundary of the event log (0, or just after a newline, at most ${size}): current value is ${
        describeValue(from)
      }`,
    );
  }
  if (ctx.streams.size >= ctx.maxLiveClients) {
    return problem(
      503,
      `Cannot follow run ${runId} as the visualizer already serves ${ctx.maxLiveClients} live streams ('maxLiveClients'); close a page or try again`,
      { "retry-after": "5" },
    );
  }
  let close = () => {};
  const remove = () => ctx.streams.delete(close);
  const live = eventStream(path, from, ctx.timing, remove);
  close = live.close;
  ctx.streams.add(close);
  return respond(live.stream, 200, "text/event-stream; charset=utf-8", {
    "cache-control": "no-store",
  });
}
