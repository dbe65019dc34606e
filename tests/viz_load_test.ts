/**
 * The visualizer's limits under load: live streams are capped, the SSE
 * offset must be a line boundary, idle connections are closed, open
 * connections are capped, a live stream reads the log no faster than its
 * client takes it, and a run is served a slice of rows at a time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { serveViz } from "../viz.ts";
import { eventStream } from "../src/viz/_event_stream.ts";
import { CHUNK_BYTES } from "../src/viz/_lines.ts";

/** Writes a finished run of `n` leaves under one root; returns the log's path. */
async function writeRun(stateDir: string, runId: string, n: number, pad = 0): Promise<string> {
  const lines = [JSON.stringify({
    event: "start",
    format: "switchyard.events/1",
    runId,
    time: 1_767_225_600_000,
    pid: 1,
  })];
  let step = 0;
  const event = (value: Record<string, unknown>) =>
    lines.push(JSON.stringify({ time: 1_767_225_600_000 + step, step: step++, ...value }));
  event({
    event: "created",
    request: "root",
    parentNode: null,
    node: "n-root",
    name: "root",
    nodeType: "async",
    args: [],
  });
  for (let i = 0; i < n; i++) {
    event({
      event: "created",
      request: `r${i}`,
      parentNode: "n-root",
      node: `n${i}`,
      name: "leaf",
      nodeType: "async",
      args: [i, "x".repeat(pad)],
    });
    event({ event: i % 100 === 7 ? "failed" : "completed", request: `r${i}`, output: { i } });
  }
  event({ event: "completed", request: "root", output: n });
  await Deno.mkdir(join(stateDir, "runs"), { recursive: true });
  const path = join(stateDir, "runs", `${runId}.events.jsonl`);
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/** Reads an SSE response until `pattern` shows up. */
async function readUntil(response: Response, pattern: RegExp): Promise<string> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  return text;
}

