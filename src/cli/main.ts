/**
 * The `switchyard` command: run a workflow with live progress, list and
 * inspect saved runs, serve the visualizer.
 *
 * ```sh
 * switchyard run <module> [--export name] [--entry routine] [args…] [--no-save]
 *                [--durability batch|event] [--timeout ms] [--output file | --quiet]
 * switchyard inspect <runId|file> [--json]
 * switchyard ls
 * switchyard viz [--port 8484]
 * ```
 *
 * Every command takes `--dir` (default `.switchyard`); `--version` prints the
 * version. A module may export a zod schema for the arguments of `run`
 * (`args` for the default export, `<export>Args` for another). Exit codes: 0
 * success, 1 the run failed, 2 bad usage, 130 `run` interrupted (Ctrl-C:
 * open requests are cancelled and the run is saved), 143 `run` terminated
 * (SIGTERM, handled the same way).
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { describeValue } from "../core/describe.ts";
import { Command, CommanderError, InvalidArgumentError, Option } from "npm:commander@^15.1.0";
import { loadRun } from "../persistence/run_loader.ts";
import { listRuns, summarize } from "../persistence/run_list.ts";
import { RunNotFoundError } from "../persistence/run_ref.ts";
import { requestRows } from "../persistence/request_rows.ts";
import { safeStringify } from "../core/json_safe.ts";
import { serveViz } from "../viz/server.ts";
import { formatRunList, formatRunTree } from "./inspect.ts";
import type { CliOutput } from "./progress.ts";
import { EXIT, InterruptedError, runModule } from "./run_command.ts";
import { runWorkerCommand } from "../remote/worker_command.ts";
import { VERSION } from "./version.ts";
import { DURABILITIES } from "../execution/config.ts";
import { cliInvocation } from "./_invocation.ts";
import { applyLoggingSetting } from "../core/logging.ts";

/** What {@linkcode main} needs besides the arguments. */
export interface MainOptions {
  /** Where to write; the process's stdout and stderr by default. */
  output?: CliOutput;
  /**
   * Resolves when `viz` should stop; by default on SIGINT or SIGTERM.
   * Tests pass their own.
   */
  stopSignal?: Promise<void>;
  /** Called with the visualizer's URL once it listens. */
  onVizListening?: (url: string) => void;
  /**
   * Aborting it interrupts `run` like Ctrl-C (exit 130, or 143 when the
   * reason is an {@linkcode InterruptedError} for SIGTERM). By default a
   * process's SIGINT and SIGTERM do, when the output is the process's own.
   */
  interrupt?: AbortSignal;
}

const DEFAULT_DIR = ".switchyard";

/**
 * The process's standard output and error.
 *
 * @returns A {@linkcode CliOutput} over `Deno.stdout` and `Deno.stderr`.
 */
export function processOutput(): CliOutput {
  const encoder = new TextEncoder();
  const write = (file: typeof Deno.stdout) => (text: string) => {
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) {
      written += file.writeSync(bytes.subarray(written));
    }
  };
  const isTerminal = Deno.stderr.isTerminal();
  let columns = 80;
  if (isTerminal) {
    try {
      columns = Deno.consoleSize().columns;
    } catch { /* not a console after all */ }
  }
  return {
    out: write(Deno.stdout),
    err: write(Deno.stderr),
    isTerminal,
    columns,
  };
}

function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new InvalidArgumentError(
        `'${name}' must be a positive whole number: current value is ${describeValue(value)}`,
      );
    }
    return n;
  };
}

function permissionsArgument(value: string): unknown {
  if (value === "inherit" || value === "none") return value;
  try {
    const parsed = JSON.parse(value);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {
    // Reported below.
  }
  throw new InvalidArgumentError(
    `'--permissions' must be "inherit", "none" or a JSON object: current value is ${
      describeValue(value)
    }`,
  );
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError(
      `'--port' must be a whole number from 0 to 65535: current value is ${describeValue(value)}`,
    );
  }
  return n;
}

/**
 * The interrupt signal of a `run`: the caller's, or SIGINT and SIGTERM for
 * a process (the abort reason says which, for the exit code).
 */
