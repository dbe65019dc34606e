/**
 * The visualizer's page: one HTML shell, one stylesheet, one script, all
 * self-contained (no CDN, no build step). The script is plain ES5-style
 * JavaScript kept in a raw string: no template literals inside it.
 *
 * @module
 */

/** The HTML shell served for `/` and `/runs/<id>`. */
export const PAGE_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard</title>
<link rel="stylesheet" href="/app.css">
<link rel="icon" href="data:,">
</head>
<body>
<header class="top"><a class="brand" href="/">Switchyard</a><span id="crumb"></span></header>
<div id="app"><p class="muted pad">Loading…</p></div>
<script src="/app.js"></script>
</body>
</html>
`;

/** The stylesheet. */
export const APP_CSS: string = String.raw`
:root {
  --bg: #f6f7f9; --panel: #fff; --line: #e3e6eb; --text: #1d2430; --muted: #6b7585;
  --ok: #2f9e44; --fail: #e03131; --cancel: #f08c00; --open: #1c7ed6; --crash: #9c36b5;
  --sel: #e7f1ff; --row: 24px;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); height: 100vh; display: flex; flex-direction: column; }
a { color: var(--open); text-decoration: none; }
a:hover { text-decoration: underline; }
.top { display: flex; align-items: baseline; gap: 12px; padding: 10px 16px; background: #1d2430; color: #fff; }
.top a.brand { color: #fff; font-weight: 700; letter-spacing: .02em; }
.top #crumb { color: #c5cbd5; font-family: ui-monospace, Menlo, monospace; font-size: 12px; }
#app { flex: 1; min-height: 0; display: flex; flex-direction: column; }
.pad { padding: 16px; }
.muted { color: var(--muted); }
.mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 11px; font-weight: 600; color: #fff; }
.s-Completed { background: var(--ok); } .s-Failed { background: var(--fail); }
.s-Cancelled { background: var(--cancel); } .s-Open { background: var(--open); } .s-Crashed { background: var(--crash); }
table.runs { border-collapse: collapse; width: 100%; background: var(--panel); }
table.runs th, table.runs td { text-align: left; padding: 7px 12px; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.runs th { font-size: 11px; text-transform: uppercase; color: var(--muted); letter-spacing: .04em; background: #fafbfc; }
table.runs tr.run-row:hover td { background: var(--sel); cursor: pointer; }
td.num, th.num { text-align: right; }
.summary { display: flex; flex-wrap: wrap; align-items: center; gap: 14px; padding: 10px 16px; background: var(--panel); border-bottom: 1px solid var(--line); }
.summary h1 { font-size: 16px; margin: 0; }
.summary .live { color: var(--open); font-weight: 600; }
.summary .live::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--open); margin-right: 5px; animation: pulse 1s infinite alternate; }
@keyframes pulse { from { opacity: 1; } to { opacity: .3; } }
.toolbar { margin-left: auto; display: flex; gap: 6px; }
button { font: inherit; padding: 3px 10px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
button:hover { background: var(--sel); }
.body { flex: 1; min-height: 0; display: flex; }
.view { flex: 1; min-width: 0; display: flex; flex-direction: column; background: var(--panel); }
.axis { display: grid; grid-template-columns: var(--tree-w, 42%) 1fr; border-bottom: 1px solid var(--line); height: 24px; font-size: 11px; color: var(--muted); }
.axis .label { padding: 4px 10px; border-right: 1px solid var(--line); }
.axis .ticks { position: relative; }
.axis .tick { position: absolute; top: 4px; transform: translateX(-50%); white-space: nowrap; }
.axis .tick:first-child { transform: none; }
.axis .tick:last-child { transform: translateX(-100%); }
.scroller { flex: 1; overflow: auto; position: relative; }
.spacer { position: relative; width: 100%; }
.row { position: absolute; left: 0; right: 0; height: var(--row); display: grid; grid-template-columns: var(--tree-w, 42%) 1fr; cursor: pointer; }
.row:hover { background: #f3f6fa; }
.row.selected { background: var(--sel); }
.tree-row { display: flex; align-items: center; gap: 5px; padding-right: 8px; border-right: 1px solid var(--line); overflow: hidden; white-space: nowrap; }
.caret { width: 14px; flex: none; text-align: center; color: var(--muted); user-select: none; }
.dot { width: 8px; height: 8px; border-radius: 50%; flex: none; }
.d-Completed { background: var(--ok); } .d-Failed { background: var(--fail); } .d-Cancelled { background: var(--cancel); } .d-Open { background: var(--open); }
.name { font-weight: 600; }
.args { color: var(--muted); overflow: hidden; text-overflow: ellipsis; min-width: 0; }
.dur { margin-left: auto; color: var(--muted); font-variant-numeric: tabular-nums; padding-left: 8px; }
.time-cell { position: relative; }
.bar { position: absolute; top: 6px; height: 12px; border-radius: 3px; min-width: 2px; }
.b-Completed { background: var(--ok); } .b-Failed { background: var(--fail); } .b-Cancelled { background: var(--cancel); }
.b-Open { background: repeating-linear-gradient(45deg, var(--open), var(--open) 5px, #4dabf7 5px, #4dabf7 10px); }
.details { width: 400px; flex: none; border-left: 1px solid var(--line); background: #fbfcfd; overflow: auto; padding: 12px 14px; }
.details h2 { font-size: 14px; margin: 0 0 8px; }
.details dl { display: grid; grid-template-columns: auto 1fr; gap: 3px 10px; margin: 0 0 10px; }
.details dt { color: var(--muted); }
.details dd { margin: 0; word-break: break-all; }
.details h3 { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 12px 0 4px; }
.details pre { background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: 8px; margin: 0; max-height: 320px; overflow: auto; white-space: pre-wrap; word-break: break-word; font-size: 12px; }
.error-message { color: var(--fail); font-weight: 600; margin-bottom: 6px; word-break: break-word; }
.empty { padding: 24px; color: var(--muted); }
`;

/** The script: routing, the run list, the tree and timeline, live updates. */
export const APP_JS: string = String.raw`
(function () {
  "use strict";
  var ROW_H = 24;
  var OVERSCAN = 12;
  var app = document.getElementById("app");
  var crumb = document.getElementById("crumb");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var key in attrs) {
        if (key === "text") node.textContent = attrs[key];
        else if (key === "class") node.className = attrs[key];
        else if (key === "style") node.style.cssText = attrs[key];
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), attrs[key]);
        else node.setAttribute(key, attrs[key]);
      }
    }
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }
  function fmtDur(ms) {
    if (ms === null || ms === undefined || !isFinite(ms) || ms < 0) return "";
    if (ms === 0) return "<1 ms";
    if (ms < 1000) return ms.toFixed(ms < 10 ? 1 : 0) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(2) + " s";
    return Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
  }
  function fmtTime(ms) {
    if (ms === null || ms === undefined) return "-";
    return new Date(ms).toLocaleString();
  }
  function api(path) {
    return fetch(path, { headers: { accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.error ? body.error : "HTTP " + r.status);
        return body;
      });
    });
  }
  function badge(status) {
    return el("span", { class: "badge s-" + status, text: status });
  }
  function compact(value, max) {
    var text;
    try { text = JSON.stringify(value); } catch (e) { text = String(value); }
    if (text === undefined) text = "undefined";
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }
  function pretty(value) {
    var text;
    try { text = JSON.stringify(value, null, 2); } catch (e) { text = String(value); }
    if (text === undefined) text = "undefined";
    return text.length > 200000 ? text.slice(0, 200000) + "\n… (cut)" : text;
  }
  function showError(message) {
    app.textContent = "";
    app.appendChild(el("p", { class: "pad", text: message }));
  }

  // ---- the list of runs -------------------------------------------------
  function showList() {
    document.title = "Switchyard runs";
    crumb.textContent = "saved runs";
    var timer = null;
    function load() {
      api("/api/runs").then(function (runs) {
        app.textContent = "";
        if (runs.length === 0) {
          app.appendChild(el("p", { class: "empty", text: "No saved runs yet. Run a workflow with saveState (switchyard run saves by default)." }));
        } else {
          var head = el("tr", null, ["Status", "Name", "Run", "Started", "Duration", "Requests", "Failed"].map(function (h, i) {
            return el("th", { class: i >= 5 ? "num" : "", text: h });
          }));
          var body = el("tbody", null, runs.map(function (run) {
            var href = "/runs/" + encodeURIComponent(run.runId);
            var duration = run.endTime !== null && run.startTime !== null ? fmtDur(run.endTime - run.startTime) : (run.live ? "running" : "-");
            return el("tr", { class: "run-row", "data-run-id": run.runId, onclick: function () { location.href = href; } }, [
              el("td", null, [badge(run.status)]),
              el("td", { class: "name", text: run.name || "(empty)" }),
              el("td", { class: "mono" }, [el("a", { href: href, text: run.runId })]),
              el("td", { text: fmtTime(run.startTime) }),
              el("td", { text: duration }),
              el("td", { class: "num", text: String(run.requests) }),
              el("td", { class: "num", text: String(run.failed) })
            ]);
          }));
          app.appendChild(el("div", { style: "overflow:auto" }, [el("table", { class: "runs" }, [el("thead", null, [head]), body])]));
        }
        var anyLive = runs.some(function (r) { return r.live; });
        if (anyLive) timer = setTimeout(load, 2000);
      }).catch(function (e) { showError("Cannot list runs: " + e.message); });
    }
    load();
    return function () { clearTimeout(timer); };
  }

  // ---- one run: tree + timeline -------------------------------------------
  var STATUS = { completed: "Completed", failed: "Failed", cancelled: "Cancelled" };

  function RunView(runId) {
    this.runId = runId;
    this.rows = new Map();
    this.children = new Map();
    this.roots = [];
    this.nodeToRequest = new Map();
    this.collapsed = new Set();
    this.selected = null;
    this.visible = [];
    this.dirty = true;
    this.frame = 0;
    this.source = null;
    this.summary = null;
    this.counts = { total: 0, open: 0, failed: 0 };
  }
  RunView.prototype.reset = function (data) {
    this.rows = new Map();
    this.children = new Map();
    this.roots = [];
    this.nodeToRequest = new Map();
    this.counts = { total: 0, open: 0, failed: 0 };
    var self = this;
    data.requests.forEach(function (row) { self.add(row); });
    this.summary = data;
  };
  RunView.prototype.add = function (row) {
    if (this.rows.has(row.id)) return;
    this.rows.set(row.id, row);
    this.nodeToRequest.set(row.node, row.id);
    if (row.parent && this.rows.has(row.parent)) {
      var list = this.children.get(row.parent);
      if (!list) { list = []; this.children.set(row.parent, list); }
      list.push(row.id);
    } else {
      this.roots.push(row.id);
    }
    this.counts.total++;
    if (row.status === "Open") this.counts.open++;
    if (row.status === "Failed") this.counts.failed++;
  };
  RunView.prototype.apply = function (event) {
    if (event.event === "created") {
      var parent = event.parentNode ? this.nodeToRequest.get(event.parentNode) || null : null;
      var depth = parent && this.rows.has(parent) ? this.rows.get(parent).depth + 1 : 0;
      this.add({ id: event.request, parent: parent, depth: depth, node: event.node, name: event.name,
        nodeType: event.nodeType, status: "Open", start: event.time, end: null, step: event.step,
        input: event.args, output: null });
    } else if (STATUS[event.event]) {
      var row = this.rows.get(event.request);
      if (!row || row.status !== "Open") return;
      row.status = STATUS[event.event];
      row.end = event.time;
      row.output = event.output;
      this.counts.open--;
      if (row.status === "Failed") this.counts.failed++;
    } else if (event.event === "saved" && event.status !== "Open") {
      this.summary.status = event.status;
    }
    this.dirty = true;
  };
  RunView.prototype.flatten = function () {
    var out = [];
    var stack = [];
    var i;
    for (i = this.roots.length - 1; i >= 0; i--) stack.push(this.roots[i]);
    while (stack.length) {
      var id = stack.pop();
      out.push(id);
      if (this.collapsed.has(id)) continue;
      var kids = this.children.get(id);
      if (kids) for (i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
    }
    this.visible = out;
  };
  // Open requests of a live run run until now; those of a run that is not
  // live any more (crashed) stop at the last thing it recorded.
  RunView.prototype.span = function () {
    var t0 = Infinity, t1 = -Infinity;
    var live = this.source !== null;
    this.rows.forEach(function (row) {
      if (row.start < t0) t0 = row.start;
      var end = row.end === null ? (live ? Date.now() : row.start) : row.end;
      if (end > t1) t1 = end;
    });
    if (!isFinite(t0)) { t0 = 0; t1 = 1; }
    if (t1 <= t0) t1 = t0 + 1;
    return [t0, t1];
  };

  function showRun(runId) {
    var view = new RunView(runId);
    var stopped = false;
    crumb.textContent = runId;
    document.title = "Switchyard · " + runId;

    var summary = el("div", { class: "summary" });
    var ticks = el("div", { class: "ticks" });
    var axis = el("div", { class: "axis" }, [el("div", { class: "label", text: "Request" }), ticks]);
    var spacer = el("div", { class: "spacer" });
    var scroller = el("div", { class: "scroller", id: "rows" }, [spacer]);
    var details = el("aside", { class: "details", id: "details" }, [el("p", { class: "muted", text: "Click a request to see its input, output or error." })]);
    var body = el("div", { class: "body" }, [el("section", { class: "view" }, [axis, scroller]), details]);

    function schedule() {
      if (view.frame || stopped) return;
      view.frame = requestAnimationFrame(function () { view.frame = 0; render(); });
    }
    scroller.addEventListener("scroll", schedule);
    window.addEventListener("resize", schedule);

    function renderSummary() {
      var s = view.summary;
      var duration = s.endTime !== null && s.startTime !== null ? fmtDur(s.endTime - s.startTime) : "";
      summary.textContent = "";
      summary.appendChild(el("h1", { text: s.name || "(empty run)" }));
      summary.appendChild(badge(s.status));
      if (view.source) summary.appendChild(el("span", { class: "live", text: "live" }));
      summary.appendChild(el("span", { id: "request-count", text: view.counts.total + " requests" }));
      summary.appendChild(el("span", { class: "muted", text: view.counts.open + " open · " + view.counts.failed + " failed" }));
      if (duration) summary.appendChild(el("span", { class: "muted", text: duration }));
      summary.appendChild(el("span", { class: "muted", text: "started " + fmtTime(s.startTime) }));
      summary.appendChild(el("div", { class: "toolbar" }, [
        el("button", { type: "button", text: "Expand all", onclick: function () { view.collapsed.clear(); view.dirty = true; schedule(); } }),
        el("button", { type: "button", text: "Collapse all", onclick: function () {
          view.children.forEach(function (_, id) { view.collapsed.add(id); }); view.dirty = true; schedule(); } })
      ]));
    }

    function renderAxis(t0, t1) {
      ticks.textContent = "";
      for (var i = 0; i <= 4; i++) {
        ticks.appendChild(el("span", { class: "tick", style: "left:" + (i * 25) + "%", text: i === 0 ? "0" : fmtDur((t1 - t0) * i / 4) }));
      }
    }

    function render() {
      if (view.dirty) { view.flatten(); view.dirty = false; }
      renderSummary();
      var range = view.span();
      var t0 = range[0], t1 = range[1], width = t1 - t0;
      renderAxis(t0, t1);
      spacer.style.height = (view.visible.length * ROW_H) + "px";
      var first = Math.max(0, Math.floor(scroller.scrollTop / ROW_H) - OVERSCAN);
      var last = Math.min(view.visible.length, Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW_H) + OVERSCAN);
      var fragment = document.createDocumentFragment();
      for (var i = first; i < last; i++) {
        var row = view.rows.get(view.visible[i]);
        var hasKids = view.children.has(row.id);
        var end = row.end === null ? (view.source ? Date.now() : t1) : row.end;
        var left = ((row.start - t0) / width) * 100;
        var barWidth = Math.max(((end - row.start) / width) * 100, 0.2);
        var tree = el("div", { class: "tree-row", "data-id": row.id, style: "padding-left:" + (6 + row.depth * 16) + "px" }, [
          el("span", { class: "caret", "data-caret": hasKids ? "1" : "", text: hasKids ? (view.collapsed.has(row.id) ? "▸" : "▾") : "" }),
          el("span", { class: "dot d-" + row.status, title: row.status }),
          el("span", { class: "name", text: row.name }),
          el("span", { class: "args", text: "(" + compact(row.input, 80).replace(/^\[|\]$/g, "") + ")" }),
          el("span", { class: "dur", text: row.end === null ? "open" : fmtDur(row.end - row.start) })
        ]);
        var bar = el("div", { class: "bar b-" + row.status, "data-id": row.id,
          title: row.name + " · " + row.status + " · " + (row.end === null ? "open" : fmtDur(row.end - row.start)),
          style: "left:" + Math.min(left, 99.8) + "%;width:" + Math.min(barWidth, 100 - left) + "%" });
        fragment.appendChild(el("div", { class: "row" + (row.id === view.selected ? " selected" : ""), "data-row": row.id, style: "top:" + (i * ROW_H) + "px" }, [
          tree, el("div", { class: "time-cell" }, [bar])
        ]));
      }
      spacer.textContent = "";
      spacer.appendChild(fragment);
    }

    spacer.addEventListener("click", function (event) {
      var target = event.target;
      var rowEl = target.closest ? target.closest("[data-row]") : null;
      if (!rowEl) return;
      var id = rowEl.getAttribute("data-row");
      if (target.getAttribute("data-caret") === "1") {
        if (view.collapsed.has(id)) view.collapsed.delete(id); else view.collapsed.add(id);
        view.dirty = true;
      } else {
        view.selected = id;
        showDetails(view.rows.get(id));
      }
      schedule();
    });

    function isPreview(value) {
      return value && typeof value === "object" && !Array.isArray(value) && "[Preview]" in value;
    }
    function showDetails(row) {
      details.textContent = "";
      var failed = row.status === "Failed" || row.status === "Cancelled";
      details.appendChild(el("h2", null, [row.name + " ", badge(row.status)]));
      details.appendChild(el("dl", null, [
        el("dt", { text: "request" }), el("dd", { class: "mono", text: row.id }),
        el("dt", { text: "node type" }), el("dd", { text: row.nodeType }),
        el("dt", { text: "started" }), el("dd", { text: fmtTime(row.start) }),
        el("dt", { text: "duration" }), el("dd", { text: row.end === null ? "open" : fmtDur(row.end - row.start) }),
        el("dt", { text: "children" }), el("dd", { text: String((view.children.get(row.id) || []).length) })
      ]));
      if (failed && row.output && typeof row.output === "object" && typeof row.output.message === "string") {
        details.appendChild(el("h3", { text: row.status === "Failed" ? "Error" : "Cancelled" }));
        details.appendChild(el("div", { class: "error-message", id: "error-message", text: (row.output.name || "Error") + ": " + row.output.message }));
        if (row.output.stack) details.appendChild(el("pre", { class: "stack", text: row.output.stack }));
      } else if (failed) {
        details.appendChild(el("h3", { text: "Error" }));
        details.appendChild(el("div", { class: "error-message", id: "error-message", text: compact(row.output, 500) }));
      }
      details.appendChild(el("h3", { text: "Input" }));
      details.appendChild(el("pre", { class: "input", text: pretty(row.input) }));
      if (!failed) {
        details.appendChild(el("h3", { text: "Output" }));
        details.appendChild(el("pre", { class: "output", text: row.end === null ? "(running)" : pretty(row.output) }));
      }
      if (isPreview(row.input) || isPreview(row.output)) {
        api("/api/runs/" + encodeURIComponent(view.runId) + "/requests/" + encodeURIComponent(row.id)).then(function (full) {
          row.input = full.input; row.output = full.output;
          if (view.selected === row.id) showDetails(row);
        });
      }
    }

    function connect(offset) {
      var source = new EventSource("/api/runs/" + encodeURIComponent(runId) + "/events?offset=" + offset);
      view.source = source;
      // Open bars grow with the clock even when no event arrives.
      var ticker = setInterval(schedule, 500);
      source.onmessage = function (message) {
        try { view.apply(JSON.parse(message.data)); } catch (e) { return; }
        schedule();
      };
      source.addEventListener("end", function () {
        clearInterval(ticker);
        source.close();
        view.source = null;
        load(false);
      });
    }

    function load(first) {
      api("/api/runs/" + encodeURIComponent(runId)).then(function (data) {
        if (stopped) return;
        view.reset(data);
        view.dirty = true;
        if (first) {
          app.textContent = "";
          app.appendChild(summary);
          app.appendChild(body);
          if (data.live) connect(data.eventsOffset);
        }
        if (view.selected && view.rows.has(view.selected)) showDetails(view.rows.get(view.selected));
        render();
      }).catch(function (e) { showError("Cannot show run " + runId + ": " + e.message); });
    }
    load(true);
    return function () { stopped = true; if (view.source) view.source.close(); };
  }

  var match = /^\/runs\/([^\/]+)\/?$/.exec(location.pathname);
  if (location.pathname === "/" || location.pathname === "/index.html") showList();
  else if (match) showRun(decodeURIComponent(match[1]));
  else showError("Nothing here. Back to the list of runs.");
})();
`;
