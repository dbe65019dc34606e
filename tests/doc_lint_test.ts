// The entry points' documentation builds without a warning: every type
// their module graph names resolves. BullMQ's and ioredis's declarations
// reference Node.js types that `deno doc` (and so JSR) cannot find, so they
// must stay out of that graph (the remote layer reaches them only through a
// dynamic import, typed by src/remote/_bullmq_types.ts).
import assert from "node:assert/strict";
import { runDeno } from "./helpers/deno.ts";

const root = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const entries: string[] = Object.values(config.exports);

Deno.test("docs: deno doc --lint on every entry point prints no warning", async () => {
  const { code, stderr: text } = await runDeno(["doc", "--lint", ...entries], { cwd: root });
  assert.equal(code, 0, text);
  const warnings = text.split("\n").filter((line) => /^(Warning|error)\b/.test(line));
  assert.deepEqual(warnings, [], text);
});
