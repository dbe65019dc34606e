import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const config = new URL("deno.json", root).pathname;

/** Runs a script in a fresh `deno run`, returning its output. */
async function runScript(
  source: string,
  flags: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, source);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", config, "--no-lock", ...flags, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code,
      stdout: decoder.decode(stdout),
      stderr: decoder.decode(stderr),
    };
  } finally {
    await Deno.remove(file);
  }
}

/** Serves this repository on a loopback port, `.ts` files as TypeScript. */
function serveRepository(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      try {
        const body = await Deno.readFile(new URL(`.${path}`, root));
        return new Response(body, {
          headers: { "content-type": "application/typescript" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
}

Deno.test("mod.ts imported from a loopback HTTP server runs worker nodes", async () => {
  const server = serveRepository();
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const { code, stdout, stderr } = await runScript(
      `import { node, Runner } from "${base}/mod.ts";
import { fanOut } from "${base}/tests/fixtures/worker_nodes.ts";
const triple = node(function triple(x: number) { return x * 3; }, { worker: true });
await using runner = new Runner({ workers: { size: 1 }, loggingSetting: "NONE" });
await runner.run(triple, 5);
const info = await runner.run(fanOut, 3);
console.log(JSON.stringify({
  answer: info.answer,
  requests: info.requestHeap.size,
  all: runner.info.answer,
  allRequests: runner.info.requestHeap.size,
}));
`,
      ["-A", "--unstable-worker-options"],
    );
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), {
      answer: 15,
      requests: 3,
      all: [15, 15],
      allRequests: 4,
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("mod.ts imported from a loopback HTTP server runs process nodes with no permissions, which still hold", async () => {
  const server = serveRepository();
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const { code, stdout, stderr } = await runScript(
      `import { node, Runner } from "${base}/mod.ts";
const isolated = { worker: true, isolation: "process", permissions: "none" } as const;
const inc = node(function inc(x: number) { return x + 1; }, isolated);
const peek = node(function peek() { return Deno.readTextFileSync("/etc/hostname"); }, isolated);
await using runner = new Runner({ workers: { size: 1 }, loggingSetting: "NONE" });
const answer = (await runner.run(inc, 41)).answer;
const denied = await runner.run(peek).then(() => "read", (e) => e.cause?.name);
console.log(JSON.stringify({ answer, denied }));
`,
      ["-A", "--unstable-worker-options"],
    );
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { answer: 42, denied: "NotCapable" });
  } finally {
    await server.shutdown();
  }
});

Deno.test("Asking for worker permissions without --unstable-worker-options is an error, not an unsandboxed run", async () => {
  const mod = new URL("mod.ts", root).href;
  const { code, stdout, stderr } = await runScript(
    `import { node, Runner } from "${mod}";
const peek = node(function peek() { return Deno.readTextFileSync("/etc/hostname"); }, { worker: true, permissions: "none" });
await using runner = new Runner({ loggingSetting: "NONE" });
console.log(await runner.run(peek).then(() => "ran", (e) => String(e)));
`,
    ["-A"],
  );
  assert.equal(code, 0, stderr);
  assert.match(
    stdout,
    /WorkerTaskError: Worker node 'peek' failed before reaching a worker: Cannot run it with permissions none as Deno's --unstable-worker-options flag is not set/,
  );
});
