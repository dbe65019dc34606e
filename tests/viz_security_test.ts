import assert from "node:assert/strict";
import { join } from "node:path";
import { serveViz } from "../viz.ts";

const SECRET = "SECRET-OUTSIDE-THE-RUNS-DIR";
const fixtureRuns = new URL("./fixtures/runs/", import.meta.url);

/**
 * Sends raw bytes (fetch would normalise the path) and reads until the
 * server closes: the status, or 0 when it closed without answering.
 */
async function raw(port: number, request: string | Uint8Array): Promise<
  { status: number; head: string; body: string }
> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = "";
  try {
    const bytes = typeof request === "string" ? new TextEncoder().encode(request) : request;
    try {
      for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
    } catch {
      // The server may close before reading a refused request whole.
    }
    const buffer = new Uint8Array(65536);
    const decoder = new TextDecoder();
    while (true) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch {
        break; // reset by the server
      }
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
      if (complete(text)) break; // a kept-alive connection never ends
    }
  } finally {
    conn.close();
  }
  const split = text.indexOf("\r\n\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
  return {
    status: status ? Number(status) : 0,
    head: split < 0 ? text.toLowerCase() : text.slice(0, split).toLowerCase(),
    body: split < 0 ? "" : text.slice(split + 4),
  };
}

/** Whether a response's head and its `content-length` of body are in. */
function complete(text: string): boolean {
  const split = text.indexOf("\r\n\r\n");
  if (split < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split))?.[1];
  return length !== undefined &&
    new TextEncoder().encode(text.slice(split + 4)).length >= Number(length);
}

