/**
 * The flagship example: a pipeline of four states that looks at a
 * directory tree (by default this repository) and records every step.
 *
 * 1. **Scan** (on the event loop) lists the files, one child call per folder,
 *    and opens the `scanned` gate.
 * 2. **Analyse** (blocking: in Web Workers) waits for the gate, reads the file
 *    list at that moment (a lazy arg), and hashes and measures the files in
 *    batches, one worker task per batch, in parallel.
 * 3. **Aggregate** (on the event loop) sums up: totals, largest files,
 *    duplicate contents, lines by extension.
 * 4. **Report** prints the summary.
 *
 * The run is saved (`saveState: true`): each state is a top-level request of
 * the run, with the calls it made below it.
 *
 * ```sh
 * deno task run                       # this repository
 * deno task run pipeline <dir>        # another folder
 * deno task run pipeline --state-dir /tmp/runs
 * deno task switchyard run examples/pipeline.ts --export pipelineStates <dir>
 * ```
 *
 * @module
 */
import { extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { call, Gate, node, State, StateManager } from "../mod.ts";

/**
 * The folder looked at by default: the repository this example lives in (found from this
 * file, not the working folder), or the working folder when the example is imported from a URL.
 */
export const REPOSITORY_ROOT: string = import.meta.url.startsWith("file:")
  ? resolve(fileURLToPath(new URL("..", import.meta.url)))
  : Deno.cwd();

/** How many files one worker task hashes. */
const BATCH_SIZE = 16;

/**
 * Runs the pipeline, prints the summary and how to look at the saved run.
 *
 * @param args `[dir] [--state-dir path]`: the folder to look at (default
 *   the repository) and where runs are saved (default `.switchyard`).
 */
export async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { "state-dir": { type: "string", default: ".switchyard" } },
  });
  const root = positionals[0] ?? REPOSITORY_ROOT;
  const stateDir = values["state-dir"];

  const manager = StateManager.instance({
    saveState: true, // save the run when the manager stops
    stateDir,
    endOnError: true, // a failed state stops the pipeline (and main throws)
    loggingSetting: "QUIET",
  });
  manager.putStates(pipelineStates(root));
  const loop = manager.processStates();
  await manager.onIdle(); // every state has ended
  await manager.signalStopping(); // stops the workers and saves the run
  await loop; // rejects if a state failed

  const { info, config } = manager;
  const dir = stateDir === ".switchyard" ? "" : ` --dir ${stateDir}`;
  console.log(`\nRun ${config.runIdentifier}: ${info.requestHeap.size} requests, ${info.status}`);
  console.log(`Saved in ${join(stateDir, "runs")}. Look at it:`);
  console.log(`  deno task switchyard inspect ${config.runIdentifier}${dir}`);
  console.log(`  deno task switchyard viz${dir}   (then open http://127.0.0.1:8484/)`);
  await StateManager.reset();
}

/**
 * The four states of the pipeline, in queue order. They find the manager
 * that runs them with `StateManager.instance()`, so `switchyard run` can
 * run them too.
 *
 * @param root The folder to look at (default: the repository).
 * @param analyser The node of the Analyse state (default
 *   {@linkcode analyseFiles}; the fleet example gives one with a `queue`).
 * @returns Scan, Analyse, Aggregate and Report.
 */
export function pipelineStates(
  root: string = REPOSITORY_ROOT,
  analyser: typeof analyseFiles = analyseFiles,
): State[] {
  const resultOf = (state: State) => StateManager.instance().resultOf(state);
  const scanned = new Gate();
  let files: string[] = [];

  const scan = new State("Scan", async (dir: string) => {
    files = await call(listFiles, dir, "");
    scanned.set();
    return files.length;
  }, { args: [root] });

  const analyse = new State("Analyse", analyser, {
    isBlocking: true, // runs in a worker; the queue moves on at once
    event: scanned, // ...but the state waits for the scan
    args: [root],
    lazyArgs: [() => files], // the list as it is when Analyse starts
  });

  const aggregate = new State("Aggregate", summarise, {
    lazyArgs: [() => resultOf(analyse)], // waits for Analyse's result
  });

  const report = new State("Report", printReport, {
    args: [root],
    lazyArgs: [() => resultOf(aggregate)],
  });

  return [scan, analyse, aggregate, report];
}

// The steps. Each node is a tracked request; each call() a child request.

/** What Analyse learns about one file. */
export interface FileFacts {
  /** The path below the root. */
  path: string;
  /** Its size. */
  bytes: number;
  /** How many lines (newline characters) it has. */
  lines: number;
  /** The SHA-256 of its content, in hex. */
  sha256: string;
}

