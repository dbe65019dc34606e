// The entry points' documentation builds without a warning: every type
// their module graph names resolves. BullMQ's and ioredis's declarations
// reference Node.js types that `deno doc` (and so JSR) cannot find, so they
// must stay out of that graph (the remote layer reaches them only through a
// dynamic import, typed by src/remote/_bullmq_types.ts).
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const entries: string[] = Object.values(config.exports);

Deno.test("docs: deno doc --lint on every entry point prints no warning", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...entries],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 0, text);
  const warnings = text.split("\n").filter((line) => /^(Warning|error)\b/.test(line));
  assert.deepEqual(warnings, [], text);
});
