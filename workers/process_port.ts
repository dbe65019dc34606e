/**
 * Makes a child `deno` process look like a worker to the bootstrap: the
 * bootstrap's `postMessage` writes frames to stdout, frames read from stdin
 * are delivered to its `onmessage`. The child's own `console.log` output
 * goes to stderr, so it never mixes with the frames.
 *
 * It must be the first module the child's entry imports: it marks the process as
 * a pool child before any node's module loads (so the library there knows
 * it runs in one), and records which module the child was started to load
 * (the first argument, if any).
 *
 * @module
 */
import { encodeFrame, FrameReader } from "./frames.ts";

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  [key: symbol]: unknown;
};

scope[Symbol.for("switchyard.processChild")] = true;
const loading = Deno.args[0];
if (loading) scope[Symbol.for("switchyard.workerLoading")] = loading;

const realExit = Deno.exit.bind(Deno);
const stderrConsole = console.error.bind(console);
for (const key of ["log", "info", "debug", "dir", "dirxml", "table"] as const) {
  (console as unknown as Record<string, unknown>)[key] = stderrConsole;
}

scope.postMessage = (message: unknown): void => {
  const frame = encodeFrame(message);
  let written = 0;
  while (written < frame.byteLength) {
    written += Deno.stdout.writeSync(frame.subarray(written));
  }
};

/**
 * Starts delivering the parent's messages; the child's entry calls it once
 * everything it imports (the bootstrap included) has been evaluated.
 *
 * @returns When the parent closed the pipe (the process then exits).
 */
export async function startPort(): Promise<void> {
  const reader = new FrameReader();
  for await (const chunk of Deno.stdin.readable) {
    for (const value of reader.push(chunk)) scope.onmessage?.({ data: value });
  }
  // The parent closed the pipe (or went away): nothing more will come.
  realExit(0);
}
