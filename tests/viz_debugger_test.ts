/**
 * The visualizer as a debugger, driven in headless Chromium: finding
 * failures, filtering, counts on collapsed parents, node types, retry
 * attempts, a worker failure's own stack, a narrow window, a missing run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { call, node, Runner } from "../mod.ts";
import { serveViz } from "../viz.ts";
import { report } from "./fixtures/viz_worker_failure.ts";
import { launchBrowser } from "./helpers/browser.ts";

/** The page's DOM, as the functions run in the browser use it (no DOM types here). */
// deno-lint-ignore no-explicit-any
declare const document: any;
// deno-lint-ignore no-explicit-any
type Element = any;

const OUTPUT = new URL("../test-output/", import.meta.url).pathname;
const TYPES = ["worker", "process", "remote", "state", "routine", "async"];
const T0 = 1_767_225_600_000;

/**
 * Writes a finished 1,200-request run: a root, 11 groups (one per node
 * type, in turn) of 108 leaves; 8 leaves fail, 2 are cancelled, one was
 * retried twice before it succeeded, one has an argument of 10 kB.
 */
async function writeDebugRun(stateDir: string): Promise<string[]> {
  const lines = [JSON.stringify({
    event: "start",
    format: "switchyard.events/1",
    runId: "debug",
    time: T0,
    pid: 1,
  })];
  let step = 0;
  const event = (value: Record<string, unknown>) =>
    lines.push(JSON.stringify({ time: T0 + step * 3, step: step++, ...value }));
  const failures: string[] = [];
  event({
    event: "created",
    request: "root",
    parentNode: null,
    node: "n-root",
    name: "nightly",
    nodeType: "async",
    args: [],
  });
  for (let g = 0; g < 11; g++) {
    event({
      event: "created",
      request: `g${g}`,
      parentNode: "n-root",
      node: `n-g${g}`,
      name: `batch${g}`,
      nodeType: TYPES[g % TYPES.length],
      args: [g],
    });
    for (let i = 0; i < 108; i++) {
      const id = `g${g}-${i}`;
      const flaky = g === 2 && i === 5;
      const huge = g === 3 && i === 1;
      event({
        event: "created",
        request: id,
        parentNode: `n-g${g}`,
        node: `n-${id}`,
        name: flaky ? "flaky" : huge ? "huge" : "leaf",
        nodeType: TYPES[(g + i) % TYPES.length],
        args: huge ? ["y".repeat(10_000)] : [{ g, i }],
      });
      const fails = (g * 108 + i) % 150 === 77;
      const cancelled = g === 9 && (i === 3 || i === 4);
      if (fails) failures.push(id);
      event(
        fails
          ? {
            event: "failed",
            request: id,
            output: {
              name: "RangeError",
              message: `item ${id} is out of range`,
              stack:
                `RangeError: item ${id} is out of range\n    at leaf (file:///app/leaf.ts:3:9)`,
            },
          }
          : cancelled
          ? { event: "cancelled", request: id, output: { name: "AbortError", message: "stopped" } }
          : {
            event: "completed",
            request: id,
            output: i,
            ...(flaky
              ? {
                attempts: [
                  {
                    attempt: 1,
                    start: T0 + 10,
                    end: T0 + 20,
                    error: { name: "Error", message: "connection reset" },
                  },
                  {
                    attempt: 2,
                    start: T0 + 40,
                    end: T0 + 50,
                    error: { name: "Error", message: "connection reset again" },
                  },
                  { attempt: 3, start: T0 + 90, end: T0 + 95, status: "Completed" },
                ],
              }
              : {}),
          },
      );
    }
    event({ event: "completed", request: `g${g}`, output: g });
  }
  event({ event: "completed", request: "root", output: "done" });
  await Deno.mkdir(join(stateDir, "runs"), { recursive: true });
  await Deno.writeTextFile(join(stateDir, "runs", "debug.events.jsonl"), lines.join("\n") + "\n");
  return failures;
}

