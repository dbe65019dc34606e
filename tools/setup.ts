/**
 * Provisions what the test suite needs beyond Deno, before it runs.
 *
 * The suite needs `redis-server` on `PATH` (the remote tests start their own
 * servers on loopback ports; no system service is used). When it is missing
 * and this process may install system packages (root, with `apt-get`), it is
 * installed with Debian's package manager; otherwise the script exits 1 with
 * one line naming the package to install. The browser the visualizer tests
 * drive needs no step here: it comes from npm when no system Chromium exists.
 *
 * Usage: `deno run -A tools/setup.ts` (the `test` task runs it first).
 *
 * @module
 */

/** A system program the suite needs, and the Debian package that ships it. */
export interface Requirement {
  /** The program looked up on `PATH`. */
  program: string;
  /** The Debian package that installs it. */
  aptPackage: string;
  /** What the suite uses it for, shown when it cannot be installed. */
  purpose: string;
}

/** What the suite needs. */
export const REQUIREMENTS: readonly Requirement[] = [
  { program: "redis-server", aptPackage: "redis-server", purpose: "the remote-execution tests" },
];

/** Whether a program runs from `PATH`. */
async function onPath(program: string, args: string[] = ["--version"]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(program, {
      args,
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/**
 * Runs a command quietly.
 *
 * @returns `null` on success, else the last line it printed (why it failed).
 */
async function run(
  program: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string | null> {
  try {
    const { success, stdout, stderr } = await new Deno.Command(program, {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (success) return null;
    const text = new TextDecoder().decode(stderr).trim() || new TextDecoder().decode(stdout).trim();
    return text.split("\n").at(-1) || `${program} ${args[0]} failed`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Whether this process may install Debian packages. */
async function canApt(): Promise<boolean> {
  return Deno.uid() === 0 && await onPath("apt-get", ["--version"]);
}

/**
 * Installs the missing requirements with apt-get. A service the package
 * starts on install is stopped again: the tests start their own servers.
 *
 * @returns `null` on success, else why it failed.
 */
async function aptInstall(missing: readonly Requirement[]): Promise<string | null> {
  const packages = missing.map((r) => r.aptPackage);
  console.error(`setup: installing ${packages.join(", ")} with apt-get`);
  const updateFailed = await run("apt-get", ["update", "-qq"]);
  if (updateFailed !== null) return `apt-get update failed: ${updateFailed}`;
  const installFailed = await run(
    "apt-get",
    ["install", "-y", "-qq", "--no-install-recommends", ...packages],
    { DEBIAN_FRONTEND: "noninteractive" },
  );
  if (installFailed !== null) return `apt-get install failed: ${installFailed}`;
  // Nothing may come to rely on a system service: stop any the install started.
  for (const name of packages) await run("service", [name, "stop"]);
  return null;
}

/**
 * Ensures every requirement is on `PATH`.
 *
 * @returns `null` when all are there, else the one line to print.
 */
export async function ensureRequirements(
  requirements: readonly Requirement[] = REQUIREMENTS,
): Promise<string | null> {
  const missing: Requirement[] = [];
  for (const requirement of requirements) {
    if (!await onPath(requirement.program)) missing.push(requirement);
  }
  if (missing.length === 0) return null;
  let why = "";
  const failure = await canApt() ? await aptInstall(missing) : "";
  if (failure) why = ` (${failure})`;
  else if (failure === null) {
    const still = [];
    for (const requirement of missing) {
      if (!await onPath(requirement.program)) still.push(requirement);
    }
    if (still.length === 0) return null;
    missing.splice(0, missing.length, ...still);
  }
  return `setup: the tests need ${
    missing.map((r) => `'${r.program}' (${r.purpose})`).join(" and ")
  }: install the package ${missing.map((r) => r.aptPackage).join(" ")} (e.g. apt-get install ${
    missing.map((r) => r.aptPackage).join(" ")
  }) and run again${why}`;
}

if (import.meta.main) {
  const problem = await ensureRequirements();
  if (problem !== null) {
    console.error(problem);
    Deno.exit(1);
  }
}
