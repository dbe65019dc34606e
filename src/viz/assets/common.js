/**
 * Helpers shared by the visualizer's page modules: building elements,
 * formatting times, calling the JSON API, and a notice page.
 */

/** Where the page draws. */
export const app = /** @type {HTMLElement} */ (document.getElementById("app"));
/** The header's breadcrumb. */
export const crumb = /** @type {HTMLElement} */ (document.getElementById("crumb"));

/**
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {Array<Node | string | null | undefined | false>} [children]
 * @returns {HTMLElement}
 */
export function el(tag, attrs, children) {
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
export function fmtDur(ms) {
  if (ms === null || ms === undefined || !isFinite(ms) || ms < 0) return "";
  if (ms === 0) return "<1 ms";
  if (ms < 1000) return ms.toFixed(ms < 10 ? 1 : 0) + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(2) + " s";
  return Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
}
/** @param {number | null | undefined} ms */
export function fmtTime(ms) {
  return ms === null || ms === undefined ? "-" : new Date(ms).toLocaleString();
}

export class HttpError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}
/** @param {string} path @returns {Promise<any>} */
export async function api(path) {
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
export function badge(status) {
  return el("span", { class: "badge s-" + status, text: status });
}
/** @param {unknown} value */
export function pretty(value) {
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
export function showNotice(title, message) {
  app.textContent = "";
  app.appendChild(el("div", { class: "notice", id: "notice" }, [
    el("h1", { text: title }),
    el("p", { text: message }),
    el("p", null, [el("a", { href: "/", text: "← All saved runs" })]),
  ]));
}
