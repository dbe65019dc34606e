/**
 * The README's worker samples run as written: each block of the "Worker
 * nodes and the pool" section, as a program of its own (with the package
 * import pointed at this checkout).
 */
import assert from "node:assert/strict";

const README = new URL("../README.md", import.meta.url);
const MOD = new URL("../mod.ts", import.meta.url).href;

function workerSamples(text: string): string[] {
  const start = text.indexOf("## Worker nodes and the pool");
  const end = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

Deno.test("The README's worker samples run as written, and no worker starts the run again", async () => {
  const samples = workerSamples(await Deno.readTextFile(README));
  assert.ok(samples.length >= 2, "no worker samples found");
  const dir = await Deno.makeTempDir({ prefix: "switchyard-readme-" });
  try {
    for (const [index, sample] of samples.entries()) {
      const file = `${dir}/sample_${index}.ts`;
      await Deno.writeTextFile(file, sample.replaceAll('"@switchyard/core"', JSON.stringify(MOD)));
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--unstable-worker-options", file],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      assert.equal(code, 0, `sample ${index}: ${out}`);
      assert.doesNotMatch(out, /WorkerModuleError|WorkerTaskError|\[ERR\]/, `sample ${index}`);
      // Each run is logged once: a worker that ran the module's top level
      // again would log runs of its own.
      for (const name of out.matchAll(/Run of (\w+) started/g)) {
        assert.equal(out.split(`Run of ${name[1]} started`).length - 1, 1, out);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
