/**
 * `switchyard run <module> [--export name] [args…]`: imports a module, finds
 * the export, runs it with live progress and says how it went.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { LoggingSetting } from "../core/logging.ts";
import type { Durability } from "../execution/config.ts";
import { isRunId, RUN_ID_RULE } from "../core/run_id.ts";
import { RunIdInUseError } from "../run/errors.ts";
import { runsDir } from "../persistence/run_store.ts";
import { type CliOutput, ProgressDisplay } from "./progress.ts";
import { safeStringify } from "../core/json_safe.ts";
import { describeValue } from "./_format.ts";
import { findRunTarget, UnsupportedRunTargetError } from "./run_targets.ts";
import { checkArgs } from "./_args_schema.ts";
import { cliInvocation } from "./_invocation.ts";

/** Options of {@linkcode runModule}. */
export interface RunModuleOptions {
  /** The export to run (default `"default"`). */
  export?: string;
  /** A flow's entry routine (default: its first routine). */
  entry?: string;
  /** Save the run under `dir` (default `true`). */
  save?: boolean;
  /**
   * How the saved run's event log reaches its file.
   *
   * @default {"batch"}
   */
  durability?: Durability;
  /** The state folder (default `.switchyard`). */
  dir?: string;
  /** Time limit for the run in ms. */
  timeout?: number;
  /** The run identifier (default a fresh UUID). */
  runId?: string;
  /** How much the runtime logs (default `"NONE"`: the CLI reports itself). */
  log?: LoggingSetting;
  /**
   * Aborting it stops the run (Ctrl-C); the exit code is then 130, or 143
   * when the reason is an {@linkcode InterruptedError} for SIGTERM.
   */
  interrupt?: AbortSignal;
  /** Write the answer (pretty JSON) to this file instead of stdout. */
  outputFile?: string;
  /** Print no answer at all. @default false */
  quiet?: boolean;
}

/** Answers longer than this (in characters) come with a hint about --output and --quiet. */
const LARGE_ANSWER = 16_384;

/** Exit codes of the CLI: 128 + the signal's number for a signal. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  interrupted: 130,
  terminated: 143,
} as const;

/**
 * Why a `run` was stopped from outside: the process got SIGINT or SIGTERM.
 * Both cancel what is open and save the run as cancelled; the exit code
 * says which (130 or 143).
 *
 * @example The reason of an interrupt
 * ```ts
 * import { InterruptedError } from "@switchyard/core/cli";
 * import assert from "node:assert/strict";
 *
 * const controller = new AbortController();
 * controller.abort(new InterruptedError("SIGTERM"));
 * assert.equal((controller.signal.reason as InterruptedError).signal, "SIGTERM");
 * ```
 */
export class InterruptedError extends Error {
  /** The signal the process got. */
  readonly signal: "SIGINT" | "SIGTERM";
  /**
   * Makes an InterruptedError.
   *
   * @param signal The signal.
   */
  constructor(signal: "SIGINT" | "SIGTERM") {
    super(`Interrupted by ${signal}`);
    this.name = "InterruptedError";
    this.signal = signal;
  }
}

/**
 * Parses a command-line argument: JSON when it is valid JSON, else the
 * string itself.
 *
 * @param text The argument.
 * @returns The value.
 */
export function parseArgument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The URL to import for a module reference: URLs as they are, paths
 * resolved from the working folder.
 *
 * @param ref A path or URL.
 * @returns The URL.
 */
export function moduleUrl(ref: string): string {
  if (/^(file|https?|npm|jsr|data):/.test(ref)) return ref;
  return pathToFileURL(resolve(ref)).href;
}

/**
 * Runs a module's export and reports on `output`.
 *
 * @param ref The module's path or URL.
 * @param args The positional arguments (parsed as JSON when valid).
 * @param options The export, saving, folder, timeout, run id.
 * @param output Where to write.
 * @returns The exit code: 0 success, 1 the run failed, 2 it could not be run,
 *   130 interrupted, 143 terminated.
 */
