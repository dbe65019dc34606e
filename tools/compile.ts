/**
 * Builds the standalone `switchyard` binary with `deno compile`.
 *
 * `deno compile` needs Deno's `denort` runtime: it downloads it on first use,
 * or takes it from the `DENORT_BIN` environment variable. When the download
 * fails this script says so in one line naming `DENORT_BIN`, and removes the
 * output folder if the attempt left it empty.
 *
 * Usage: `deno run -A tools/compile.ts [output]` (the `compile` task runs
 * it; the default output is `dist/switchyard`).
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The `deno compile` arguments for an output path. */
export function compileArgs(output: string): string[] {
  return [
    "compile",
    "-A",
    "--unstable-worker-options",
    "--include",
    join(root, "workers/"),
    "--include",
    join(root, "src/viz/assets/"),
    // Loaded by an address built at run time (so programs without
    // `remote` never download BullMQ): the graph does not show it.
    "--include",
    join(root, "src/remote/_bullmq.ts"),
    "--output",
    output,
    join(root, "src/cli/main.ts"),
  ];
}

/** Whether `deno compile`'s error output says it could not get its runtime. */
export function isRuntimeDownloadFailure(stderr: string): boolean {
  return /denort|Setting up base binary|dl\.deno\.land/i.test(stderr);
}

async function isEmptyDir(path: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(path)) return false;
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Compiles the CLI.
 *
 * @param output Where the binary goes.
 * @returns The exit code.
 */
export async function compile(output: string): Promise<number> {
  const outDir = dirname(resolve(output));
  const hadDir = await exists(outDir);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(output),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(stderr);
  await Deno.stdout.write(stdout);
  if (code === 0) {
    await Deno.stderr.write(stderr);
    return 0;
  }
  if (!hadDir && await isEmptyDir(outDir)) await Deno.remove(outDir);
  if (isRuntimeDownloadFailure(err) && !Deno.env.get("DENORT_BIN")) {
    console.error(
      `compile: could not download Deno's runtime (denort ${Deno.version.deno}) for deno compile; set DENORT_BIN to the path of a denort ${Deno.version.deno} binary and run again`,
    );
  } else {
    await Deno.stderr.write(stderr);
  }
  return code;
}

if (import.meta.main) {
  Deno.exit(await compile(Deno.args[0] ?? join(root, "dist/switchyard")));
}