const get = (port: number, target: string, headers = "") =>
  raw(
    port,
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers}Connection: close\r\n\r\n`,
  );

/** A state folder with one saved run and secrets beside and above its runs dir. */
async function stateWithSecrets(): Promise<string> {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-sec-" });
  await Deno.mkdir(join(stateDir, "runs"));
  for (const name of ["fixture-done.json", "fixture-done.events.jsonl"]) {
    await Deno.copyFile(new URL(name, fixtureRuns), join(stateDir, "runs", name));
  }
  const secret = JSON.stringify({ secret: SECRET });
  await Deno.writeTextFile(join(stateDir, "secret.json"), secret);
  await Deno.writeTextFile(join(stateDir, "secret.events.jsonl"), secret + "\n");
  await Deno.writeTextFile(join(stateDir, "runs", "notes.txt"), SECRET);
  return stateDir;
}

Deno.test("serveViz() refuses every traversal variant and never serves a file outside its runs", async () => {
  const stateDir = await stateWithSecrets();
  const server = serveViz({ stateDir, port: 0 });
  try {
    const targets = [
      "/api/runs/../secret",
      "/api/runs/..%2fsecret",
      "/api/runs/..%2Fsecret",
      "/api/runs/%2e%2e%2fsecret",
      "/api/runs/%2E%2E/secret",
      "/api/runs/.%2e/secret",
      "/api/runs/%252e%252e%252fsecret",
      "/api/runs/%25252e%25252e%25252fsecret",
      "/api/runs/..%5csecret",
      "/api/runs/..\\secret",
      "/api/runs/%5c..%5csecret",
      "/api/runs/%2fetc%2fpasswd",
      "/api/runs/%2F" + encodeURIComponent(Deno.cwd()),
      "/api/runs/" + encodeURIComponent(join(stateDir, "secret")),
      "/api/runs/C:%5csecret",
      "/api/runs/secret%00",
      "/api/runs/notes.txt",
      "/api/runs/fixture-done/../../secret",
      "/api/runs/fixture-done/events/..%2f..%2fsecret",
      "/api/runs/..%2fsecret/events",
      "/runs/..%2fsecret",
      "/runs/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/..%2f..%2fsecret.json",
      "/%2e%2e/secret.json",
      "//etc/passwd",
      "/etc/passwd",
      "/secret.json",
      "/app.js/../secret.json",
      "/./secret.json",
      `http://127.0.0.1:${server.port}/../secret.json`,
      `http://127.0.0.1:${server.port}/api/runs/..%2fsecret`,
    ];
    for (const target of targets) {
      const response = await get(server.port, target);
      assert.ok(
        response.status === 400 || response.status === 404,
        `${target}: ${response.status}`,
      );
      assert.ok(!response.body.includes(SECRET), target);
      assert.doesNotMatch(response.body, /root:/, target);
    }
    // The run itself is still served.
    assert.equal((await get(server.port, "/api/runs/fixture-done")).status, 200);
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("serveViz() follows no link in its runs folder to a file outside it", async () => {
  const stateDir = await stateWithSecrets();
  const runs = join(stateDir, "runs");
  // A run whose files are links to files outside, and a run with a real
  // snapshot whose log is a link.
  await Deno.symlink(join(stateDir, "secret.events.jsonl"), join(runs, "linked.events.jsonl"));
  await Deno.symlink(join(stateDir, "secret.json"), join(runs, "linked.json"));
  await Deno.copyFile(new URL("fixture-done.json", fixtureRuns), join(runs, "mixed.json"));
  await Deno.symlink(join(stateDir, "secret.events.jsonl"), join(runs, "mixed.events.jsonl"));
  const server = serveViz({ stateDir, port: 0 });
  try {
    for (
      const target of [
        "/api/runs/linked",
        "/api/runs/linked/events",
        "/api/runs/linked/rows",
        "/api/runs/linked/find",
        "/runs/linked",
        "/api/runs/mixed/events",
        "/api/runs/mixed/events?offset=0",
      ]
    ) {
      const response = await get(server.port, target);
      assert.equal(response.status, 404, target);
      assert.ok(!response.body.includes(SECRET), `${target}: ${response.body}`);
    }
    // The real snapshot is still served; the list names no linked run.
    const mixed = await get(server.port, "/api/runs/mixed");
    assert.equal(mixed.status, 200);
    assert.ok(!mixed.body.includes(SECRET));
    const list = await get(server.port, "/api/runs");
    assert.doesNotMatch(list.body, /linked/);
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("serveViz() answers a damaged run with what is wrong with it and stays up", async () => {
  const stateDir = await stateWithSecrets();
  await Deno.writeTextFile(
    join(stateDir, "runs", "damaged.events.jsonl"),
    '{"event":5}\n{"x":1}\n',
  );
  await Deno.writeTextFile(join(stateDir, "runs", "torn.json"), '{"format":"switchyard.run/1","ru');
  const server = serveViz({ stateDir, port: 0 });
  try {
    const damaged = await get(server.port, "/api/runs/damaged");
    assert.equal(damaged.status, 500);
    assert.match(
      JSON.parse(damaged.body).error,
      /^Cannot load run as '.*damaged\.events\.jsonl' must start with a switchyard\.events\/1 line: current first line is /,
    );
    const torn = await get(server.port, "/api/runs/torn/rows");
    assert.equal(torn.status, 500);
    assert.match(JSON.parse(torn.body).error, /'.*torn\.json' must be JSON/);
    assert.equal((await get(server.port, "/api/runs/fixture-done")).status, 200);
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("serveViz() refuses oversized and malformed requests and stays up", async () => {
  const stateDir = await stateWithSecrets();
  const server = serveViz({ stateDir, port: 0 });
  try {
    const port = server.port;
    const host = `Host: 127.0.0.1:${port}\r\n`;
    const refused: Array<[string, string | Uint8Array]> = [
      ["long path", `GET /api/runs/${"a".repeat(200_000)} HTTP/1.1\r\n${host}\r\n`],
      ["huge header", `GET / HTTP/1.1\r\n${host}X-Big: ${"b".repeat(1_000_000)}\r\n\r\n`],
      [
        "many headers",
        `GET / HTTP/1.1\r\n${host}${
          Array.from({ length: 2_000 }, (_, i) => `X-H${i}: v\r\n`).join("")
        }\r\n`,
      ],
      ["garbage", "\x00\x01\x02 not http at all\r\n\r\n"],
      ["bad version", `GET / HTTP/9.9\r\n${host}\r\n`],
      ["no host", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"],
      ["foreign host", "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"],
      ["rebinding host", `GET /api/runs HTTP/1.1\r\nHost: attacker.test:${port}\r\n\r\n`],
      ["two hosts", `GET / HTTP/1.1\r\n${host}Host: evil.example\r\nConnection: close\r\n\r\n`],
      ["bad method", `DELETE /api/runs/fixture-done HTTP/1.1\r\n${host}Connection: close\r\n\r\n`],
      [
        "post",
        `POST /api/runs HTTP/1.1\r\n${host}Content-Length: 2\r\nConnection: close\r\n\r\n{}`,
      ],
      ["space in target", `GET /api/runs/fix ture HTTP/1.1\r\n${host}Connection: close\r\n\r\n`],
      ["bad escape", `GET /api/runs/%E0%A4%A HTTP/1.1\r\n${host}Connection: close\r\n\r\n`],
      [
        "bad offset",
        `GET /api/runs/fixture-done/events?offset=-1 HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
      ],
      [
        "huge last-event-id",
        `GET /api/runs/fixture-done/events HTTP/1.1\r\n${host}Last-Event-ID: ${
          "9".repeat(400)
        }\r\nConnection: close\r\n\r\n`,
      ],
      ["bad content-length", `GET / HTTP/1.1\r\n${host}Content-Length: -5\r\n\r\n`],
      ["header without colon", `GET / HTTP/1.1\r\n${host}NoColonHere\r\n\r\n`],
    ];
    for (const [label, request] of refused) {
      const response = await raw(port, request);
      assert.ok(
        response.status === 0 || (response.status >= 400 && response.status < 500),
        `${label}: ${response.status} ${response.head.slice(0, 80)}`,
      );
      assert.ok(!response.body.includes(SECRET), label);
    }
    // Still serving after all of that.
    const page = await get(port, "/");
    assert.equal(page.status, 200);
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("serveViz() sends no wildcard CORS and listens on loopback only", async () => {
  const stateDir = await stateWithSecrets();
  const server = serveViz({ stateDir, port: 0 });
  try {
    for (const target of ["/", "/app.js", "/api/runs", "/api/runs/fixture-done", "/nothing"]) {
      const response = await get(
        server.port,
        target,
        "Origin: http://evil.example\r\nAccess-Control-Request-Method: GET\r\n",
      );
      assert.doesNotMatch(response.head, /access-control-allow-origin/, target);
    }
    const preflight = await raw(
      server.port,
      `OPTIONS /api/runs HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(preflight.status, 405);
    assert.doesNotMatch(preflight.head, /access-control-allow/);
    // It listens on 127.0.0.1 alone: another loopback address (still on this
    // machine, never off it) is refused, so no wildcard address was bound.
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.2", port: server.port }),
      Deno.errors.ConnectionRefused,
    );
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});