/** Rows drawn, with whether each lies fully inside the scroller's box. */
async function rowsInView(
  page: Page,
): Promise<Array<{ id: string; status: string; inView: boolean }>> {
  return await page.locator("#rows").evaluate((scroller) => {
    const box = scroller.getBoundingClientRect();
    return [...scroller.querySelectorAll("[data-row]")].map((row) => {
      const r = row.getBoundingClientRect();
      return {
        id: row.getAttribute("data-row")!,
        status: row.getAttribute("data-status")!,
        inView: r.top >= box.top && r.bottom <= box.bottom,
      };
    });
  });
}

async function withViz(
  body: (page: Page, url: string, stateDir: string) => Promise<void>,
  width = 1280,
): Promise<void> {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-debugger-" });
  await Deno.mkdir(OUTPUT, { recursive: true });
  const server = serveViz({ stateDir, port: 0 });
  let browser: Browser | null = null;
  try {
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width, height: 720 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    await body(page, server.url, stateDir);
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await browser?.close();
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
}

Deno.test("The visualizer finds the 8 failures of a 1,200-request run without scrolling", async () => {
  await withViz(async (page, url, stateDir) => {
    const failures = await writeDebugRun(stateDir);
    assert.equal(failures.length, 8);
    await page.goto(`${url}runs/debug`);
    await page.locator(".tree-row").first().waitFor();
    assert.equal(await page.locator("#request-count").innerText(), "1200 requests");
    assert.equal(await page.locator("#count-failed").innerText(), "8 failed");
    assert.equal(await page.locator("#count-cancelled").innerText(), "2 cancelled");

    // Clicking the failed count shows the failures and their callers, all in view.
    await page.locator("#count-failed").click();
    await page.waitForFunction(() =>
      document.querySelectorAll('[data-row][data-status="Failed"]').length === 8
    );
    const shown = await rowsInView(page);
    const failed = shown.filter((r) => r.status === "Failed");
    assert.deepEqual(failed.map((r) => r.id).sort(), [...failures].sort());
    assert.ok(failed.every((r) => r.inView), JSON.stringify(failed));
    assert.equal(await page.locator("#rows").evaluate((el) => el.scrollTop), 0);
    await page.screenshot({ path: `${OUTPUT}viz_failures_1280.png` });

    // Clicking it again shows everything; the cancelled count filters too.
    await page.locator("#count-failed").click();
    await page.locator("#count-cancelled").click();
    await page.waitForFunction(() =>
      document.querySelectorAll('[data-row][data-status="Cancelled"]').length === 2 &&
      document.querySelectorAll("[data-row]").length === 4
    );
    await page.locator("#count-cancelled").click();

    // With everything collapsed, the root tells how many failed below it,
    // and "next failure" walks all 8 in tree order, expanding as it goes.
    await page.getByRole("button", { name: "Collapse all" }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-row]").length === 1);
    assert.equal(await page.locator(".row .below.failed").innerText(), "✕ 8");
    assert.equal(await page.locator(".row .below.cancelled").innerText(), "⊘ 2");
    const visited: string[] = [];
    for (let n = 0; n < 8; n++) {
      await page.locator("#next-failure").click();
      const selected = page.locator(".row.selected");
      await page.waitForFunction(
        (seen) => {
          const row = document.querySelector(".row.selected");
          return row !== null && !seen.includes(row.getAttribute("data-row")!) &&
            document.querySelector("#details #error-message") !== null;
        },
        visited,
        { timeout: 8000 },
      ).catch(async (error) => {
        const state = await page.evaluate(() => ({
          selected: document.querySelector(".row.selected")?.getAttribute("data-row"),
          rows: document.querySelectorAll("[data-row]").length,
          info: document.querySelector("#filter-info")?.textContent,
          top: document.querySelector("#rows").scrollTop,
          details: document.querySelector("#details")?.textContent.slice(0, 200),
        }));
        throw new Error(`after ${visited}: ${JSON.stringify(state)}`, { cause: error });
      });
      const id = (await selected.getAttribute("data-row"))!;
      visited.push(id);
      assert.equal(await selected.getAttribute("data-status"), "Failed");
      const view = await rowsInView(page);
      assert.ok(view.find((r) => r.id === id)?.inView, `${id} is in view`);
      assert.match(await page.locator("#details #error-message").innerText(), /out of range/);
    }
    assert.deepEqual(visited, failures);
    // It wraps around; "previous" goes back.
    await page.locator("#prev-failure").click();
    await page.waitForFunction(
      (id) => document.querySelector(".row.selected")?.getAttribute("data-row") === id,
      failures[6],
    );
  });
});

Deno.test("The visualizer filters by name and status, shows node types, attempts and plain labels", async () => {
  await withViz(async (page, url, stateDir) => {
    await writeDebugRun(stateDir);
    await page.goto(`${url}runs/debug`);
    await page.locator(".tree-row").first().waitFor();
    const types = new Set(await page.locator(".tree-row .type").allInnerTexts());
    for (const type of TYPES) assert.ok(types.has(type), `${type} shown in ${[...types]}`);

    // No row label shows the preview wrapper, even for a 10 kB argument.
    await page.locator("#search").fill("huge");
    await page.waitForFunction(() =>
      [...document.querySelectorAll(".tree-row .name")].some((n) => n.textContent === "huge")
    );
    const args = await page.locator(".row:not(.context) .args").innerText();
    assert.match(args, /^\("yyyy/);
    assert.doesNotMatch(await page.locator("#rows").innerText(), /\[Preview\]|\[Bytes\]/);

    // The retried request lists its attempts.
    await page.locator("#search").fill("flaky");
    const flaky = page.locator(".row:not(.context)", { hasText: "flaky" });
    await flaky.waitFor();
    assert.equal(await flaky.locator(".tries").innerText(), "×3");
    await flaky.click();
    const attempts = page.locator("#attempts li");
    await attempts.nth(2).waitFor();
    assert.equal(await attempts.count(), 3);
    assert.match(await attempts.nth(0).innerText(), /Attempt 1[\s\S]*connection reset/);
    assert.match(await attempts.nth(2).innerText(), /Attempt 3[\s\S]*Completed/);
    await page.screenshot({ path: `${OUTPUT}viz_attempts_1280.png` });

    // Name and status filters combine.
    await page.locator("#search").fill("leaf");
    await page.locator("#status-filter").selectOption("Cancelled");
    await page.waitForFunction(() =>
      document.querySelectorAll('.row:not(.context)[data-status="Cancelled"]').length === 2 &&
      document.querySelectorAll(".row:not(.context)").length === 2
    );

    // A request without attempts renders without an attempts list.
    await page.locator("#search").fill("");
    await page.locator("#status-filter").selectOption("");
    await page.locator('.row[data-row="g0"]').click();
    // The panel may still show the row chosen before until g0's record arrives.
    await page.waitForFunction(() =>
      document.querySelector("#details dd.mono")?.textContent === "g0"
    );
    assert.equal(await page.locator("#details #node-type").innerText(), "worker");
    assert.equal(await page.locator("#attempts").count(), 0);
  });
});

Deno.test("The visualizer is usable 800 px wide: whole durations, separate axis labels", async () => {
  await withViz(async (page, url, stateDir) => {
    await writeDebugRun(stateDir);
    await page.goto(`${url}runs/debug`);
    await page.locator(".tree-row").nth(20).waitFor();
    await page.locator("#next-failure").click();
    await page.locator("#details #error-message").waitFor();
    await page.waitForFunction(() =>
      document.querySelector('.row.selected[data-row="g0-77"]') !== null &&
      document.querySelectorAll(".tree-row").length > 10
    );
    const layout = await page.evaluate(() => {
      const box = (el: Element) => el.getBoundingClientRect();
      const durations = [...document.querySelectorAll(".tree-row")].map((row) => {
        const dur = row.querySelector(".dur")!;
        return {
          text: dur.textContent,
          cut: dur.scrollWidth > dur.clientWidth || box(dur).right > box(row).right + 0.5 ||
            box(dur).width < 1,
        };
      });
      const ticks = [...document.querySelectorAll(".axis .tick")].map(box);
      const overlaps = ticks.slice(1).filter((t, i) => t.left < ticks[i].right);
      const axis = box(document.querySelector(".axis .ticks")!);
      const outside = ticks.filter((t) => t.left < axis.left - 0.5 || t.right > axis.right + 0.5);
      return {
        width: document.documentElement.clientWidth,
        horizontalScroll:
          document.documentElement.scrollWidth > document.documentElement.clientWidth,
        pageScroll: document.documentElement.scrollHeight > document.documentElement.clientHeight,
        header: box(document.querySelector(".summary")).top,
        durations,
        overlaps: overlaps.length,
        outside: outside.length,
        ticks: ticks.length,
      };
    });
    assert.equal(layout.width, 800);
    assert.equal(layout.horizontalScroll, false);
    // The page itself does not scroll: the header stays, the rows scroll.
    assert.equal(layout.pageScroll, false);
    assert.ok(layout.header >= 0);
    assert.ok(layout.durations.length > 10);
    assert.deepEqual(layout.durations.filter((d) => d.cut), []);
    assert.ok(layout.ticks >= 2);
    assert.equal(layout.overlaps, 0);
    assert.equal(layout.outside, 0);
    await page.screenshot({ path: `${OUTPUT}viz_800.png` });
  }, 800);
});

Deno.test("The visualizer shows a worker failure's own stack line, and a missing run as a page", async () => {
  await withViz(async (page, url, stateDir) => {
    let tries = 0;
    const flaky = node(() => {
      if (++tries < 3) throw new Error(`connection reset (try ${tries})`);
      return "fetched";
    }, { name: "fetchFeed", retries: 2, retryDelay: 1 });
    const nightly = node(async function nightly() {
      await call(flaky);
      return await call(report, "weekly").catch(() => "recovered");
    });
    {
      await using runner = new Runner({
        saveState: true,
        stateDir,
        runIdentifier: "worker-run",
        loggingSetting: "NONE",
      });
      await runner.run(nightly);
    }
    await page.goto(`${url}runs/worker-run`);
    const failed = page.locator('.row[data-status="Failed"]');
    await failed.waitFor();
    assert.equal(await failed.locator(".type").innerText(), "worker");
    await failed.click();
    const stack = page.locator("#details pre.stack").first();
    await stack.waitFor();
    // The first stack shown is the user's: the function that threw, in its file.
    assert.match(
      await stack.innerText(),
      /^RangeError: cannot write report weekly: disk full\n\s+at writeReport \(.*viz_worker_failure\.ts:10:\d+\)/,
    );
    await page.screenshot({ path: `${OUTPUT}viz_worker_failure.png` });

    // A retried node of a real run lists its attempts, with their errors.
    const retried = page.locator(".row", { hasText: "fetchFeed" });
    assert.equal(await retried.locator(".tries").innerText(), "×3");
    await retried.click();
    await page.locator("#attempts li").nth(2).waitFor();
    assert.equal(await page.locator("#attempts li").count(), 3);
    assert.match(
      await page.locator("#attempts li").nth(0).innerText(),
      /Attempt 1[\s\S]*Failed[\s\S]*connection reset \(try 1\)/,
    );
    assert.match(
      await page.locator("#attempts li").nth(2).innerText(),
      /Attempt 3[\s\S]*Completed/,
    );
    await page.screenshot({ path: `${OUTPUT}viz_retried.png` });

    const response = await page.goto(`${url}runs/no-such-run`);
    assert.equal(response?.status(), 404);
    await page.locator("#notice h1").waitFor();
    assert.match(await page.locator("#notice h1").innerText(), /No saved run “no-such-run”/);
    assert.equal(await page.locator("#notice a").getAttribute("href"), "/");
  });
});
