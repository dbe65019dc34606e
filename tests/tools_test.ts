// The provisioning step and the compile wrapper, run as the tasks run them.
import assert from "node:assert/strict";
import { join } from "node:path";

const root = new URL("../", import.meta.url);
const text = new TextDecoder();

async function runTool(
  tool: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(`tools/${tool}`, root).pathname, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("setup: with redis-server on PATH it succeeds silently", async () => {
  const { code, stderr } = await runTool("setup.ts", []);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
});

Deno.test("setup: when redis-server is missing and cannot be installed it stops with one line naming the package", async () => {
  // An empty PATH: no redis-server, and no apt-get to install it with.
  const empty = await Deno.makeTempDir({ prefix: "switchyard-path-" });
  try {
    const { code, stdout, stderr } = await runTool("setup.ts", [], { PATH: empty });
    assert.equal(code, 1);
    assert.equal(stdout, "");
    const lines = stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /'redis-server'.*install the package redis-server/);
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("compile: builds a working binary, or says in one line that DENORT_BIN is needed and leaves no empty folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-compile-" });
  try {
    const out = join(dir, "dist", "switchyard");
    const { code, stderr } = await runTool("compile.ts", [out]);
    if (code === 0) {
      const version = await new Deno.Command(out, { args: ["--version"], stdout: "piped" })
        .output();
      assert.match(text.decode(version.stdout), /^switchyard \d+\.\d+\.\d+/);
    } else {
      const lines = stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], /DENORT_BIN/);
      await assert.rejects(Deno.stat(join(dir, "dist")), Deno.errors.NotFound);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
