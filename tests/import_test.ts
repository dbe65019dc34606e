// The library loads in an application that has none of this project's
// configuration: a temp project with an empty deno.json imports mod.ts by
// loopback URL and by file path, and runs an async and a worker node.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runDeno } from "./helpers/deno.ts";

const root = new URL("../", import.meta.url);

/** Serves the repository's files on a loopback port for the duration of `fn`. */
async function serving(fn: (base: string) => Promise<void>): Promise<void> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      if (path.includes("..")) return new Response("no", { status: 400 });
      try {
        const body = await Deno.readFile(new URL(`.${path}`, root));
        return new Response(body, { headers: { "content-type": "application/typescript" } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

/** Runs `main.ts` importing `specifier` in a fresh project with an empty deno.json. */
async function runInEmptyProject(
  specifier: string,
  command: string[] = ["run", "-A", "--unstable-worker-options"],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-import-" });
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), "{}\n");
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      `import { call, node, Runner } from "${specifier}";
const double = node(async (x: number) => x * 2, { name: "double" });
const square = node(function square(x: number) { return x * x; }, { worker: true });
const total = node(async function total(xs: number[]) {
  const ys = await Promise.all(xs.map((x) => call(double, x)));
  return ys.reduce((a, b) => a + b, 0) + await call(square, 3);
});
await using runner = new Runner({ workers: { size: 1 }, loggingSetting: "NONE" });
const info = await runner.run(total, [1, 2, 3]);
console.log(JSON.stringify({ answer: info.answer, requests: info.requestHeap.size }));
`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [...command, "main.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder();
    return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("mod.ts imported by loopback URL into a project with an empty deno.json runs nodes", async () => {
  await serving(async (base) => {
    const { code, stdout, stderr } = await runInEmptyProject(`${base}/mod.ts`);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { answer: 21, requests: 5 });
  });
});

Deno.test("mod.ts imported by file path into a project with an empty deno.json runs nodes", async () => {
  const { code, stdout, stderr } = await runInEmptyProject(new URL("mod.ts", root).pathname);
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), { answer: 21, requests: 5 });
  // and it type-checks there too, without the project's import map
  const checked = await runInEmptyProject(new URL("mod.ts", root).pathname, ["check"]);
  assert.equal(checked.code, 0, checked.stderr);
});

Deno.test("every entry point loads by URL without this project's import map", async () => {
  await serving(async (base) => {
    for (const entry of ["mod.ts", "engine.ts", "persistence.ts", "viz.ts", "src/cli/main.ts"]) {
      const dir = await Deno.makeTempDir({ prefix: "switchyard-import-" });
      try {
        await Deno.writeTextFile(join(dir, "deno.json"), "{}\n");
        const { code, stderr } = await new Deno.Command(Deno.execPath(), {
          args: ["cache", `${base}/${entry}`],
          cwd: dir,
          stdout: "null",
          stderr: "piped",
          env: { NO_COLOR: "1" },
        }).output();
        assert.equal(code, 0, `${entry}: ${new TextDecoder().decode(stderr)}`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  });
});

Deno.test("the pipeline example imported by URL looks at the working folder by default", async () => {
  await serving(async (base) => {
    const dir = await Deno.makeTempDir({ prefix: "switchyard-import-" });
    try {
      await Deno.writeTextFile(join(dir, "deno.json"), "{}\n");
      await Deno.writeTextFile(
        join(dir, "main.ts"),
        `const { REPOSITORY_ROOT, pipelineStates } = await import("${base}/examples/pipeline.ts");
console.log(JSON.stringify({ root: REPOSITORY_ROOT, states: pipelineStates().length }));
`,
      );
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "main.ts"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
        root: await Deno.realPath(dir),
        states: 4,
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

/** The npm packages a module's static graph names, as Deno builds it with no configuration. */
async function npmPackagesOf(entry: string): Promise<string[]> {
  const { code, stdout, stderr } = await runDeno([
    "info",
    "--json",
    "--no-config",
    "--no-lock",
    new URL(entry, root).href,
  ]);
  assert.equal(code, 0, stderr);
  const graph = JSON.parse(stdout) as {
    modules: { dependencies?: { specifier: string }[] }[];
  };
  const names = new Set<string>();
  for (const module of graph.modules) {
    for (const { specifier } of module.dependencies ?? []) {
      if (specifier.startsWith("npm:")) names.add(specifier.slice(4).replace(/(?<=.)@.*$/, ""));
    }
  }
  return [...names].sort();
}

Deno.test("a program without remote does not download BullMQ: no entry point's graph names it", async () => {
  for (const entry of ["mod.ts", "engine.ts", "persistence.ts", "viz.ts", "src/cli/main.ts"]) {
    const names = await npmPackagesOf(entry);
    assert.ok(names.includes("@logtape/logtape"), `${entry}: ${names}`);
    assert.ok(!names.includes("bullmq") && !names.includes("ioredis"), `${entry}: ${names}`);
  }
});

Deno.test("remote without read access to the library says what Deno wants to load BullMQ", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-noread-" });
  try {
    const script = join(dir, "main.ts");
    const loader = new URL("src/remote/_bullmq_loader.ts", root).href;
    await Deno.writeTextFile(
      script,
      `import { loadBullmq } from ${JSON.stringify(loader)};
try { await loadBullmq(); console.log("loaded"); } catch (e) { console.log((e as Error).message); }
`,
    );
    // No permission at all: the static graph loads, the built address does not.
    const { code, stdout: out, stderr } = await runDeno([
      "run",
      "--no-prompt",
      "--no-lock",
      "--no-config",
      script,
    ]);
    assert.equal(code, 0, stderr);
    assert.match(out, /^Cannot load BullMQ for 'remote' from file:\/\/.*_bullmq\.ts: /);
    assert.match(out, /read access to "\/.*_bullmq\.ts".*--allow-read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