export async function runModule(
  ref: string,
  args: readonly string[],
  options: RunModuleOptions,
  output: CliOutput,
): Promise<number> {
  const exportName = options.export ?? "default";
  if (options.runId !== undefined && !isRunId(options.runId)) {
    output.err(
      `Cannot run as '--run-id' must be ${RUN_ID_RULE}: current value is ${
        describeValue(options.runId)
      }\n`,
    );
    return EXIT.usage;
  }
  let module: Record<string, unknown>;
  try {
    module = await import(moduleUrl(ref));
  } catch (error) {
    output.err(
      `Cannot run '${ref}' as it could not be imported: ${describeValue(error, 400)}\n`,
    );
    return EXIT.usage;
  }
  if (!(exportName in module)) {
    const names = Object.keys(module).map((n) => `'${n}'`).join(", ");
    output.err(
      `Cannot run '${ref}' as '--export' must name one of its exports (${
        names || "none"
      }): current value is ${describeValue(exportName)}\n`,
    );
    return EXIT.usage;
  }
  const value = module[exportName];
  const target = findRunTarget(value);
  if (!target) {
    output.err(
      `Cannot run '${ref}' as export '${exportName}' must be a node, a flow or states: current value is ${
        describeValue(value, 80)
      }\n`,
    );
    return EXIT.usage;
  }
  if (options.entry !== undefined && target.kind !== "flow") {
    output.err(
      `Cannot run '${ref}' as '--entry' applies to a flow only: export '${exportName}' is a ${target.kind}\n`,
    );
    return EXIT.usage;
  }
  const checked = checkArgs(module, exportName, args.map(parseArgument));
  if ("problem" in checked) {
    output.err(`Cannot run '${ref}' as ${checked.problem}\n`);
    return EXIT.usage;
  }
  const progress = new ProgressDisplay(output);
  const save = options.save ?? true;
  const dir = options.dir ?? ".switchyard";
  let outcome;
  try {
    outcome = await target.run(value, {
      config: {
        saveState: save,
        stateDir: dir,
        durability: options.durability,
        timeout: options.timeout,
        runIdentifier: options.runId,
        loggingSetting: options.log ?? "NONE",
      },
      args: checked.args,
      entry: options.entry,
      label: `export '${exportName}' of '${ref}'`,
      observe: (source) => progress.observe(source),
      signal: options.interrupt ?? new AbortController().signal,
    });
  } catch (error) {
    progress.stop();
    // A target's usage problems are whole sentences naming what cannot
    // run; anything else is said with the module.
    output.err(
      error instanceof TypeError && error.message.startsWith("Cannot run ")
        ? `${error.message}\n`
        : `Cannot run '${ref}': ${describeValue(error, 400)}\n`,
    );
    return error instanceof UnsupportedRunTargetError ||
        error instanceof TypeError || error instanceof RunIdInUseError
      ? EXIT.usage
      : EXIT.failed;
  }
  progress.stop();
  const { done, failed, cancelled } = progress.counts;
  const total = outcome.info.requestHeap.size;
  const counts = `${total} ${total === 1 ? "request" : "requests"} (${done} done, ${failed} failed${
    cancelled ? `, ${cancelled} cancelled` : ""
  })`;
  const interrupted = options.interrupt?.aborted ?? false;
  let unwritten = false;
  const terminated = interrupted &&
    (options.interrupt?.reason as InterruptedError | undefined)?.signal === "SIGTERM";
  if (interrupted) {
    output.err(
      `${terminated ? "Terminated" : "Interrupted"} after ${progress.elapsed}: ${counts}\n`,
    );
  } else if (outcome.error === undefined) {
    output.err(
      outcome.stopped === "Paused"
        ? `Paused after ${progress.elapsed}: ${counts}\n`
        : `Completed in ${progress.elapsed}: ${counts}\n`,
    );
    if (outcome.answer !== undefined && !options.quiet) {
      if (options.outputFile === undefined) {
        const text = safeStringify(outcome.answer);
        output.out(text + "\n");
        if (text.length > LARGE_ANSWER) {
          output.err(
            `(the answer is ${
              Math.round(text.length / 1024)
            } KiB of JSON: --output FILE writes it to a file, --quiet leaves it out)\n`,
          );
        }
      } else {
        const text = safeStringify(outcome.answer, 2) + "\n";
        try {
          await Deno.writeTextFile(options.outputFile, text);
          output.err(`Wrote the answer to ${options.outputFile}\n`);
        } catch (error) {
          // The run is over: its answer goes to stdout rather than nowhere.
          output.err(
            `Cannot write the answer as '--output' must be a writable file: current value is ${
              describeValue(options.outputFile)
            } (${describeValue(error)}); it follows on stdout\n`,
          );
          output.out(text);
          unwritten = true;
        }
      }
    }
  } else {
    // The error once: the failure line above when it showed it.
    const detail = progress.hasShown(outcome.error)
      ? ""
      : `${describeValue(outcome.error, 2000)}\n`;
    output.err(`Failed after ${progress.elapsed}: ${counts}\n${detail}`);
  }
  const snapshot = join(runsDir(dir), `${outcome.runId}.json`);
  if (save && !await exists(snapshot)) {
    output.err(`warning: the run could not be saved to ${snapshot}\n`);
  } else if (save) {
    const { command, dirOption } = cliInvocation(dir);
    output.err(
      `Saved run ${outcome.runId}: ${command} inspect ${outcome.runId}${dirOption}  |  ${command} viz${dirOption}\n`,
    );
  }
  if (interrupted) return terminated ? EXIT.terminated : EXIT.interrupted;
  return outcome.error === undefined && !unwritten ? EXIT.ok : EXIT.failed;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
