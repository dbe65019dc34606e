/**
 * The visualizer's page, read once from the files beside this module
 * (`assets/index.html`, `assets/app.css` and the script modules): from disk when
 * the library is loaded from files (a checkout, or a binary compiled with
 * `--include src/viz/assets/`), else over HTTP from where the module came
 * (a URL import, JSR).
 *
 * @module
 */

/** The files served, by URL path, with their media types. */
export const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  "index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "app.css": { file: "app.css", type: "text/css; charset=utf-8" },
  "app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "common.js": { file: "common.js", type: "text/javascript; charset=utf-8" },
  "list.js": { file: "list.js", type: "text/javascript; charset=utf-8" },
  "run_view.js": { file: "run_view.js", type: "text/javascript; charset=utf-8" },
  "details.js": { file: "details.js", type: "text/javascript; charset=utf-8" },
};

const loaded = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

async function read(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  if (url.protocol === "file:") return await Deno.readFile(url);
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`Cannot load the visualizer's page as ${url} answered ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * The bytes of one page file (read once, then kept).
 *
 * @param name A key of {@linkcode ASSETS}.
 * @returns Its content.
 */
export function asset(name: keyof typeof ASSETS & string): Promise<Uint8Array<ArrayBuffer>> {
  let bytes = loaded.get(name);
  if (!bytes) {
    bytes = read(new URL(`./assets/${ASSETS[name].file}`, import.meta.url));
    // A failed read is tried again next time.
    bytes.catch(() => loaded.delete(name));
    loaded.set(name, bytes);
  }
  return bytes;
}
