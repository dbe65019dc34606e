/**
 * Sandbox escapes through the worker bridge: a worker node with no
 * permissions tries to get the main thread (which has them all) to load
 * code of its choosing. Each attempt must fail with a named error, load
 * nothing, and leave the runtime working.
 */
import assert from "node:assert/strict";
import { node, Runner, WorkerCallRefusedError, WorkerTaskError } from "../mod.ts";
import { fanOut, square } from "./fixtures/worker_nodes.ts";

const quiet = { loggingSetting: "NONE" as const };
const FIXTURE = new URL("./fixtures/worker_nodes.ts", import.meta.url).href;

/**
 * Sends a call to the main thread for a forged node, straight through the
 * bridge the worker bootstrap installs: the worker's own code controls the
 * name and the module URL.
 */
const forge = node(async function forge(name: unknown, moduleUrl: unknown) {
  const bridge = (globalThis as Record<symbol, {
    call(target: unknown, args: unknown[]): Promise<unknown>;
  }>)[Symbol.for("switchyard.workerBridge")];
  const fake = { [Symbol.for("switchyard.node")]: true, name, moduleUrl };
  try {
    return { ok: true, value: await bridge.call(fake, [3]) };
  } catch (error) {
    return { ok: false, name: (error as Error).name, message: (error as Error).message };
  }
}, { worker: true, permissions: "none" });

/** The same, from a module worker node (whose own module may be searched). */
const forgeFromModule = fanOut;

type Outcome = { ok: true; value: unknown } | { ok: false; name: string; message: string };

async function attempt(name: unknown, moduleUrl: unknown): Promise<Outcome> {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const info = await runner.run(forge, name, moduleUrl);
  const outcome = info.answer as Outcome;
  // A refused call makes no request: only the worker node's own.
  assert.equal(info.requestHeap.size, outcome.ok ? 2 : 1);
  return outcome;
}

function assertRefused(outcome: Outcome, pattern: RegExp): void {
  assert.equal(outcome.ok, false, JSON.stringify(outcome));
  if (outcome.ok) return;
  assert.equal(outcome.name, "WorkerCallRefusedError");
  assert.match(outcome.message, /from worker node 'forge' as the main thread does not know it/);
  assert.match(outcome.message, pattern);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("A sandboxed worker cannot make the main thread import a data: module it made up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-escape-" });
  const marker = `${dir}/escaped.txt`;
  try {
    const source = `Deno.writeTextFileSync(${JSON.stringify(marker)}, "escaped");
export const evil = { [Symbol.for("switchyard.node")]: true, name: "evil", fn: () => 1, options: {}, moduleUrl: null };`;
    const url = `data:application/javascript,${encodeURIComponent(source)}`;
    const outcome = await attempt("evil", url);
    assertRefused(outcome, /made with module URL "data:application\/javascript/);
    assert.equal(await exists(marker), false, "the data: module ran on the main thread");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A sandboxed worker cannot make the main thread import a file: module the program never loaded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-escape-" });
  const marker = `${dir}/escaped.txt`;
  const module = `${dir}/planted.ts`;
  try {
    await Deno.writeTextFile(
      module,
      `Deno.writeTextFileSync(${JSON.stringify(marker)}, "escaped");\nexport {};\n`,
    );
    const outcome = await attempt("planted", new URL(`file://${module}`).href);
    assertRefused(outcome, /made with module URL "file:\/\//);
    assert.equal(await exists(marker), false, "the file: module ran on the main thread");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A sandboxed worker cannot make the main thread fetch an http module", async () => {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requests++;
    return new Response("export const x = 1;", {
      headers: { "content-type": "application/javascript" },
    });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/evil.js`;
    const outcome = await attempt("x", url);
    assertRefused(outcome, /made with module URL "http:\/\/127\.0\.0\.1/);
    assert.equal(requests, 0, "the main thread fetched the module");
  } finally {
    await server.shutdown();
  }
});

Deno.test("Prototype keys as names or URLs find nothing", async () => {
  for (const key of ["__proto__", "constructor", "toString", "hasOwnProperty", "prototype"]) {
    assertRefused(await attempt(key, FIXTURE), new RegExp(`no module worker node of that name`));
    assertRefused(await attempt("square", key), /made with module URL/);
    // No module of its own: nothing to search, whatever the name.
    assertRefused(await attempt(key, null), /must be exported by the calling node's module/);
  }
});

Deno.test("Malformed names and URLs are refused, naming the value", async () => {
  assertRefused(await attempt(42, FIXTURE), /must name a node by its name.*current value is/);
  assertRefused(await attempt("square", { href: FIXTURE }), /must name a node by its name/);
  assertRefused(await attempt(["square"], null), /must name a node by its name/);
});

Deno.test("A module URL the program did load only finds its module worker nodes, not its other exports", async () => {
  // `double` is exported by the fixture module but is not a module worker
  // node: a worker elsewhere cannot reach it through that module's URL.
  assertRefused(await attempt("double", FIXTURE), /no module worker node of that name/);
  // A module worker node the program made is known by its URL and name
  // (and runs, though the sandboxed caller holds the only worker of a pool
  // of one while it waits).
  assert.deepEqual(await attempt("square", FIXTURE), { ok: true, value: 9 });
  assert.equal(square.moduleUrl, FIXTURE);
});

Deno.test("A module worker node's own exports stay callable; a forged module of its own is not", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  // fanOut calls `double` (an async export of its module) and `square`.
  assert.equal((await runner.run(forgeFromModule, 3)).answer, 15);
});

Deno.test("A worker that breaks the protocol fails only its task; the host stays up", async () => {
  const garbage = node(function garbage(kind: string) {
    const post = (globalThis as unknown as { postMessage(m: unknown): void }).postMessage;
    if (kind === "number") post(42);
    else if (kind === "null") post([null]);
    else if (kind === "fatal") post([{ t: "fatal", why: "__proto__" }]);
    else post([{ t: "done", id: 0, ok: false, why: "threw", e: null }]);
    return new Promise(() => {});
  }, { worker: true, permissions: "none" });
  const ok = node(function ok(x: number) {
    return x + 1;
  }, { worker: true, permissions: "none" });
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  for (const kind of ["number", "null", "fatal", "done"]) {
    const error = await runner.run(garbage, kind).catch((e) => e);
    assert.ok(error instanceof WorkerTaskError, `${kind}: ${error}`);
    assert.equal(error.reason, "protocol", `${kind}: ${error.message}`);
    assert.match(error.message, /sent a message outside the protocol/);
    assert.equal((await runner.run(ok, 1)).answer, 2);
  }
});

Deno.test("WorkerCallRefusedError is exported and names caller, name and URL", () => {
  const error = new WorkerCallRefusedError("w", "x", "data:,", "why");
  assert.equal(error.name, "WorkerCallRefusedError");
  assert.equal(error.callerName, "w");
  assert.equal(error.targetName, "x");
  assert.equal(error.targetUrl, "data:,");
  assert.equal(
    error.message,
    "Cannot call node 'x' from worker node 'w' as the main thread does not know it: why",
  );
});
