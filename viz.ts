/**
 * The local visualizer: a web page served on 127.0.0.1 that lists saved runs
 * and draws each as a tree and a timeline, following running ones live.
 *
 * @example Serve the visualizer on a free port
 * ```ts
 * import { serveViz } from "@switchyard/core/viz";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * const server = serveViz({ port: 0, stateDir });
 * const page = await fetch(server.url);
 * assert.equal(page.status, 200);
 * await page.body?.cancel();
 * await server.shutdown();
 * ```
 *
 * @module
 */

export { serveViz, type VizOptions, type VizServer } from "./src/viz/server.ts";
