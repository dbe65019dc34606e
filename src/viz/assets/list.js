/** The list of saved runs, refreshed while one of them runs. */
import { api, app, badge, crumb, el, fmtDur, fmtTime, showNotice } from "./common.js";

export function showList() {
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
        text: "No saved runs yet. Run a workflow with saveState (switchyard run saves by default).",
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
