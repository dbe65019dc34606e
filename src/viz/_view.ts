/**
 * The rows a page shows of a run index: the tree with some parents
 * collapsed, or only the requests matching a filter (with their ancestors),
 * a slice at a time; and the next or previous request with a given status.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import type { RunIndex, Status } from "./run_index.ts";

/** What the page asks to see. */
export interface ViewQuery {
  /** Whether parents start collapsed (`?collapse=all`). */
  collapseAll: boolean;
  /** Parents whose state differs from `collapseAll`. */
  toggled: Set<string>;
  /** Case-insensitive part of a name or id to keep (`""`: all). */
  name: string;
  /** Statuses to keep (`null`: all). */
  statuses: Set<Status> | null;
}

const STATUSES = new Set<string>(["Open", "Completed", "Failed", "Cancelled"]);

/** Most ids `?toggled=` may carry. */
export const MAX_TOGGLED = 2000;

/**
 * Reads a view query from URL parameters.
 *
 * @param params The URL's search parameters.
 * @returns The query, or a message naming the bad parameter.
 */
export function parseViewQuery(params: URLSearchParams): ViewQuery | string {
  const collapse = params.get("collapse") ?? "none";
  if (collapse !== "all" && collapse !== "none") {
    return `Cannot show rows as 'collapse' must be "all" or "none": current value is ${
      describeValue(collapse)
    }`;
  }
  const toggled = (params.get("toggled") ?? "").split(",").filter((s) => s !== "");
  if (toggled.length > MAX_TOGGLED) {
    return `Cannot show rows as 'toggled' must list at most ${MAX_TOGGLED} ids: current count is ${toggled.length}`;
  }
  const statusText = params.get("status") ?? "";
  const statuses = statusText === "" ? null : new Set(statusText.split(","));
  for (const s of statuses ?? []) {
    if (!STATUSES.has(s)) {
      return `Cannot show rows as 'status' must be a list of Open, Completed, Failed, Cancelled: current value is ${
        describeValue(statusText.slice(0, 100))
      }`;
    }
  }
  return {
    collapseAll: collapse === "all",
    toggled: new Set(toggled),
    name: (params.get("name") ?? "").slice(0, 200).toLowerCase(),
    statuses: statuses as Set<Status> | null,
  };
}

function filtering(q: ViewQuery): boolean {
  return q.name !== "" || q.statuses !== null;
}

/** Whether a request matches the query's filter. */
export function matches(index: RunIndex, i: number, q: ViewQuery): boolean {
  const e = index.entries[i];
  if (q.statuses && !q.statuses.has(e.status)) return false;
  return q.name === "" || e.name.toLowerCase().includes(q.name) || e.id.toLowerCase() === q.name;
}

/** Whether a parent is drawn collapsed. */
export function isCollapsed(index: RunIndex, i: number, q: ViewQuery): boolean {
  return q.collapseAll !== q.toggled.has(index.entries[i].id);
}

const cache = new WeakMap<RunIndex, Map<string, { version: number; rows: number[] }>>();

/**
 * The requests shown, in order: the tree less collapsed subtrees, or when
 * filtering, every match and its ancestors (collapsing is then ignored).
 *
 * @param index The run.
 * @param q The query.
 * @returns Entry indexes.
 */
export function visibleRows(index: RunIndex, q: ViewQuery): number[] {
  const key = JSON.stringify([q.collapseAll, [...q.toggled].sort(), q.name, [
    ...(q.statuses ?? []),
  ]]);
  let views = cache.get(index);
  if (!views) cache.set(index, views = new Map());
  const hit = views.get(key);
  if (hit && hit.version === index.version) return hit.rows;
  const order = index.treeOrder();
  const rows: number[] = [];
  if (filtering(q)) {
    // Reversed pre-order meets every descendant before its ancestor.
    const keep = new Uint8Array(index.entries.length);
    for (let k = order.length - 1; k >= 0; k--) {
      const i = order[k];
      if (matches(index, i, q)) keep[i] = 1;
      const p = index.entries[i].parent;
      if (keep[i] && p >= 0) keep[p] = 1;
    }
    for (const i of order) if (keep[i]) rows.push(i);
  } else {
    let skipBelow = Infinity;
    for (const i of order) {
      const e = index.entries[i];
      if (e.depth > skipBelow) continue;
      skipBelow = Infinity;
      rows.push(i);
      if (e.children && isCollapsed(index, i, q)) skipBelow = e.depth;
    }
  }
  if (views.size >= 8) views.delete(views.keys().next().value!);
  views.set(key, { version: index.version, rows });
  return rows;
}

/**
 * One row as the page draws it.
 *
 * @param index The run.
 * @param i The entry.
 * @param q The query (for the collapsed and match flags).
 * @returns A small JSON-ready object.
 */
export function rowOf(index: RunIndex, i: number, q: ViewQuery): Record<string, unknown> {
  const e = index.entries[i];
  return {
    id: e.id,
    parent: e.parent < 0 ? null : index.entries[e.parent].id,
    depth: e.depth,
    name: e.name,
    nodeType: e.nodeType,
    status: e.status,
    start: e.start,
    end: e.end,
    args: e.args,
    children: e.children?.length ?? 0,
    collapsed: e.children !== null && !filtering(q) && isCollapsed(index, i, q),
    failedBelow: e.failedBelow,
    cancelledBelow: e.cancelledBelow,
    attempts: e.attempts,
    match: !filtering(q) || matches(index, i, q),
  };
}

/**
 * The next (or previous) request in tree order after `after` whose status
 * is one of `statuses` (and that matches the filter), wrapping around.
 *
 * @param index The run.
 * @param q The page's query.
 * @param statuses The statuses looked for.
 * @param after The request to start from (`null`: the start or the end).
 * @param backwards Look backwards.
 * @returns The request, the ancestors to expand, and its row position once they are.
 */
export function findRequest(
  index: RunIndex,
  q: ViewQuery,
  statuses: Set<Status>,
  after: string | null,
  backwards: boolean,
): { id: string; ancestors: string[]; position: number; toggled: string[] } | null {
  const order = index.treeOrder();
  const n = order.length;
  if (n === 0) return null;
  const from = after === null ? -1 : order.indexOf(index.indexOf(after));
  for (let step = 1; step <= n; step++) {
    const k = backwards ? ((from < 0 ? n : from) - step + n * 2) % n : (from + step + n) % n;
    const i = order[k];
    if (!statuses.has(index.entries[i].status)) continue;
    if (filtering(q) && !matches(index, i, q)) continue;
    const ancestors: string[] = [];
    for (let p = index.entries[i].parent; p >= 0; p = index.entries[p].parent) {
      ancestors.push(index.entries[p].id);
    }
    const toggled = new Set(q.toggled);
    if (!filtering(q)) {
      for (const a of ancestors) {
        if (q.collapseAll) toggled.add(a);
        else toggled.delete(a);
      }
    }
    const view = { ...q, toggled };
    return {
      id: index.entries[i].id,
      ancestors: ancestors.reverse(),
      position: visibleRows(index, view).indexOf(i),
      toggled: [...toggled],
    };
  }
  return null;
}
