/**
 * `deno task bench`: runs every `bench/*_bench.ts` in turn (or the ones
 * named on the command line); each prints its own table with ratios
 * against a peer or the raw platform measured in the same run.
 *
 * @module
 */
const dir = new URL(".", import.meta.url);
const wanted = new Set(Deno.args);
const files: string[] = [];
for await (const entry of Deno.readDir(dir)) {
  if (!entry.name.endsWith("_bench.ts")) continue;
  if (wanted.size && !wanted.has(entry.name.replace(/_bench\.ts$/, ""))) {
    continue;
  }
  files.push(entry.name);
}
console.log(
  `Switchyard benchmarks · Deno ${Deno.version.deno} · V8 ${Deno.version.v8} · ${Deno.build.target} · ${navigator.hardwareConcurrency} cores · ${
    new Date().toISOString()
  }`,
);
for (const file of files.sort()) {
  console.log(`\n## ${file.replace(/_bench\.ts$/, "")}`);
  await import(new URL(file, dir).href);
}
