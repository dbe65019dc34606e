/**
 * Errors of runs that save their record: an id already taken, a record that
 * could not be written.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";

/**
 * A run was refused because its `runIdentifier` names a run that is saved
 * under the same `stateDir`, or that is running now. Nothing was written:
 * the other run's files are untouched.
 *
 * @example A second run under a saved id
 * ```ts
 * import { node, Runner, RunIdInUseError } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * const config = { saveState: true, stateDir, runIdentifier: "nightly", loggingSetting: "NONE" } as const;
 * {
 *   await using runner = new Runner(config);
 *   await runner.run(node(() => 1, { name: "one" }));
 * }
 * assert.throws(() => new Runner(config), RunIdInUseError);
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export class RunIdInUseError extends Error {
  /** The run identifier asked for. */
  readonly runId: string;
  /** The state folder it was asked for in. */
  readonly stateDir: string;
  /**
   * Makes a RunIdInUseError.
   *
   * @param runId The run identifier.
   * @param stateDir The state folder.
   * @param why `"saved"` (its files exist) or `"running"` (in this process).
   */
  constructor(runId: string, stateDir: string, why: "saved" | "running") {
    super(
      `Cannot start run as 'runIdentifier' must not name a ${
        why === "saved" ? "saved" : "running"
      } run in '${stateDir}' (choose another id, or remove that run): current value is ${
        describeValue(runId)
      }`,
    );
    this.name = "RunIdInUseError";
    this.runId = runId;
    this.stateDir = stateDir;
  }
}

/**
 * With `saveState`, the record of a run could not be written (the state
 * folder is read-only, full, or a file): the caller is told instead of a
 * run that later loads as crashed. A runner whose state folder cannot be
 * written at all throws it when it is made; a save that fails later makes
 * `run()` reject with it (the run's record stays readable in memory, in
 * `runner.info`). `cause` is the file error; `runError` is what the run
 * itself threw, if it failed too.
 *
 * @example A state folder that is a file
 * ```ts
 * import { Runner, RunNotSavedError } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempFile();
 * assert.throws(
 *   () => new Runner({ saveState: true, stateDir, loggingSetting: "NONE" }),
 *   RunNotSavedError,
 * );
 * await Deno.remove(stateDir);
 * ```
 */
export class RunNotSavedError extends Error {
  /** The run identifier. */
  readonly runId: string;
  /** The state folder it should have been saved in. */
  readonly stateDir: string;
  /** What the run threw, if it failed as well; `undefined` if it completed. */
  readonly runError: unknown;
  /**
   * Makes a RunNotSavedError.
   *
   * @param runId The run identifier.
   * @param stateDir The state folder.
   * @param options The file error as `cause`, and the run's own error.
   */
  constructor(
    runId: string,
    stateDir: string,
    options: ErrorOptions & { runError?: unknown } = {},
  ) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`Cannot save run '${runId}' in '${stateDir}': ${why}`, { cause: options.cause });
    this.name = "RunNotSavedError";
    this.runId = runId;
    this.stateDir = stateDir;
    this.runError = options.runError;
  }
}
