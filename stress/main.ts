/**
 * `deno task stress`: the long reliability checks, one after another.
 *
 * @module
 */
const dir = new URL(".", import.meta.url);
const files: string[] = [];
for await (const entry of Deno.readDir(dir)) {
  if (entry.name.endsWith(".ts") && entry.name !== "main.ts") files.push(entry.name);
}
console.log(
  `Switchyard stress · Deno ${Deno.version.deno} · ${Deno.build.target} · ${navigator.hardwareConcurrency} cores · ${
    new Date().toISOString()
  }`,
);
for (const file of files.sort()) {
  if (Deno.args.length && !Deno.args.includes(file.replace(/\.ts$/, ""))) continue;
  console.log(`\n## ${file.replace(/\.ts$/, "")}`);
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-worker-options",
      "--v8-flags=--expose-gc",
      new URL(file, dir).pathname,
    ],
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await child.output();
  console.log(`(${file}: exit ${code}, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  if (code !== 0) Deno.exitCode = 1;
}
