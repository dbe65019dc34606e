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

Deno.test("setup: a missing redis-server is installed with apt-get when root, else named in one line", async () => {
  // A PATH holding only a stand-in apt-get, which records how it was called
  // and "installs" a stand-in redis-server next to itself.
  const bin = await Deno.makeTempDir({ prefix: "switchyard-bin-" });
  try {
    const log = join(bin, "apt.log");
    await Deno.writeTextFile(
      join(bin, "apt-get"),
      `#!/bin/sh
echo "$DEBIAN_FRONTEND $*" >> ${log}
case "$1" in install)
  printf '#!/bin/sh\\nexit 0\\n' > ${join(bin, "redis-server")}
  /bin/chmod +x ${join(bin, "redis-server")};;
esac
exit 0
`,
    );
    await Deno.chmod(join(bin, "apt-get"), 0o755);
    const { code, stdout, stderr } = await runTool("setup.ts", [], {
      PATH: bin,
      DEBIAN_FRONTEND: "dialog", // setup must set noninteractive itself for the install
    });
    if (Deno.uid() === 0) {
      assert.equal(code, 0, stderr);
      assert.equal(stdout, "");
      assert.match(stderr, /^setup: installing redis-server with apt-get$/m);
      const calls = (await Deno.readTextFile(log)).trim().split("\n")
        .filter((call) => !call.endsWith(" --version")); // the probe for apt-get
      assert.equal(calls.length, 2, calls.join("\n"));
      assert.match(calls[0], /^dialog update\b/);
      assert.match(calls[1], /^noninteractive install -y .*redis-server$/);
    } else {
      // Not allowed to install: one line naming the package, apt-get untouched.
      assert.equal(code, 1);
      assert.match(stderr, /^setup: .*install the package redis-server/);
      await assert.rejects(Deno.stat(log), Deno.errors.NotFound);
    }
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test("setup: when apt-get cannot install redis-server it stops with one line naming the package and why", async () => {
  const bin = await Deno.makeTempDir({ prefix: "switchyard-bin-" });
  try {
    await Deno.writeTextFile(
      join(bin, "apt-get"),
      `#!/bin/sh
case "$1" in install) echo "E: Unable to locate package redis-server" >&2; exit 100;; esac
exit 0
`,
    );
    await Deno.chmod(join(bin, "apt-get"), 0o755);
    const { code, stderr } = await runTool("setup.ts", [], { PATH: bin });
    assert.equal(code, 1);
    const lines = stderr.trimEnd().split("\n").filter((l) => !l.startsWith("setup: installing"));
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /install the package redis-server/);
    if (Deno.uid() === 0) {
      assert.match(
        lines[0],
        /\(apt-get install failed: E: Unable to locate package redis-server\)$/,
      );
    }
  } finally {
    await Deno.remove(bin, { recursive: true });
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