/** What Aggregate makes of the facts. */
export interface Summary {
  /** How many files. */
  files: number;
  /** Their total size. */
  bytes: number;
  /** Their total lines. */
  lines: number;
  /** The five largest, largest first. */
  largest: FileFacts[];
  /** Files with the same content: one list of paths per content. */
  duplicates: string[][];
  /** Lines per file extension, most first. */
  linesByExtension: [string, number][];
}

const SKIP = new Set([".git", ".switchyard", "node_modules", "dist", "test-output", "coverage"]);

/** Lists the files below `root/dir` (paths relative to `root`), one child call per folder. */
export const listFiles = node(
  async (root: string, dir: string): Promise<string[]> => {
    const files: string[] = [];
    const folders: string[] = [];
    for await (const entry of Deno.readDir(join(root, dir))) {
      if (SKIP.has(entry.name)) continue;
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory) folders.push(path);
      else if (entry.isFile) files.push(path);
    }
    const nested = await Promise.all(folders.map((folder) => call(listFiles, root, folder)));
    return [...files, ...nested.flat()].sort();
  },
  { name: "listFiles" },
);

/**
 * Hashes and measures a batch of files. Runs in a worker of the pool, which
 * may read files and do nothing else (no network, no writes, no env).
 */
export const measureBatch = node(
  async function measureBatch(root: string, paths: string[]): Promise<FileFacts[]> {
    const facts: FileFacts[] = [];
    for (const path of paths) {
      const data = await Deno.readFile(join(root, path));
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
      let lines = 0;
      for (const byte of data) if (byte === 10) lines++;
      const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      facts.push({ path, bytes: data.byteLength, lines, sha256 });
    }
    return facts;
  },
  { worker: import.meta.url, permissions: { read: true } },
);

/**
 * The Analyse state's function, run in a worker: splits the files into
 * batches and measures the batches in parallel, one worker task each.
 */
export const analyseFiles = node(
  async function analyseFiles(root: string, files: string[]): Promise<FileFacts[]> {
    const batches: string[][] = [];
    for (let i = 0; i < files.length; i += BATCH_SIZE) {
      batches.push(files.slice(i, i + BATCH_SIZE));
    }
    const measured = await Promise.all(batches.map((batch) => call(measureBatch, root, batch)));
    return measured.flat();
  },
  { worker: import.meta.url },
);

/** Sums the facts up; duplicates and extensions are child calls. */
async function summarise(facts: FileFacts[]): Promise<Summary> {
  return {
    files: facts.length,
    bytes: facts.reduce((sum, f) => sum + f.bytes, 0),
    lines: facts.reduce((sum, f) => sum + f.lines, 0),
    largest: facts.toSorted((a, b) => b.bytes - a.bytes).slice(0, 5),
    duplicates: await call(findDuplicates, facts),
    linesByExtension: await call(countLinesByExtension, facts),
  };
}

/** Groups the paths of files whose content is the same (empty files aside). */
export const findDuplicates = node(function findDuplicates(facts: FileFacts[]): string[][] {
  const byHash = Map.groupBy(facts.filter((f) => f.bytes > 0), (f) => f.sha256);
  return [...byHash.values()].filter((group) => group.length > 1)
    .map((group) => group.map((f) => f.path));
});

/** Lines per extension (`(none)` for files without one), most first. */
export const countLinesByExtension = node(
  function countLinesByExtension(facts: FileFacts[]): [string, number][] {
    const lines = new Map<string, number>();
    for (const f of facts) {
      const ext = extname(f.path) || "(none)";
      lines.set(ext, (lines.get(ext) ?? 0) + f.lines);
    }
    return [...lines].sort((a, b) => b[1] - a[1]);
  },
);

/** Prints the summary; returns it as text too, so the saved run holds it. */
function printReport(root: string, summary: Summary): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const lines = [
    `Scanned ${
      relative(Deno.cwd(), root) || "."
    }: ${summary.files} files, ${summary.lines} lines, ${kb(summary.bytes)}`,
    `Largest files:`,
    ...summary.largest.map((f) => `  ${kb(f.bytes).padStart(10)}  ${f.path}`),
    `Lines by extension: ${
      summary.linesByExtension.slice(0, 6).map(([ext, n]) => `${ext} ${n}`).join(", ")
    }`,
    summary.duplicates.length === 0
      ? "Duplicate contents: none"
      : `Duplicate contents: ${summary.duplicates.length} (${
        summary.duplicates.slice(0, 3).map((group) => group.join(" = ")).join("; ")
      })`,
  ];
  console.log(lines.join("\n"));
  return lines.join("\n");
}
