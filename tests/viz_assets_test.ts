/**
 * The visualizer's page files are real files beside its modules, served as
 * they are, and found wherever the library is loaded from: from disk, or
 * over HTTP when the modules were imported by URL (as from JSR).
 */
import assert from "node:assert/strict";
import { serveViz } from "../viz.ts";

const root = new URL("../", import.meta.url);

Deno.test("serveViz() serves the page files byte for byte", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-viz-assets-" });
  const server = serveViz({ stateDir, port: 0 });
  try {
    for (
      const [path, file, type] of [
        ["", "index.html", /^text\/html/],
        ["app.js", "app.js", /^text\/javascript/],
        ["app.css", "app.css", /^text\/css/],
      ] as const
    ) {
      const response = await fetch(server.url + path);
      assert.match(response.headers.get("content-type")!, type);
      assert.deepEqual(
        new Uint8Array(await response.arrayBuffer()),
        await Deno.readFile(new URL(`src/viz/assets/${file}`, root)),
      );
    }
  } finally {
    await server.shutdown();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("The page files load over HTTP when the library is imported by URL", async () => {
  const requested: string[] = [];
  const files = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requested.push(path);
    if (!path.startsWith("/src/viz/") || path.includes("..")) {
      return new Response("not here", { status: 404 });
    }
    try {
      const body = await Deno.readFile(new URL(path.slice(1), root));
      const type = path.endsWith(".ts") ? "application/typescript" : "text/plain";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("missing", { status: 404 });
    }
  });
  const cwd = await Deno.makeTempDir({ prefix: "switchyard-viz-url-" });
  try {
    const url = `http://127.0.0.1:${files.addr.port}/src/viz/_assets.ts`;
    const script = `const { asset } = await import(${JSON.stringify(url)});
const js = new TextDecoder().decode(await asset("app.js"));
const css = await asset("app.css");
console.log(JSON.stringify({ js: js.length, css: css.length, head: js.slice(0, 3) }));`;
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "--no-lock",
        "--no-config",
        "--allow-import=127.0.0.1",
        "--allow-net=127.0.0.1",
        script,
      ],
      cwd,
      env: { DENO_DIR: `${cwd}/deno_dir`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const seen = JSON.parse(new TextDecoder().decode(output.stdout));
    const js = await Deno.readFile(new URL("src/viz/assets/app.js", root));
    assert.deepEqual(seen, {
      js: new TextDecoder().decode(js).length,
      css: seen.css,
      head: "/**",
    });
    assert.ok(seen.css > 1000);
    assert.ok(requested.includes("/src/viz/assets/app.js"), requested.join(" "));
    assert.ok(requested.includes("/src/viz/assets/app.css"), requested.join(" "));
  } finally {
    await files.shutdown();
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("The page script type-checks against the DOM", async () => {
  // Checked on its own: the DOM library must not leak into the Deno code's check.
  const dir = await Deno.makeTempDir({ prefix: "switchyard-viz-check-" });
  try {
    for (const file of ["app.js", "common.js", "list.js", "run_view.js", "details.js"]) {
      const source = await Deno.readTextFile(new URL(`src/viz/assets/${file}`, root));
      await Deno.writeTextFile(
        `${dir}/${file}`,
        `// @ts-check\n/// <reference lib="dom" />\n/// <reference lib="dom.iterable" />\n${source}`,
      );
    }
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-config", "--no-lock", "--quiet", `${dir}/app.js`],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    // A type error planted in it is found, so the check does check.
    await Deno.writeTextFile(
      `${dir}/app.js`,
      `\nconst n = /** @type {number} */ (1); n.toUpperCase();\n`,
      {
        append: true,
      },
    );
    const planted = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-config", "--no-lock", "--quiet", `${dir}/app.js`],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(planted.code, 0);
    assert.match(new TextDecoder().decode(planted.stderr), /toUpperCase/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
