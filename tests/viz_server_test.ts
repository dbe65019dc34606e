import assert from "node:assert/strict";
import { call, ErrorHandler, Flow, node, Routine, Runner } from "../mod.ts";
import { listRuns } from "../persistence.ts";
import { serveViz } from "../viz.ts";

const fixtureState = new URL("./fixtures", import.meta.url).pathname;

/** Sends a request byte for byte (fetch would normalise the path). */
async function rawGet(
  port: number,
  path: string,
  host = `127.0.0.1:${port}`,
): Promise<{ status: number; head: string; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buffer = new Uint8Array(65536);
    const decoder = new TextDecoder();
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
    const split = text.indexOf("\r\n\r\n");
    return {
      status: Number(text.split(" ")[1]),
      head: text.slice(0, split).toLowerCase(),
      body: text.slice(split + 4),
    };
  } finally {
    conn.close();
  }
}

Deno.test("serveViz() listens on 127.0.0.1 and serves the page, its assets and the run list", async () => {
  const server = serveViz({ stateDir: fixtureState, port: 0 });
  try {
    assert.equal(server.url, `http://127.0.0.1:${server.port}/`);
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    assert.match(
      page.headers.get("content-security-policy")!,
      /default-src 'self'/,
    );
    assert.equal(page.headers.get("access-control-allow-origin"), null);
    assert.match(await page.text(), /<script type="module" src="\/app.js">/);
    for (
      const asset of ["app.js", "common.js", "list.js", "run_view.js", "details.js", "app.css"]
    ) {
      const response = await fetch(server.url + asset);
      assert.equal(response.status, 200);
      assert.ok((await response.text()).length > 300, asset);
    }
    const runs = await (await fetch(`${server.url}api/runs`)).json();
    assert.deepEqual(
      runs.map((r: { runId: string; status: string }) => [r.runId, r.status]),
      [
        ["fixture-crashed", "Crashed"],
        ["fixture-done", "Completed"],
      ],
    );
    const run = await (await fetch(`${server.url}api/runs/fixture-done`))
      .json();
    assert.equal(run.requests, 6);
    assert.equal(run.failed, 1);
    const rows = await (await fetch(`${server.url}api/runs/fixture-done/rows`)).json();
    assert.equal(rows.total, 6);
    assert.equal(rows.rows[5].status, "Failed");
    const failed = await (await fetch(`${server.url}api/runs/fixture-done/requests/r-c`)).json();
    assert.equal(failed.output.message, "binary file c.bin");
    const request = await fetch(
      `${server.url}api/runs/fixture-done/requests/r-c`,
    );
    assert.equal((await request.json()).name, "analyse");
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveViz() names a run of several top-level requests as switchyard ls does", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-name-" });
  const load = node(async () => 1, { name: "Load" });
  const report = node(async () => 2, { name: "Report" });
  {
    await using runner = new Runner({
      saveState: true,
      stateDir,
      runIdentifier: "two-roots",
      loggingSetting: "NONE",
    });
    await runner.run(load);
    await runner.run(report);
  }
  const server = serveViz({ stateDir, port: 0 });
  try {
    const [listed] = await listRuns(stateDir);
    assert.equal(listed.name, "Load, Report");
    const runs = await (await fetch(`${server.url}api/runs`)).json();
    assert.deepEqual(runs.map((r: { name: string }) => r.name), ["Load, Report"]);
    const run = await (await fetch(`${server.url}api/runs/two-roots`)).json();
    assert.equal(run.name, "Load, Report");
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("serveViz() shows a failed flow job as Failed, as switchyard ls does, though each request ended", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-job-" });
  class Start extends Routine {
    constructor() {
      super();
      this.defineSlot("trigger", () => this.emit("go", {}));
      this.defineEvent("go", []);
    }
  }
  class Boom extends Routine {
    constructor() {
      super();
      this.defineSlot("input", () => {
        throw new Error("boom");
      });
    }
  }
  const flow = new Flow({ flowId: "boom", saveState: true, stateDir });
  flow.addRoutine(new Start(), "start");
  flow.addRoutine(new Boom(), "boom");
  flow.connect("start", "go", "boom", "input");
  flow.setErrorHandler(new ErrorHandler({ strategy: "stop" }));
  const job = await flow.execute("start", { entryParams: {} });
  await flow.waitForCompletion({ jobState: job, timeout: 10_000 });
  assert.equal(job.status, "failed");
  const server = serveViz({ stateDir, port: 0 });
  try {
    const [listed] = await listRuns(stateDir);
    assert.equal(listed.status, "Failed");
    const runs = await (await fetch(`${server.url}api/runs`)).json();
    assert.deepEqual(runs.map((r: { status: string }) => r.status), ["Failed"]);
    const run = await (await fetch(`${server.url}api/runs/${job.jobId}`)).json();
    assert.equal(run.status, "Failed");
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("serveViz() answers 404 for unknown runs and 400 for traversal, bad ids and foreign hosts", async () => {
  const server = serveViz({ stateDir: fixtureState, port: 0 });
  try {
    const cases: Array<[string, number]> = [
      ["/api/runs/no-such-run", 404],
      ["/api/runs/fixture-done/requests/nope", 404],
      ["/api/runs/fixture-done/events/extra", 404],
      ["/runs/../../etc/passwd", 400],
      ["/api/runs/..%2F..%2Fetc%2Fpasswd", 400],
      ["/api/runs/%2e%2e/%2e%2e/etc/passwd", 400],
      ["/api/runs/a%5c..%5cb", 400],
      ["/api/runs/fixture-done/../../../../etc/passwd", 400],
      ["/api/runs/bad%20id", 400],
      ["/api/runs/%E0%A4%A", 400],
    ];
    for (const [path, status] of cases) {
      const response = await rawGet(server.port, path);
      assert.equal(response.status, status, path);
      assert.doesNotMatch(response.body, /root:|passwd:/);
      assert.match(response.body, /"error"/, path);
    }
    // An unknown run's page is a page that says so, with a 404.
    for (const path of ["/runs/no-such-run", "/elsewhere"]) {
      const missing = await rawGet(server.port, path);
      assert.equal(missing.status, 404, path);
      assert.match(missing.head, /content-type: text\/html/, path);
    }
    const foreign = await rawGet(server.port, "/api/runs", "evil.example");
    assert.equal(foreign.status, 400);
    const post = await fetch(`${server.url}api/runs`, { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveViz() streams a running run's new events, then ends", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-" });
  const server = serveViz({ stateDir, port: 0, pollInterval: 10 });
  try {
    const gate = Promise.withResolvers<void>();
    const started = Promise.withResolvers<void>();
    const step = node((x: number) => x, { name: "step" });
    const root = node(async () => {
      started.resolve();
      await gate.promise;
      return await call(step, 7);
    }, { name: "root" });
    const runner = new Runner({
      saveState: true,
      stateDir,
      runIdentifier: "streamed",
      loggingSetting: "NONE",
    });
    const running = runner.run(root);
    await started.promise;
    // The log is written in batches: wait for the one holding the root.
    let first;
    do {
      first = await (await fetch(`${server.url}api/runs/streamed`)).json();
    } while (first.requests === 0 && await new Promise((resolve) => setTimeout(resolve, 5, true)));
    assert.equal(first.live, true);
    assert.equal(first.status, "Open");
    assert.equal(first.requests, 1);
    const response = await fetch(
      `${server.url}api/runs/streamed/events?offset=${first.eventsOffset}`,
    );
    assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    const waitFor = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
        text += value;
      }
    };
    gate.resolve();
    await running;
    await waitFor(/"event":"created".*"name":"step"/);
    assert.doesNotMatch(text, /"name":"root"/);
    await runner.shutdown();
    await waitFor(/event: end/);
    assert.match(text, /"event":"saved"/);
    reader.releaseLock();
    await response.body?.cancel().catch(() => {});
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});
