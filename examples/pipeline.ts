/**
 * The flagship example: scan a directory tree (default: this repository),
 * read each file, hash and measure it, and aggregate a summary — every step
 * a tracked node.
 *
 * Run it with `deno task run` (or `deno task run pipeline <dir>`).
 *
 * @module
 */
import { call, callBatch, node, Runner } from "../mod.ts";

/** Size and digest of one file. */
export interface FileFacts {
  path: string;
  bytes: number;
  lines: number;
  sha256: string;
}

const SKIP = new Set([
  ".git",
  ".switchyard",
  "node_modules",
  "dist",
  "test-output",
]);

/** Lists the files below a directory, skipping VCS and state folders. */
export const scan = node(
  async function scanDirectory(dir: string): Promise<string[]> {
    const files: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (SKIP.has(entry.name)) continue;
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) files.push(...await call(scan, path));
      else if (entry.isFile) files.push(path);
    }
    return files.sort();
  },
  { name: "scan" },
);

/** Reads a file and computes its size, line count and SHA-256. */
export const analyse = node(
  async function analyse(path: string): Promise<FileFacts> {
    const data = await Deno.readFile(path);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    let lines = 0;
    for (const byte of data) if (byte === 10) lines++;
    return {
      path,
      bytes: data.byteLength,
      lines,
      sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(
        "",
      ),
    };
  },
);

/** Scans, analyses every file, and sums up. */
export const pipeline = node(async function pipeline(dir: string) {
  const files = await call(scan, dir);
  const facts = await callBatch(analyse, files.map((f) => [f] as [string]));
  const ok = facts.filter((f): f is FileFacts => !(f instanceof Error));
  return {
    files: ok.length,
    bytes: ok.reduce((n, f) => n + f.bytes, 0),
    lines: ok.reduce((n, f) => n + f.lines, 0),
    largest: ok.toSorted((a, b) => b.bytes - a.bytes).slice(0, 3).map((f) => f.path),
  };
});

/**
 * Runs the pipeline and prints a summary.
 *
 * @param args `[dir]`, default the current directory.
 */
export async function main(args: string[]): Promise<void> {
  const dir = args[0] ?? ".";
  await using runner = new Runner({ saveState: true, loggingSetting: "QUIET" });
  const info = await runner.run(pipeline, dir);
  const summary = info.answer as Awaited<ReturnType<typeof pipeline.fn>>;
  console.log(
    `Scanned ${dir}: ${summary.files} files, ${summary.lines} lines, ${summary.bytes} bytes`,
  );
  console.log(`Largest: ${summary.largest.join(", ")}`);
  console.log(
    `Tracked ${info.requestHeap.size} requests; status ${info.status}`,
  );
  const runId = runner.config.runIdentifier;
  console.log(`Saved to ${runner.config.stateDir}/runs/${runId}.json`);
  console.log(`Look at it:  deno task switchyard inspect ${runId}`);
  console.log(`             deno task switchyard viz   (then open the run)`);
}
