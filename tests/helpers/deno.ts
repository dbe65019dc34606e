/**
 * Runs `deno` itself as a child process, to its end, for tests of what a
 * user runs from a shell.
 *
 * @module
 */

/** What a finished `deno` process left. */
export interface DenoOutput {
  /** Its exit code. */
  code: number;
  /** Its standard output, as text. */
  stdout: string;
  /** Its standard error, as text. */
  stderr: string;
}

/**
 * Runs `deno <args>` with colours off and returns its exit code and output.
 *
 * @param args The arguments after `deno`.
 * @param options The working directory and extra environment variables.
 * @returns Exit code, stdout and stderr.
 */
export async function runDeno(
  args: string[],
  options: { cwd?: string | URL; env?: Record<string, string> } = {},
): Promise<DenoOutput> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}
