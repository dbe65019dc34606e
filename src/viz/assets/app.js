/**
 * The visualizer's page: plain browser JavaScript modules served as they
 * are, linted with the rest; their JSDoc types are checked against the DOM
 * on their own (see tests/viz_assets_test.ts). This one routes.
 */
import { showNotice } from "./common.js";
import { showList } from "./list.js";
import { showRun } from "./run_view.js";

const match = /^\/runs\/([^/]+)\/?$/.exec(location.pathname);
if (location.pathname === "/" || location.pathname === "/index.html") showList();
else if (match) showRun(decodeURIComponent(match[1]));
else showNotice("Nothing here", "This address is not a page of the visualizer.");
