// Every ```ts sample of the README runs as written, each in its own `deno
// run` (from a file inside the repository, so `@switchyard/core` resolves to
// this package), in an empty working folder.
import assert from "node:assert/strict";
import { join } from "node:path";

const root = new URL("../", import.meta.url);
const readme = await Deno.readTextFile(new URL("README.md", root));

/** The ```ts blocks of a Markdown text (also indented ones, in lists), with the line each starts on. */
function tsBlocks(markdown: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = [];
  const fence = /^( *)```ts\n([\s\S]*?)^\1```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const indent = match[1].length;
    const code = match[2].split("\n").map((l) => l.slice(indent)).join("\n");
    blocks.push({ line: markdown.slice(0, match.index).split("\n").length, code });
  }
  return blocks;
}

/** What the sample says it prints: the `// …` comments after its `console.log(…);` lines. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/console\.log\(.*\);\s*\/\/\s*(.+)$/gm)].map((m) => m[1].trim());
}

const blocks = tsBlocks(readme);

Deno.test("the README has the samples this test runs", () => {
  assert.ok(blocks.length >= 6, `only ${blocks.length} samples found`);
  assert.match(readme, /^# Switchyard\n\n```sh\ndeno task run .*\ndeno task test .*\n```/);
});

/** Writes the samples to files inside the repository for the duration of `fn`. */
async function withSampleFiles(fn: (files: string[]) => Promise<void>): Promise<void> {
  const samples = new URL(".switchyard/", root).pathname;
  await Deno.mkdir(samples, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: samples, prefix: "readme-" });
  try {
    const files = [];
    for (const { line, code } of blocks) {
      const file = join(dir, `sample_${line}.ts`);
      await Deno.writeTextFile(file, code);
      files.push(file);
    }
    await fn(files);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the README samples type-check", async () => {
  await withSampleFiles(async (files) => {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", ...files],
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  });
});

for (const { line, code } of blocks) {
  Deno.test(`README sample at line ${line} runs as written`, async () => {
    const samples = new URL(".switchyard/", root).pathname;
    await Deno.mkdir(samples, { recursive: true });
    const dir = await Deno.makeTempDir({ dir: samples, prefix: "readme-" });
    const cwd = await Deno.makeTempDir({ prefix: "switchyard-readme-" });
    try {
      const file = join(dir, `sample_${line}.ts`);
      await Deno.writeTextFile(file, code);
      const { code: exit, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--unstable-worker-options", file],
        cwd,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder();
      const printed = text.decode(stdout);
      assert.equal(exit, 0, `README line ${line}:\n${printed}\n${text.decode(stderr)}`);
      // It prints what its comments say, in that order.
      let lines = printed.split("\n");
      for (const expected of expectedOutput(code)) {
        const at = lines.findIndex((l) => l.trim() === expected);
        assert.ok(at >= 0, `README line ${line}: '${expected}' not printed in order:\n${printed}`);
        lines = lines.slice(at + 1);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(cwd, { recursive: true });
    }
  });
}
