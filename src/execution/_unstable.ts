/**
 * Whether this Deno process runs with `--unstable-worker-options`, without
 * which creating a worker with narrower permissions ends the process.
 *
 * @module
 */

let enabled: boolean | undefined;

/**
 * Reads the process's command line (Linux `/proc/self/cmdline`, only if
 * read access to it is already granted). A flag set some other way (a
 * config file's `unstable` list, a compiled binary) is not seen, so the
 * answer errs on the side of refusing permissions, never of ignoring them.
 *
 * @returns `true` when the flag is known to be set.
 */
export function workerOptionsEnabled(): boolean {
  if (enabled !== undefined) return enabled;
  try {
    const path = "/proc/self/cmdline";
    const granted = Deno.permissions.querySync({ name: "read", path }).state === "granted";
    const args = granted ? Deno.readTextFileSync(path).split("\0") : [];
    enabled = args.includes("--unstable-worker-options") ||
      args.includes("--unstable");
  } catch {
    enabled = false;
  }
  return enabled;
}
