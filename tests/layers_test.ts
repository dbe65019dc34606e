import assert from "node:assert/strict";
import { join } from "node:path";
import { layerProblems, readImports } from "../tools/check_layers.ts";

async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir();
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
  return root;
}

Deno.test("layers: the repository's folders import downward only", () => {
  assert.deepEqual(layerProblems(readImports(new URL("..", import.meta.url).pathname)), []);
});

Deno.test("layers: a planted folder cycle is rejected, naming the closing import", async () => {
  const root = await tree({
    "src/core/a.ts": "export const a = 1;\n",
    "src/low/b.ts": 'import { c } from "../high/c.ts";\nexport const b = c;\n',
    "src/high/c.ts": 'import { a } from "../core/a.ts";\nexport const c = a;\n',
    "src/high/d.ts": 'export { b } from "../low/b.ts";\n',
  });
  try {
    const problems = layerProblems(readImports(root));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^folder cycle src\/(high|low) -> src\/(low|high) -> src\/\1 /);
    const cmd = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        new URL("../tools/check_layers.ts", import.meta.url).pathname,
        root,
      ],
      stderr: "piped",
    });
    const out = await cmd.output();
    assert.equal(out.code, 1);
    assert.match(new TextDecoder().decode(out.stderr), /layers: folder cycle/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("layers: importing another folder's private file is rejected; the folder's own is fine", async () => {
  const root = await tree({
    "src/core/_secret.ts": "export const s = 1;\n",
    "src/core/open.ts": 'import { s } from "./_secret.ts";\nexport const o = s;\n',
    "src/top/use.ts":
      'import { s } from "../core/_secret.ts";\n// import { x } from "../top/_nope.ts";\nexport const u = s;\n',
    "workers/w.ts": 'const m = await import("../src/core/_secret.ts");\nexport default m;\n',
  });
  try {
    const problems = layerProblems(readImports(root)).sort();
    assert.deepEqual(problems, [
      "src/top/use.ts imports src/core/_secret.ts, a file private to src/core/",
      "workers/w.ts imports src/core/_secret.ts, a file private to src/core/",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
