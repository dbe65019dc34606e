/**
 * `deno task run [example] [args…]`: runs the flagship example, or the
 * example of that name from this folder.
 *
 * @module
 */
// An option first (`deno task run --state-dir x`) is for the flagship example.
const [name, ...rest] = Deno.args[0] === undefined || Deno.args[0].startsWith("-")
  ? ["pipeline", ...Deno.args]
  : Deno.args;
const file = new URL(`./${name.replace(/\.ts$/, "")}.ts`, import.meta.url);
try {
  await Deno.stat(file);
} catch {
  const names: string[] = [];
  for await (const entry of Deno.readDir(new URL(".", import.meta.url))) {
    if (
      entry.isFile && entry.name.endsWith(".ts") && entry.name !== "main.ts"
    ) {
      names.push(entry.name.slice(0, -3));
    }
  }
  console.error(
    `Cannot run example as 'name' must be one of ${
      names.sort().join(", ")
    }: current value is "${name}"`,
  );
  Deno.exit(2);
}
const example = await import(file.href);
if (typeof example.main === "function") {
  try {
    await example.main(rest);
  } catch (error) {
    // One line, no stack: a bad option (TypeError) is a usage error, the rest a failed run.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
    console.error(
      error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      ...(cause && !(error as Error).message.includes(cause.message) ? [`(${cause.message})`] : []),
    );
    Deno.exit(error instanceof TypeError ? 2 : 1);
  }
}
