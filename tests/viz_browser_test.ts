/**
 * Drives the visualizer in headless Chromium (the system's, or the one in
 * the npm package `@sparticuz/chromium`) through playwright-core.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext } from "playwright-core";
import { call, node, Runner } from "../mod.ts";
import { EVENT_LOG_FORMAT } from "../persistence.ts";
import { serveViz } from "../viz.ts";
import { launchBrowser } from "./helpers/browser.ts";

const OUTPUT = new URL("../test-output/", import.meta.url).pathname;

/** The part of the page's DOM the predicates below use. */
type PageGlobals = {
  document: {
    querySelectorAll(selector: string): { length: number };
    querySelector(selector: string): { textContent: string | null } | null;
  };
};

/** Runs in the page: every selector matches exactly its count. */
const countsAre = (expected: Record<string, number>) =>
  Object.entries(expected).every(([selector, n]) =>
    (globalThis as unknown as PageGlobals).document.querySelectorAll(selector)
      .length === n
  );

/** Runs in the page: the run's badge says Completed and it is not live. */
const finished = () => {
  const { document } = globalThis as unknown as PageGlobals;
  return document.querySelector(".summary .badge")?.textContent ===
      "Completed" && document.querySelector(".summary .live") === null;
};

const leaf = node((x: number) => {
  if (x === 3) throw new RangeError("three is not allowed");
  return x * 2;
}, { name: "leaf" });
const fanOut = node(async function fanOut(xs: number[]) {
  const results = await Promise.allSettled(xs.map((x) => call(leaf, x)));
  return results.map((r) => r.status);
});
const saved = node(async function saved() {
  return [await call(fanOut, [1, 2, 3]), await call(leaf, 10)];
});

let browser: Browser | null = null;
async function launch(): Promise<BrowserContext> {
  browser = await launchBrowser();
  return await browser.newContext({ viewport: { width: 1400, height: 640 } });
}
async function closeBrowser(context: BrowserContext): Promise<void> {
  await context.close();
  await browser?.close();
  browser = null;
}

Deno.test("The visualizer lists runs, draws tree and timeline, shows errors and follows a live run", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-browser-" });
  await Deno.mkdir(OUTPUT, { recursive: true });
  {
    await using runner = new Runner({
      saveState: true,
      stateDir,
      runIdentifier: "saved-run",
      loggingSetting: "NONE",
    });
    await runner.run(saved);
  }
  const server = serveViz({ stateDir, port: 0, pollInterval: 20 });
  const context = await launch();
  const gate = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const finish = Promise.withResolvers<void>();
  const live = node(async function liveRun() {
    await call(leaf, 1);
    started.resolve();
    await gate.promise;
    await Promise.all([call(leaf, 2), call(leaf, 4)]);
    await finish.promise;
    return "done";
  });
  const liveRunner = new Runner({
    saveState: true,
    stateDir,
    runIdentifier: "live-run",
    loggingSetting: "NONE",
  });
  let running: Promise<unknown> | null = null;
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });

    // The run list shows the saved run.
    await page.goto(server.url);
    const row = page.locator('tr.run-row[data-run-id="saved-run"]');
    await row.waitFor();
    assert.match(await row.innerText(), /Completed\s+saved/);

    // Its page draws one tree row and one timeline bar per request.
    await row.click();
    await page.waitForURL(/\/runs\/saved-run$/);
    await page.locator(".tree-row").nth(5).waitFor();
    assert.equal(await page.locator(".tree-row").count(), 6);
    assert.equal(await page.locator(".time-cell .bar").count(), 6);
    assert.equal(
      await page.locator("#request-count").innerText(),
      "6 requests",
    );
    const names = await page.locator(".tree-row .name").allInnerTexts();
    assert.deepEqual(names, [
      "saved",
      "fanOut",
      "leaf",
      "leaf",
      "leaf",
      "leaf",
    ]);
    assert.equal(await page.locator(".bar.b-Failed").count(), 1);

    // Collapsing fanOut hides its three leaves.
    const fanOutRow = page.locator(".tree-row", { hasText: "fanOut" });
    await fanOutRow.locator(".caret").click();
    await page.waitForFunction(countsAre, { ".tree-row": 3 });
    await fanOutRow.locator(".caret").click();
    await page.waitForFunction(countsAre, { ".tree-row": 6 });

    // Clicking the failed request shows its error.
    await page.locator(".tree-row:has(.dot.d-Failed)").click();
    const error = page.locator("#details #error-message");
    await error.waitFor();
    assert.equal(await error.innerText(), "RangeError: three is not allowed");
    await page.screenshot({ path: `${OUTPUT}viz_run.png` });

    // A live run gains requests without a reload.
    running = liveRunner.run(live);
    await started.promise;
    await page.goto(`${server.url}runs/live-run`);
    await page.locator(".summary .live").waitFor();
    await page.waitForFunction(countsAre, { ".tree-row": 2 });
    await page.evaluate(() => {
      (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    gate.resolve();
    await page.waitForFunction(countsAre, {
      ".tree-row": 4,
      ".time-cell .bar": 4,
    });
    assert.equal(
      await page.locator("#request-count").innerText(),
      "4 requests",
    );
    await page.screenshot({ path: `${OUTPUT}viz_live.png` });
    finish.resolve();
    await running;
    await liveRunner.shutdown();
    await page.waitForFunction(finished);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    );
    assert.deepEqual(problems, []);

    // The run list now has both runs, newest first.
    await page.goto(server.url);
    await page.locator("tr.run-row").nth(1).waitFor();
    const ids = await page.locator("tr.run-row").evaluateAll((rows) =>
      rows.map((r) => r.getAttribute("data-run-id"))
    );
    assert.deepEqual(ids, ["live-run", "saved-run"]);
    await page.screenshot({ path: `${OUTPUT}viz_list.png` });
  } finally {
    gate.resolve();
    finish.resolve();
    await running?.catch(() => {});
    await liveRunner.shutdown();
    await closeBrowser(context);
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});

