/**
 * One run as a tree and a timeline. Rows are fetched a slice at a time
 * (what is in view); filtering, collapsing and finding failures are
 * answered by the server; a live run's event stream says when to fetch again.
 */
import { api, app, badge, crumb, el, fmtDur, fmtTime, showNotice } from "./common.js";
import { renderDetails } from "./details.js";

const ROW_H = 24;
const OVERSCAN = 20;
const PAGE = 100;

/** @param {string} runId */
export function showRun(runId) {
  crumb.textContent = runId;
  document.title = "Switchyard · " + runId;
  const base = "/api/runs/" + encodeURIComponent(runId);
  /** @type {any} */
  let summary = null;
  const query = {
    collapseAll: false,
    /** @type {Set<string>} */ toggled: new Set(),
    name: "",
    status: "",
  };
  let total = 0;
  /** @type {Map<number, any[]>} */
  let pages = new Map();
  /** @type {Set<number>} */
  const loading = new Set();
  let generation = 0;
  /** @type {string | null} */
  let selected = null;
  /** @type {EventSource | null} */
  let source = null;
  let frame = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let refreshTimer;

  const head = el("div", { class: "summary" });
  const search = /** @type {HTMLInputElement} */ (el("input", {
    type: "search",
    id: "search",
    placeholder: "Filter by name…",
    "aria-label": "Filter by name",
  }));
  const statusSelect = /** @type {HTMLSelectElement} */ (el(
    "select",
    { id: "status-filter", "aria-label": "Filter by status" },
    ["", "Failed", "Cancelled", "Open", "Completed"].map((s) =>
      el("option", { value: s, text: s || "All statuses" })
    ),
  ));
  const filterInfo = el("span", { class: "filter-info", id: "filter-info" });
  const tools = el("div", { class: "tools" }, [
    search,
    statusSelect,
    filterInfo,
    el("span", { class: "spacer-flex" }),
    el("button", {
      type: "button",
      id: "prev-failure",
      title: "Previous failure (p)",
      text: "◀ Prev failure",
      onclick: () => findFailure(true),
    }),
    el("button", {
      type: "button",
      id: "next-failure",
      title: "Next failure (n)",
      text: "Next failure ▶",
      onclick: () => findFailure(false),
    }),
    el("button", { type: "button", text: "Expand all", onclick: () => setCollapse(false) }),
    el("button", { type: "button", text: "Collapse all", onclick: () => setCollapse(true) }),
  ]);
  const ticks = el("div", { class: "ticks" });
  const axis = el("div", { class: "axis" }, [
    el("div", { class: "label", text: "Request" }),
    ticks,
  ]);
  const spacer = el("div", { class: "spacer" });
  const scroller = el("div", { class: "scroller", id: "rows" }, [spacer]);
  const details = el("aside", { class: "details", id: "details" }, [
    el("p", {
      class: "muted",
      text: "Click a request to see its input, output, error or attempts.",
    }),
  ]);
  const body = el("div", { class: "body" }, [
    el("section", { class: "view" }, [axis, scroller]),
    details,
  ]);

  function params() {
    const p = new URLSearchParams();
    if (query.collapseAll) p.set("collapse", "all");
    if (query.toggled.size) p.set("toggled", [...query.toggled].join(","));
    if (query.name) p.set("name", query.name);
    if (query.status) p.set("status", query.status);
    return p;
  }
  /** Forgets the fetched rows; what is on screen stays until the new ones come. */
  function invalidate() {
    generation++;
    pages = new Map();
    loading.clear();
    schedule();
  }
  function schedule() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  }
  /** @param {number} page */
  async function fetchPage(page) {
    if (loading.has(page)) return;
    loading.add(page);
    const mine = generation;
    const p = params();
    p.set("from", String(page * PAGE));
    p.set("limit", String(PAGE));
    try {
      const answer = await api(base + "/rows?" + p);
      if (mine !== generation) return;
      total = answer.total;
      pages.set(page, answer.rows);
    } catch (e) {
      if (mine === generation) filterInfo.textContent = /** @type {Error} */ (e).message;
    } finally {
      if (mine === generation) loading.delete(page);
    }
    schedule();
  }
  /** @param {number} position */
  function rowAt(position) {
    const page = pages.get(Math.floor(position / PAGE));
    return page ? page[position % PAGE] : undefined;
  }

  function renderSummary() {
    const s = summary;
    const duration = s.endTime !== null && s.startTime !== null
      ? fmtDur(s.endTime - s.startTime)
      : "";
    head.textContent = "";
    /** @param {string} cls @param {string} status @param {number} n @param {string} word */
    const count = (cls, status, n, word) =>
      el("button", {
        type: "button",
        id: "count-" + status.toLowerCase(),
        class: "count " + cls + (n > 0 ? " has" : "") +
          (query.status === status ? " active" : ""),
        title: n > 0 ? "Show only the " + word + " requests" : undefined,
        text: n + " " + word,
        onclick: () => setStatus(query.status === status ? "" : status),
      });
    head.append(
      el("h1", { text: s.name || "(empty run)" }),
      badge(s.status),
      s.live ? el("span", { class: "live", text: "live" }) : "",
      el("span", { id: "request-count", text: s.requests + " requests" }),
      count("fail", "Failed", s.failed, "failed"),
      count("cancel", "Cancelled", s.cancelled, "cancelled"),
      s.open ? el("span", { class: "muted", text: s.open + " open" }) : "",
      duration ? el("span", { class: "muted", text: duration }) : "",
      el("span", { class: "muted", text: "started " + fmtTime(s.startTime) }),
    );
  }

  /** @param {number} t0 @param {number} t1 */
  function renderAxis(t0, t1) {
    ticks.textContent = "";
    const width = ticks.clientWidth || 300;
    const n = Math.max(1, Math.min(4, Math.floor(width / 90)));
    for (let i = 0; i <= n; i++) {
      ticks.appendChild(el("span", {
        class: "tick" + (i === 0 ? " first" : i === n ? " last" : ""),
        style: "left:" + (i * 100 / n) + "%",
        text: i === 0 ? "0" : fmtDur((t1 - t0) * i / n),
      }));
    }
  }

  function span() {
    const t0 = summary.t0 ?? 0;
    let t1 = summary.t1 ?? t0 + 1;
    if (summary.live) t1 = Math.max(t1, Date.now());
    if (t1 <= t0) t1 = t0 + 1;
    return [t0, t1];
  }

  function render() {
    if (!summary) return;
    renderSummary();
    const [t0, t1] = span();
    const width = t1 - t0;
    renderAxis(t0, t1);
    filterInfo.textContent = query.name || query.status
      ? total + " shown (matches and their callers)"
      : "";
    spacer.style.height = total * ROW_H + "px";
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(
      total,
      Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW_H) + OVERSCAN,
    );
    let missing = false;
    for (let page = Math.floor(first / PAGE); page * PAGE < Math.max(last, 1); page++) {
      if (pages.has(page)) continue;
      missing = true;
      fetchPage(page);
    }
    // Until the rows in view have come, the rows drawn stay (no blank flash).
    if (missing && spacer.childElementCount > 0) return;
    const fragment = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const row = rowAt(i);
      if (!row) continue;
      const end = row.end === null ? (summary.live ? Date.now() : t1) : row.end;
      const left = ((row.start - t0) / width) * 100;
      const barWidth = Math.max(((end - row.start) / width) * 100, 0.2);
      const duration = row.end === null ? "open" : fmtDur(row.end - row.start);
      const tree = el("div", {
        class: "tree-row",
        "data-id": row.id,
        style: "padding-left:" + (6 + row.depth * 14) + "px",
      }, [
        el("span", {
          class: "caret",
          "data-caret": row.children ? "1" : "",
          text: row.children ? (row.collapsed ? "▸" : "▾") : "",
        }),
        el("span", { class: "dot d-" + row.status, title: row.status }),
        el("span", { class: "type t-" + row.nodeType, title: "node type", text: row.nodeType }),
        el("span", { class: "name", title: row.name, text: row.name }),
        el("span", { class: "args", title: row.args, text: "(" + row.args + ")" }),
        row.collapsed && row.failedBelow
          ? el("span", {
            class: "below failed",
            title: row.failedBelow + " failed below",
            text: "✕ " + row.failedBelow,
          })
          : null,
        row.collapsed && row.cancelledBelow
          ? el("span", {
            class: "below cancelled",
            title: row.cancelledBelow + " cancelled below",
            text: "⊘ " + row.cancelledBelow,
          })
          : null,
        row.attempts > 1
          ? el("span", {
            class: "tries",
            title: row.attempts + " attempts",
            text: "×" + row.attempts,
          })
          : null,
        el("span", { class: "dur", text: duration }),
      ]);
      const bar = el("div", {
        class: "bar b-" + row.status,
        "data-id": row.id,
        title: row.name + " · " + row.status + " · " + duration,
        style: "left:" + Math.min(left, 99.8) + "%;width:" + Math.min(barWidth, 100 - left) + "%",
      });
      fragment.appendChild(el("div", {
        class: "row" + (row.id === selected ? " selected" : "") + (row.match ? "" : " context"),
        "data-row": row.id,
        "data-status": row.status,
        style: "top:" + i * ROW_H + "px",
      }, [tree, el("div", { class: "time-cell" }, [bar])]));
    }
    spacer.textContent = "";
    spacer.appendChild(fragment);
  }

  /** @param {string} status */
  function setStatus(status) {
    query.status = status;
    statusSelect.value = status;
    scroller.scrollTop = 0;
    invalidate();
  }
  /** @param {boolean} all */
  function setCollapse(all) {
    query.collapseAll = all;
    query.toggled.clear();
    invalidate();
  }
  /** @param {boolean} backwards */
  async function findFailure(backwards) {
    const p = params();
    p.set("find", "Failed");
    if (selected) p.set("after", selected);
    if (backwards) p.set("direction", "previous");
    const { found } = await api(base + "/find?" + p);
    if (!found) {
      filterInfo.textContent = "No failed request";
      return;
    }
    query.toggled = new Set(found.toggled);
    invalidate();
    selected = found.id;
    // The rows below are not fetched yet: make room so the scroll holds.
    total = Math.max(total, found.position + 1);
    spacer.style.height = total * ROW_H + "px";
    const top = found.position * ROW_H;
    if (top < scroller.scrollTop || top + ROW_H > scroller.scrollTop + scroller.clientHeight) {
      scroller.scrollTop = Math.max(0, top - scroller.clientHeight / 3);
    }
    showDetails(found.id);
  }

  search.addEventListener("input", () => {
    query.name = search.value.trim();
    scroller.scrollTop = 0;
    invalidate();
  });
  statusSelect.addEventListener("change", () => setStatus(statusSelect.value));
  scroller.addEventListener("scroll", schedule);
  addEventListener("resize", schedule);
  addEventListener("keydown", (event) => {
    if (
      event.target instanceof HTMLInputElement || event.ctrlKey || event.metaKey || event.altKey
    ) return;
    if (event.key === "n") findFailure(false);
    if (event.key === "p") findFailure(true);
  });
  spacer.addEventListener("click", (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    const rowEl = target.closest("[data-row]");
    if (!rowEl) return;
    const id = /** @type {string} */ (rowEl.getAttribute("data-row"));
    if (target.getAttribute("data-caret") === "1") {
      if (query.name || query.status) return;
      if (query.toggled.has(id)) query.toggled.delete(id);
      else query.toggled.add(id);
      invalidate();
    } else {
      selected = id;
      showDetails(id);
      schedule();
    }
  });

  /** @param {string} id */
  async function showDetails(id) {
    /** @type {any} */
    let row;
    try {
      row = await api(base + "/requests/" + encodeURIComponent(id));
    } catch (e) {
      details.textContent = "";
      details.appendChild(el("p", { class: "muted", text: /** @type {Error} */ (e).message }));
      return;
    }
    if (selected !== id) return;
    renderDetails(details, row);
  }
  async function refresh() {
    try {
      summary = await api(base);
    } catch {
      return;
    }
    invalidate();
    if (selected) showDetails(selected);
  }
  /** Coalesces bursts of events into one fetch every 300 ms. */
  function refreshSoon() {
    if (refreshTimer !== undefined) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined;
      refresh();
    }, 300);
  }
  /** @param {number} offset */
  function connect(offset) {
    const es = new EventSource(base + "/events?offset=" + offset);
    source = es;
    // Open bars grow with the clock even when no event arrives.
    const ticker = setInterval(schedule, 500);
    es.onmessage = () => refreshSoon();
    es.addEventListener("end", () => {
      clearInterval(ticker);
      es.close();
      source = null;
      refresh();
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        clearInterval(ticker);
        source = null;
        filterInfo.textContent =
          "Live updates stopped (the server refused or closed the stream); reload to retry.";
      }
    };
  }

  (async () => {
    try {
      summary = await api(base);
    } catch (e) {
      const error = /** @type {import("./common.js").HttpError} */ (e);
      if (error.status === 404) {
        document.title = "Switchyard · no run " + runId;
        showNotice(
          "No saved run “" + runId + "”",
          "There is no run with this id in the state folder served here. It may have been deleted, or saved to another folder.",
        );
      } else {
        showNotice("Cannot show run " + runId, error.message);
      }
      return;
    }
    app.textContent = "";
    app.append(head, tools, body);
    if (summary.live) connect(summary.eventsOffset);
    invalidate();
  })();
  return () => source?.close();
}
