/**
 * The visualizer's page: the list of runs, and one run as a tree and a
 * timeline. Plain browser JavaScript served as it is, linted with the
 * rest; its JSDoc types are checked against the DOM on their own (see
 * tests/viz_assets_test.ts). A run is fetched a slice of rows at a time (what is in view);
 * filtering, collapsing and finding failures are answered by the server;
 * a live run's event stream tells the page when to fetch again.
 */
(function () {
  "use strict";
  const ROW_H = 24;
  const OVERSCAN = 20;
  const PAGE = 100;
  const app = /** @type {HTMLElement} */ (document.getElementById("app"));
  const crumb = /** @type {HTMLElement} */ (document.getElementById("crumb"));

  /**
   * @param {string} tag
   * @param {Record<string, any> | null} [attrs]
   * @param {Array<Node | string | null | undefined | false>} [children]
   * @returns {HTMLElement}
   */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs ?? {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "class") node.className = value;
      else if (key === "style") node.style.cssText = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, String(value));
    }
    for (const child of children ?? []) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  /** @param {number | null | undefined} ms */
  function fmtDur(ms) {
    if (ms === null || ms === undefined || !isFinite(ms) || ms < 0) return "";
    if (ms === 0) return "<1 ms";
    if (ms < 1000) return ms.toFixed(ms < 10 ? 1 : 0) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(2) + " s";
    return Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
  }
  /** @param {number | null | undefined} ms */
  function fmtTime(ms) {
    return ms === null || ms === undefined ? "-" : new Date(ms).toLocaleString();
  }

  class HttpError extends Error {
    /** @param {number} status @param {string} message */
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }
  /** @param {string} path @returns {Promise<any>} */
  async function api(path) {
    const response = await fetch(path, { headers: { accept: "application/json" } });
    let body = null;
    try {
      body = await response.json();
    } catch { /* not JSON */ }
    if (!response.ok) {
      throw new HttpError(
        response.status,
        body && body.error ? body.error : "HTTP " + response.status,
      );
    }
    return body;
  }
  /** @param {string} status */
  function badge(status) {
    return el("span", { class: "badge s-" + status, text: status });
  }
  /** @param {unknown} value */
  function pretty(value) {
    let text;
    try {
      text = JSON.stringify(value, null, 2);
    } catch {
      text = String(value);
    }
    if (text === undefined) text = "undefined";
    return text.length > 200000 ? text.slice(0, 200000) + "\n… (cut)" : text;
  }
  /** @param {string} title @param {string} message */
  function showNotice(title, message) {
    app.textContent = "";
    app.appendChild(el("div", { class: "notice", id: "notice" }, [
      el("h1", { text: title }),
      el("p", { text: message }),
      el("p", null, [el("a", { href: "/", text: "← All saved runs" })]),
    ]));
  }

  // ---- the list of runs ----------------------------------------------------
  function showList() {
    document.title = "Switchyard runs";
    crumb.textContent = "saved runs";
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    async function load() {
      /** @type {any[]} */
      let runs;
      try {
        runs = await api("/api/runs");
      } catch (e) {
        showNotice("Cannot list runs", /** @type {Error} */ (e).message);
        return;
      }
      app.textContent = "";
      if (runs.length === 0) {
        app.appendChild(el("p", {
          class: "empty",
          text:
            "No saved runs yet. Run a workflow with saveState (switchyard run saves by default).",
        }));
      } else {
        const head = el(
          "tr",
          null,
          ["Status", "Name", "Run", "Started", "Duration", "Requests", "Failed"]
            .map((h, i) => el("th", { class: i >= 5 ? "num" : "", text: h })),
        );
        const body = el(
          "tbody",
          null,
          runs.map((run) => {
            const href = "/runs/" + encodeURIComponent(run.runId);
            const duration = run.endTime !== null && run.startTime !== null
              ? fmtDur(run.endTime - run.startTime)
              : (run.live ? "running" : "-");
            return el("tr", {
              class: "run-row",
              "data-run-id": run.runId,
              onclick: () => location.href = href,
            }, [
              el("td", null, [badge(run.status)]),
              el("td", { class: "name", text: run.name || "(empty)" }),
              el("td", { class: "mono" }, [el("a", { href, text: run.runId })]),
              el("td", { text: fmtTime(run.startTime) }),
              el("td", { text: duration }),
              el("td", { class: "num", text: String(run.requests) }),
              el("td", { class: "num", text: String(run.failed) }),
            ]);
          }),
        );
        app.appendChild(el("div", { style: "overflow:auto" }, [
          el("table", { class: "runs" }, [el("thead", null, [head]), body]),
        ]));
      }
      if (runs.some((r) => r.live)) timer = setTimeout(load, 2000);
    }
    load();
    return () => clearTimeout(timer);
  }

  // ---- one run ---------------------------------------------------------------
  /** @param {string} runId */
  function showRun(runId) {
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
      for (let page = Math.floor(first / PAGE); page * PAGE < Math.max(last, 1); page++) {
        if (!pages.has(page)) fetchPage(page);
      }
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

    /**
     * An error with its cause chain: the message first, then the stack of
     * the error the user's code threw (the innermost cause), then the
     * wrappers that reported it.
     * @param {any} error @param {HTMLElement} into
     * @param {boolean} [folded] Stacks folded away (in an attempt's entry).
     */
    function showError(error, into, folded = false) {
      if (!error || typeof error !== "object" || typeof error.message !== "string") {
        into.appendChild(el("div", { class: "error-message", text: pretty(error).slice(0, 500) }));
        return;
      }
      const chain = [error];
      while (chain.length < 10) {
        const cause = chain[chain.length - 1].cause;
        if (!cause || typeof cause !== "object" || typeof cause.message !== "string") break;
        chain.push(cause);
      }
      const origin = chain[chain.length - 1];
      into.appendChild(
        el("div", { class: "error-message", text: (error.name || "Error") + ": " + error.message }),
      );
      if (origin !== error) {
        into.appendChild(
          el("div", {
            class: "muted",
            text: "thrown as " + (origin.name || "Error") + ": " + origin.message,
          }),
        );
      }
      if (origin.stack) {
        const pre = el("pre", { class: "stack origin", text: origin.stack });
        into.appendChild(
          folded ? el("details", null, [el("summary", { text: "stack" }), pre]) : pre,
        );
      }
      for (const wrapper of chain.slice(0, -1).reverse()) {
        if (!wrapper.stack) continue;
        into.appendChild(el("details", { class: "cause" }, [
          el("summary", { text: "reported as " + (wrapper.name || "Error") }),
          el("pre", { class: "stack", text: wrapper.stack }),
        ]));
      }
    }
    /** @param {any} attempt @param {number} i */
    function attemptItem(attempt, i) {
      const a = attempt && typeof attempt === "object" ? attempt : { value: attempt };
      const number = typeof a.attempt === "number" ? a.attempt : i + 1;
      const start = typeof a.start === "number" ? a.start : null;
      const end = typeof a.end === "number" ? a.end : null;
      const item = el("li", { class: "attempt" }, [
        el("strong", { text: "Attempt " + number }),
        " ",
        a.status ? badge(String(a.status)) : a.error ? badge("Failed") : "",
        start !== null
          ? el("span", {
            class: "muted",
            text: " " + fmtTime(start) + (end !== null ? " · " + fmtDur(end - start) : ""),
          })
          : "",
      ]);
      if (typeof a.retryDelay === "number") {
        item.appendChild(
          el("span", { class: "muted", text: " · then waited " + fmtDur(a.retryDelay) }),
        );
      }
      if (a.error) showError(a.error, item, true);
      else if (a.value !== undefined) item.appendChild(el("pre", { text: pretty(a.value) }));
      return item;
    }
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
      details.textContent = "";
      const failed = row.status === "Failed" || row.status === "Cancelled";
      const attempts = Array.isArray(row.attempts) ? row.attempts : [];
      details.appendChild(el("h2", null, [row.name + " ", badge(row.status)]));
      details.appendChild(el("dl", null, [
        el("dt", { text: "request" }),
        el("dd", { class: "mono", text: row.id }),
        el("dt", { text: "node type" }),
        el("dd", { id: "node-type", text: row.nodeType }),
        el("dt", { text: "started" }),
        el("dd", { text: fmtTime(row.start) }),
        el("dt", { text: "duration" }),
        el("dd", { text: row.end === null ? "open" : fmtDur(row.end - row.start) }),
        el("dt", { text: "children" }),
        el("dd", { text: String(row.children) }),
        el("dt", { text: "attempts" }),
        el("dd", { text: attempts.length ? String(attempts.length) : "1" }),
      ]));
      if (failed) {
        details.appendChild(el("h3", { text: row.status === "Failed" ? "Error" : "Cancelled" }));
        const box = el("div", { id: "error" });
        showError(row.output, box);
        box.firstElementChild?.setAttribute("id", "error-message");
        details.appendChild(box);
      }
      if (attempts.length) {
        details.appendChild(el("h3", { text: "Attempts" }));
        details.appendChild(
          el("ol", { class: "attempts", id: "attempts" }, attempts.map(attemptItem)),
        );
      }
      details.appendChild(el("h3", { text: "Input" }));
      details.appendChild(el("pre", { class: "input", text: pretty(row.input) }));
      if (!failed) {
        details.appendChild(el("h3", { text: "Output" }));
        details.appendChild(
          el("pre", { class: "output", text: row.end === null ? "(running)" : pretty(row.output) }),
        );
      }
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
        const error = /** @type {HttpError} */ (e);
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

  const match = /^\/runs\/([^/]+)\/?$/.exec(location.pathname);
  if (location.pathname === "/" || location.pathname === "/index.html") showList();
  else if (match) showRun(decodeURIComponent(match[1]));
  else showNotice("Nothing here", "This address is not a page of the visualizer.");
})();