Deno.test("serveViz() accepts an SSE offset only at a line boundary of the log", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-load-" });
  const path = await writeRun(stateDir, "run", 3);
  const server = serveViz({ stateDir, port: 0 });
  try {
    const text = await Deno.readTextFile(path);
    const second = text.indexOf("\n") + 1;
    const cases: Array<[string, number, RegExp]> = [
      ["abc", 400, /'offset' must be a whole number of bytes: current value is "abc"/],
      ["-1", 400, /whole number/],
      ["1.5", 400, /whole number/],
      ["1e3", 400, /whole number/],
      ["9".repeat(40), 400, /whole number/],
      [String(second + 3), 400, /must be at a line boundary .* current value is \d+/],
      [String(text.length + 10), 400, /line boundary/],
    ];
    for (const [offset, status, message] of cases) {
      const response = await fetch(`${server.url}api/runs/run/events?offset=${offset}`);
      assert.equal(response.status, status, offset);
      assert.match((await response.json()).error, message, offset);
    }
    // At a boundary: the stream starts with the line there, and ends.
    const response = await fetch(`${server.url}api/runs/run/events?offset=${second}`);
    assert.equal(response.status, 200);
    const events = await readUntil(response, /event: end/);
    assert.match(events, /^retry: 1000\n\ndata: \{"time":1767225600000,"step":0,"event":"created"/);
    assert.doesNotMatch(events, /"event":"start"/);
    // A reconnecting browser's Last-Event-ID is checked the same way.
    const resumed = await fetch(`${server.url}api/runs/run/events`, {
      headers: { "last-event-id": String(second + 1) },
    });
    assert.equal(resumed.status, 400);
    await resumed.body?.cancel();
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("serveViz() caps live streams with a 503 that says why, and frees a slot when one closes", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-load-" });
  const path = await writeRun(stateDir, "live", 2);
  // Holding the writer's lock makes the run live: its streams stay open.
  const writer = await Deno.open(path, { append: true });
  await writer.lock(true);
  const server = serveViz({ stateDir, port: 0, maxLiveClients: 2, pollInterval: 20 });
  const open: Response[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${server.url}api/runs/live/events?offset=0`);
      assert.equal(response.status, 200);
      open.push(response);
    }
    const refused = await fetch(`${server.url}api/runs/live/events?offset=0`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "5");
    assert.match(
      (await refused.json()).error,
      /Cannot follow run live as the visualizer already serves 2 live streams \('maxLiveClients'\)/,
    );
    assert.equal(server.liveClients, 2);
    // Other requests are still served while the streams are full.
    assert.equal((await (await fetch(`${server.url}api/runs/live`)).json()).live, true);
    await open.shift()!.body!.cancel();
    while (server.liveClients > 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const again = await fetch(`${server.url}api/runs/live/events?offset=0`);
    assert.equal(again.status, 200);
    open.push(again);
  } finally {
    for (const response of open) await response.body?.cancel().catch(() => {});
    await server.shutdown();
    writer.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("serveViz() closes idle connections and refuses connections past its cap", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-load-" });
  await writeRun(stateDir, "run", 2);
  const server = serveViz({ stateDir, port: 0, idleTimeout: 100, maxConnections: 3 });
  const conns: Deno.Conn[] = [];
  try {
    // Three sockets that never send a byte, and one that sent a request and
    // keeps the connection alive afterwards: all are closed by the server.
    for (let i = 0; i < 3; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
    }
    // The fourth connection is over the cap: answered 503, then closed.
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const busy = await readAll(extra);
    extra.close();
    assert.match(busy, /^HTTP\/1\.1 503 /);
    assert.match(busy, /too many open connections/);
    for (const conn of conns) assert.equal(await readAll(conn), "");
    const kept = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    conns.push(kept);
    await kept.write(new TextEncoder().encode(
      `GET /api/runs/run HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`,
    ));
    const answer = await readAll(kept);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /"requests":3/);
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});

/**
 * Reads until the server closes the connection; a connection still open
 * after 10 s (a hundred times the idle timeout used here) reads as
 * "(still open)", so a server that never closes fails instead of hanging.
 */
async function readAll(conn: Deno.Conn): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ceiling = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("(still open)"), 10_000);
  });
  try {
    return await Promise.race([readToEnd(conn), ceiling]);
  } finally {
    clearTimeout(timer);
  }
}

async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(65536);
  let text = "";
  while (true) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      break;
    }
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return text;
}

Deno.test("A live stream reads the log no faster than its client takes it", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-load-" });
  // About 8 MB of log.
  const path = await writeRun(stateDir, "big", 20_000, 300);
  const size = (await Deno.stat(path)).size;
  const { stream, close, offset } = eventStream(path, 0, { poll: 10, heartbeat: 1000 }, () => {});
  try {
    const reader = stream.getReader();
    let received = 0;
    // Take three chunks, then stop reading and let the event loop turn.
    for (let i = 0; i < 3; i++) received += (await reader.read()).value!.length;
    // Give an unbounded reader ample time to run ahead (a bounded one never
    // does, however long this is: the assertion does not depend on it).
    await new Promise((resolve) => setTimeout(resolve, 500));
    // What was read from the log is what was taken plus at most the
    // stream's queue (one chunk) and one chunk in hand, not the whole log.
    const readSoFar = offset();
    assert.ok(size > 40 * CHUNK_BYTES, `log of ${size} bytes`);
    assert.ok(readSoFar < received + 4 * CHUNK_BYTES, `${readSoFar} bytes read of ${size}`);
    reader.releaseLock();
  } finally {
    close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("serveViz() serves a run a slice of rows at a time and finds failures", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-load-" });
  await writeRun(stateDir, "run", 1_000);
  const server = serveViz({ stateDir, port: 0 });
  const get = async (path: string) => {
    const response = await fetch(`${server.url}api/runs/run${path}`);
    return { status: response.status, body: await response.json() };
  };
  try {
    const summary = (await get("")).body;
    assert.deepEqual([summary.requests, summary.failed, summary.status], [1001, 10, "Completed"]);
    assert.equal("rows" in summary, false);
    const page = (await get("/rows?from=500&limit=50")).body;
    assert.equal(page.total, 1001);
    assert.equal(page.rows.length, 50);
    assert.equal(page.rows[0].id, "r499");
    assert.equal(page.rows[0].args, '499,""');
    const tooMany = await get("/rows?limit=100000");
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.error, /'limit' must be a whole number from 0 to 1000/);
    // Collapsing the root leaves one row that counts the failures below it.
    const collapsed = (await get("/rows?collapse=all")).body;
    assert.equal(collapsed.total, 1);
    assert.deepEqual(
      [collapsed.rows[0].collapsed, collapsed.rows[0].failedBelow],
      [true, 10],
    );
    // Filtering by status keeps the matches and their caller.
    const failed = (await get("/rows?status=Failed")).body;
    assert.equal(failed.total, 11);
    assert.equal(failed.rows[0].match, false);
    assert.equal(failed.rows.filter((r: { match: boolean }) => r.match).length, 10);
    // Next failure after r7 is r107, expanded out of a collapsed root.
    const next = (await get("/find?find=Failed&after=r7&collapse=all")).body.found;
    assert.deepEqual([next.id, next.ancestors, next.position, next.toggled], [
      "r107",
      ["root"],
      108,
      ["root"],
    ]);
    const previous = (await get("/find?find=Failed&after=r7&direction=previous")).body.found;
    assert.equal(previous.id, "r907");
    const bad = await get("/rows?status=Broken");
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /'status' must be a list of Open, Completed, Failed, Cancelled/);
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});