/** Writes the event log of a finished run with 100 groups of 99 leaves. */
async function writeBigRun(stateDir: string, runId: string): Promise<number> {
  const lines: string[] = [JSON.stringify({
    event: "start",
    format: EVENT_LOG_FORMAT,
    runId,
    time: 1_767_225_600_000,
    pid: 1,
  })];
  let step = 0;
  const created = (request: string, parentNode: string | null, name: string) =>
    lines.push(JSON.stringify({
      event: "created",
      time: 1_767_225_600_000 + step,
      step: step++,
      request,
      parentNode,
      node: `n-${request}`,
      name,
      nodeType: "async",
      args: [request],
    }));
  const completed = (request: string) =>
    lines.push(JSON.stringify({
      event: "completed",
      time: 1_767_225_600_000 + step,
      step: step++,
      request,
      output: request.length,
    }));
  created("root", null, "big");
  for (let g = 0; g < 100; g++) {
    created(`g${g}`, "n-root", "group");
    for (let i = 0; i < 99; i++) created(`g${g}-${i}`, `n-g${g}`, "leaf");
    for (let i = 0; i < 99; i++) completed(`g${g}-${i}`);
    completed(`g${g}`);
  }
  completed("root");
  await Deno.mkdir(`${stateDir}/runs`, { recursive: true });
  await Deno.writeTextFile(
    `${stateDir}/runs/${runId}.events.jsonl`,
    lines.join("\n") + "\n",
  );
  return 1 + 100 + 100 * 99;
}

Deno.test("The visualizer draws a 10k-request run with only the rows in view", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-big-" });
  const total = await writeBigRun(stateDir, "big-run");
  const server = serveViz({ stateDir, port: 0 });
  const context = await launch();
  try {
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto(`${server.url}runs/big-run`);
    await page.locator(".tree-row").first().waitFor();
    assert.equal(
      await page.locator("#request-count").innerText(),
      `${total} requests`,
    );
    const inDom = await page.locator(".tree-row").count();
    assert.ok(inDom > 10 && inDom < 100, `${inDom} rows in the DOM`);
    // Scrolling to the end draws the last leaf of the last group.
    await page.locator("#rows").evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.locator('.tree-row[data-id="g99-98"]').waitFor();
    // Collapsing everything leaves the root alone.
    await page.getByRole("button", { name: "Collapse all" }).click();
    await page.waitForFunction(countsAre, { ".tree-row": 1 });
    await page.getByRole("button", { name: "Expand all" }).click();
    await page.locator("#rows").evaluate((el) => {
      el.scrollTop = 0;
    });
    await page.locator('.tree-row[data-id="g0"]').waitFor();
    await page.screenshot({ path: `${OUTPUT}viz_big.png` });
  } finally {
    await closeBrowser(context);
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});