function interruptSignal(
  options: MainOptions,
): { signal: AbortSignal | undefined } & Disposable {
  if (options.interrupt || options.output) {
    return { signal: options.interrupt, [Symbol.dispose]() {} };
  }
  const controller = new AbortController();
  const signals = ["SIGINT", "SIGTERM"] as const;
  const handlers = signals.map((name) => {
    const handler = () => controller.abort(new InterruptedError(name));
    Deno.addSignalListener(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    [Symbol.dispose]: () => {
      for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    },
  };
}

function stopOnSignal(): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handler = () => {
    for (const s of signals) Deno.removeSignalListener(s, handler);
    resolve();
  };
  for (const s of signals) Deno.addSignalListener(s, handler);
  return promise;
}

/**
 * Runs the `switchyard` command.
 *
 * @param args The arguments after the program name.
 * @param options Output and stop hooks (for tests).
 * @returns The exit code: 0 success, 1 a run failed, 2 bad usage, 130 interrupted, 143 terminated.
 */
export async function main(
  args: readonly string[],
  options: MainOptions = {},
): Promise<number> {
  const output = options.output ?? processOutput();
  let code: number = EXIT.ok;
  const program = new Command("switchyard")
    .description(
      "Run workflows with live progress, inspect saved runs, and draw them in a local web page.",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => output.out(text),
      writeErr: (text) => output.err(text),
    })
    .version(VERSION, "-V, --version", "print the version")
    .showHelpAfterError("(add --help for usage)")
    .helpCommand(true);

  program
    .command("run")
    .description(
      "Run a node (or flow, or states) exported by a module, with live progress; save it unless --no-save.",
    )
    .argument("<module>", "path or URL of the module")
    .argument(
      "[args...]",
      "arguments for the node, or for a function returning states; a flow's entryParams object (JSON when valid JSON, else strings)",
    )
    .option("-e, --export <name>", "the export to run", "default")
    .option(
      "--entry <routineId>",
      "a flow's entry routine (default: the first routine added); the args are one JSON object, its entryParams",
    )
    .option("--no-save", "do not save the run")
    .addOption(
      new Option(
        "--durability <mode>",
        "how the saved run's event log reaches its file: batch (written together, every 20 ms) or event (each event written before the run goes on)",
      )
        .choices(DURABILITIES)
        .default("batch"),
    )
    .option(
      "--timeout <ms>",
      "time limit for the run in ms",
      positiveInteger("--timeout"),
    )
    .option("--run-id <id>", "the run identifier (default: a fresh UUID)")
    .option("-o, --output <file>", "write the answer (pretty JSON) to a file instead of stdout")
    .option("-q, --quiet", "print no answer (progress and errors still go to stderr)")
    .option("-d, --dir <path>", "the state folder", DEFAULT_DIR)
    .addOption(
      new Option("--log <setting>", "how much the runtime logs")
        .choices(["VERBOSE", "REGULAR", "QUIET", "ERROR", "NONE", "DEBUG", "INFO", "WARNING"])
        .default("NONE"),
    )
    .addHelpText(
      "after",
      "\nA flow runs one job from its entry routine; states (a list, or a function returning one) run until the queue is idle.\nA zod schema exported as 'args' (or '<export>Args') checks the arguments and gives the values the run gets.\nExit codes: 0 the run completed, 1 it failed (or timed out), 2 bad usage, 130 interrupted (Ctrl-C cancels open requests and saves the run), 143 terminated (SIGTERM, the same).\nExample: switchyard run examples/pipeline.ts --export pipelineStates .",
    )
    .action(async (module: string, rest: string[], opts) => {
      // Checked before the run, so that a finished run's answer is not lost.
      if (
        opts.output !== undefined &&
        (!await isFolder(dirname(resolve(opts.output))) || await isFolder(opts.output))
      ) {
        throw new TypeError(
          `Cannot run '${module}' as '--output' must be a file in an existing folder: current value is ${
            describeValue(opts.output)
          }`,
        );
      }
      if (opts.save && await kindAt(opts.dir) === "other") {
        throw new TypeError(
          `Cannot run '${module}' as '--dir' must be a folder (or not exist yet): current value is ${
            describeValue(opts.dir)
          }`,
        );
      }
      using interrupt = interruptSignal(options);
      code = await runModule(module, rest, {
        interrupt: interrupt.signal,
        export: opts.export,
        entry: opts.entry,
        save: opts.save,
        durability: opts.durability,
        dir: opts.dir,
        timeout: opts.timeout,
        runId: opts.runId,
        log: opts.log,
        outputFile: opts.output,
        quiet: opts.quiet ?? false,
      }, output);
    });

  program
    .command("inspect")
    .description(
      "Print a saved run's request tree with durations, statuses and errors.",
    )
    .argument(
      "<run>",
      "a run id, a unique prefix of one, or a run file (.json or .events.jsonl)",
    )
    .option(
      "--json",
      "print the run as JSON (summary and one entry per request)",
    )
    .option("-d, --dir <path>", "the state folder", DEFAULT_DIR)
    .action(async (ref: string, opts) => {
      const run = await loadRun(opts.dir, ref);
      for (const warning of run.warnings) output.err(`warning: ${warning}\n`);
      if (opts.json) {
        output.out(
          safeStringify(
            { ...summarize(run), requests: requestRows(run.runs) },
            2,
          ) +
            "\n",
        );
      } else {
        output.out(formatRunTree(run, { color: output.isTerminal }));
      }
    });

  program
    .command("ls")
    .description("List saved runs, newest first.")
    .option("--json", "print the list as JSON")
    .option("-d, --dir <path>", "the state folder", DEFAULT_DIR)
    .action(async (opts) => {
      // A folder named on purpose must exist; the default may not yet.
      if (opts.dir !== DEFAULT_DIR && !await isFolder(opts.dir)) {
        throw new TypeError(
          `Cannot list runs as '--dir' must be an existing folder: current value is ${
            describeValue(opts.dir)
          }`,
        );
      }
      const runs = await listRuns(opts.dir);
      output.out(
        opts.json
          ? safeStringify(runs, 2) + "\n"
          : formatRunList(runs, { color: output.isTerminal }),
      );
    });

  program
    .command("viz")
    .description(
      "Serve the visualizer on 127.0.0.1: saved runs as trees and timelines, live while they run.",
    )
    .option(
      "-p, --port <port>",
      "the port (0 picks a free one)",
      portNumber,
      8484,
    )
    .option("-d, --dir <path>", "the state folder", DEFAULT_DIR)
    .action(async (opts) => {
      // A folder named on purpose must exist; the default may not yet.
      if (opts.dir !== DEFAULT_DIR && !await isFolder(opts.dir)) {
        throw new TypeError(
          `Cannot serve the visualizer as '--dir' must be an existing folder: current value is ${
            describeValue(opts.dir)
          }`,
        );
      }
      // The server's own failures ("see the server's log") reach stderr,
      // unless the embedding application configured logging itself.
      applyLoggingSetting("ERROR", undefined, false);
      let server: ReturnType<typeof serveViz>;
      try {
        server = serveViz({ stateDir: opts.dir, port: opts.port });
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse)) throw error;
        throw new TypeError(
          `Cannot serve the visualizer as '--port' must be free on 127.0.0.1 (or 0 for any free one): current value is ${
            describeValue(opts.port)
          }`,
        );
      }
      const url = `http://127.0.0.1:${server.port}/`;
      output.err(`Serving runs from ${opts.dir} at ${url} (Ctrl-C to stop)\n`);
      options.onVizListening?.(url);
      await (options.stopSignal ?? stopOnSignal());
      await server.shutdown();
    });

  program
    .command("worker")
    .description(
      "Serve a queue of remote nodes: run each job in a local pool of Web Workers and report back to its runner.",
    )
    .requiredOption("--redis <url>", "the Redis server, e.g. redis://127.0.0.1:6379")
    .requiredOption("--queue <name>", "the queue to serve (a node's 'queue' option)")
    .option(
      "--concurrency <n>",
      "jobs at once (default: the number of CPUs)",
      positiveInteger("--concurrency"),
    )
    .option(
      "--permissions <json>",
      'Deno permissions of node code: "inherit", "none" or a JSON object',
      permissionsArgument,
    )
    .option(
      "--module <url...>",
      "modules jobs may name (paths or URLs; one ending in / allows a folder); default: the working directory",
    )
    .option("--prefix <prefix>", "the key prefix, as in the runners' remote.prefix", "switchyard")
    .option(
      "--lock-duration <ms>",
      "how long a job's lock lasts without renewal: a dead worker's job moves on after about this long",
      positiveInteger("--lock-duration"),
    )
    .option(
      "--stalled-interval <ms>",
      "how often to look for jobs whose worker died",
      positiveInteger("--stalled-interval"),
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 stopped by SIGINT/SIGTERM after running jobs finished, 2 bad options or Redis unreachable.\nExample: switchyard worker --redis redis://127.0.0.1:6379 --queue analyse --concurrency 4",
    )
    .action(async (opts) => {
      code = await runWorkerCommand(
        {
          redis: opts.redis,
          queue: opts.queue,
          prefix: opts.prefix,
          concurrency: opts.concurrency,
          permissions: opts.permissions,
          modules: opts.module,
          lockDuration: opts.lockDuration,
          stalledInterval: opts.stalledInterval,
        },
        output,
        options.stopSignal ?? stopOnSignal(),
      );
    });

  if (args.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...args], { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof RunNotFoundError) {
      const dir = runDirOption(args);
      const { command, dirOption } = cliInvocation(dir);
      output.err(`${error.message}\nList the saved runs with: ${command} ls${dirOption}\n`);
      return EXIT.usage;
    }
    if (error instanceof TypeError) {
      output.err(`${error.message}\n`);
      return EXIT.usage;
    }
    output.err(`${describeError(error)}\n`);
    return EXIT.failed;
  }
}

/** The `--dir` given on a command line (the last one wins), or the default. */
function runDirOption(args: readonly string[]): string {
  let dir = DEFAULT_DIR;
  args.forEach((arg, i) => {
    if ((arg === "--dir" || arg === "-d") && i + 1 < args.length) dir = args[i + 1];
    else if (arg.startsWith("--dir=")) dir = arg.slice("--dir=".length);
  });
  return dir;
}

/** What is at a path: a folder, something else, or nothing. */
async function kindAt(path: string): Promise<"folder" | "other" | "none"> {
  try {
    return (await Deno.stat(path)).isDirectory ? "folder" : "other";
  } catch {
    return "none";
  }
}

async function isFolder(path: string): Promise<boolean> {
  return await kindAt(path) === "folder";
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error, 400);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { InterruptedError } from "./run_command.ts";
export {
  findRunTarget,
  registerRunTarget,
  type RunOutcome,
  type RunTarget,
  type RunTargetContext,
  UnsupportedRunTargetError,
} from "./run_targets.ts";
export { type FormatOptions, formatRunList, formatRunTree } from "./inspect.ts";
export type { CliOutput } from "./progress.ts";
export { VERSION } from "./version.ts";
