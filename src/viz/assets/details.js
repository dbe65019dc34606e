/** The details panel: one request's record, its error chain and attempts. */
import { badge, el, fmtDur, fmtTime, pretty } from "./common.js";

/**
 * An error with its cause chain: the message first, then the stack of
 * the error the user's code threw (the innermost cause), then the
 * wrappers that reported it.
 * @param {any} error @param {HTMLElement} into
 * @param {boolean} [folded] Stacks folded away (in an attempt's entry).
 */
export function showError(error, into, folded = false) {
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
/**
 * Draws one request's record into the details panel.
 * @param {HTMLElement} details The panel.
 * @param {any} row The record from the requests API.
 */
export function renderDetails(details, row) {
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
