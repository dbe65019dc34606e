/**
 * How to type the `switchyard` command again in this shell: the hints the
 * CLI prints ("inspect it with …") must work as printed, from a checkout
 * (`deno task switchyard`), a compiled binary, or a URL/JSR import.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { basename, delimiter, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the CLI runs from; the process's own values by default. */
export interface InvocationSource {
  /** The main module's URL (`Deno.mainModule`). */
  mainModule: string;
  /** The running executable (`Deno.execPath()`). */
  execPath: string;
  /** The working folder. */
  cwd: string;
  /** The `PATH` environment variable. */
  path: string;
}

function processSource(): InvocationSource {
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch { /* no env permission: paths are spelled out */ }
  return { mainModule: Deno.mainModule, execPath: Deno.execPath(), cwd: Deno.cwd(), path };
}

/** The checkout folder when the main module is this repository's CLI entry. */
function checkoutRoot(mainModule: string): string | null {
  if (!mainModule.startsWith("file:") || !mainModule.endsWith("/src/cli/main.ts")) return null;
  const root = resolve(dirname(fileURLToPath(mainModule)), "..", "..");
  const config = join(root, "deno.json");
  try {
    const tasks = JSON.parse(readFileSync(config, "utf8")).tasks ?? {};
    return typeof tasks.switchyard === "string" ? root : null;
  } catch {
    return null;
  }
}

function onPath(name: string, path: string, execPath: string): boolean {
  return path.split(delimiter).some((dir) => dir !== "" && join(dir, name) === execPath);
}

/**
 * The command prefix that runs this CLI again, plus the `--dir` option a
 * command needs to find `dir` from the working folder.
 *
 * @param dir The state folder as given on the command line.
 * @param source Where the CLI runs from (the process by default).
 * @returns E.g. `deno task switchyard` and ` --dir /tmp/runs`.
 */
export function cliInvocation(
  dir: string,
  source: InvocationSource = processSource(),
): { command: string; dirOption: string } {
  const quote = (s: string) => (/^[\w./:@-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
  const root = checkoutRoot(source.mainModule);
  const absDir = resolve(source.cwd, dir);
  if (root !== null) {
    // A task runs in the checkout's folder: relative --dir paths resolve there.
    const inside = !relative(root, source.cwd).startsWith("..") &&
      !isAbsolute(relative(root, source.cwd));
    const command = inside
      ? "deno task switchyard"
      : `deno task --config ${quote(join(root, "deno.json"))} switchyard`;
    const sameDir = absDir === resolve(root, ".switchyard");
    return { command, dirOption: sameDir ? "" : ` --dir ${quote(absDir)}` };
  }
  const dirOption = dir === ".switchyard" ? "" : ` --dir ${quote(dir)}`;
  const exe = basename(source.execPath).replace(/\.exe$/, "");
  if (exe !== "deno") {
    // A compiled binary.
    const name = basename(source.execPath);
    return {
      command: onPath(name, source.path, source.execPath) ? name : quote(source.execPath),
      dirOption,
    };
  }
  const jsr = source.mainModule.match(
    /^https:\/\/jsr\.io\/(@[^/]+\/[^/]+)\/([^/]+)\/src\/cli\/main\.ts$/,
  );
  if (jsr) {
    return {
      command: `deno run -A --unstable-worker-options jsr:${jsr[1]}@${jsr[2]}/cli`,
      dirOption,
    };
  }
  if (/^(file|https?|jsr):/.test(source.mainModule) && source.mainModule.endsWith("main.ts")) {
    return {
      command: `deno run -A --unstable-worker-options ${quote(source.mainModule)}`,
      dirOption,
    };
  }
  return { command: "switchyard", dirOption };
}
