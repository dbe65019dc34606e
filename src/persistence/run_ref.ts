/**
 * Which saved run a reference names: a run id, a unique prefix of one, or
 * the path of a run's file; and the error for a run that is not there.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { basename, dirname } from "node:path";
import { isRunId, RUN_ID_RULE } from "../core/run_id.ts";
import { runsDir } from "./run_store.ts";
import { savedRunIds } from "./run_files.ts";

/** A run that is not on disk (or a file that is not a run). */
export class RunNotFoundError extends Error {
  /** Always `"RunNotFoundError"`. */
  override readonly name = "RunNotFoundError";
  /**
   * Makes a RunNotFoundError.
   *
   * @param message What was looked for, and where.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export { isRunId };

/**
 * Finds where a run reference points: a run id in `stateDir`, a unique
 * prefix of one, or the path of a `.json` or `.events.jsonl` file.
 *
 * @param stateDir The state folder.
 * @param ref A run id, an id prefix, or a file path.
 * @returns The runs folder and the run id.
 * @throws {RunNotFoundError} If no run matches, or several ids share the prefix.
 *
 * @example A unique prefix
 * ```ts
 * import { node, Runner } from "@switchyard/core";
 * import { resolveRun } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * const stateDir = await Deno.makeTempDir();
 * {
 *   await using runner = new Runner({ saveState: true, stateDir, runIdentifier: "nightly-42", loggingSetting: "NONE" });
 *   await runner.run(node(() => 1, { name: "one" }));
 * }
 * assert.equal((await resolveRun(stateDir, "night")).runId, "nightly-42");
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 * @throws {TypeError} If `ref` is neither a well-formed id nor a run file
 *   (a folder, link or pipe is not one).
 */
export async function resolveRun(
  stateDir: string,
  ref: string,
): Promise<{ dir: string; runId: string }> {
  const file = /\.events\.jsonl$|\.json$/.exec(ref);
  if (file && (ref.includes("/") || ref.includes("\\") || await fileKind(ref) !== null)) {
    const name = basename(ref).slice(0, -file[0].length);
    const kind = await fileKind(ref);
    if (kind === null) {
      throw new RunNotFoundError(
        `Cannot load run as file '${ref}' does not exist`,
      );
    }
    if (kind !== "file") {
      throw new TypeError(
        `Cannot load run as '${ref}' must be a run file, not a ${kind}: current value is ${
          describeValue(ref)
        }`,
      );
    }
    return { dir: dirname(ref), runId: name };
  }
  if (!isRunId(ref)) {
    throw new TypeError(
      `Cannot load run as 'runId' must be ${RUN_ID_RULE}, or be a .json/.events.jsonl file: current value is ${
        describeValue(ref)
      }`,
    );
  }
  const dir = runsDir(stateDir);
  const ids = await savedRunIds(dir);
  if (ids.has(ref)) return { dir, runId: ref };
  const matches = [...ids].filter((id) => id.startsWith(ref));
  if (matches.length === 1) return { dir, runId: matches[0] };
  throw new RunNotFoundError(
    matches.length === 0
      ? `Cannot load run as 'runId' must name a run in ${dir}: current value is ${
        describeValue(ref)
      }`
      : `Cannot load run as 'runId' must name one run in ${dir}: '${ref}' starts ${matches.length} (${
        matches.slice(0, 5).join(", ")
      })`,
  );
}

/** What is at a path (a link is not followed), or `null` for nothing. */
async function fileKind(path: string): Promise<"file" | "folder" | "link" | "special file" | null> {
  try {
    const info = await Deno.lstat(path);
    if (info.isFile) return "file";
    if (info.isDirectory) return "folder";
    return info.isSymlink ? "link" : "special file";
  } catch {
    return null;
  }
}
