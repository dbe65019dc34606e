/**
 * The files of saved runs in a runs folder: which run ids have files, and a
 * key that changes whenever a run's files do (for caches of summaries).
 *
 * @module
 */
import { join } from "node:path";
import { isRunId } from "../core/run_id.ts";
import { describeValue } from "../core/describe.ts";

/**
 * The ids of the runs that have a snapshot or an event log in a runs folder.
 *
 * @param dir The runs folder; a missing folder has no runs.
 * @returns The run ids (file names that are not run ids are passed over).
 * @throws {TypeError} If a file is where the folder should be.
 */
export async function savedRunIds(dir: string): Promise<Set<string>> {
  const ids = new Set<string>();
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile) continue;
      const match = /^(.+?)(\.events\.jsonl|\.json)$/.exec(entry.name);
      if (match && isRunId(match[1])) ids.add(match[1]);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotADirectory) {
      throw new TypeError(
        `Cannot list runs as the runs folder must be a folder: current value is ${
          describeValue(dir)
        } (a file)`,
        { cause: error },
      );
    }
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return ids;
}

/**
 * Whether a path is a run file: a regular file itself, not a link, folder
 * or pipe. A link in a runs folder could name any file on the machine, so
 * readers of runs (the visualizer among them) never follow one, as
 * {@linkcode savedRunIds} never lists one.
 *
 * @param path The file.
 * @returns `true` for a regular file.
 *
 * @example A link to a file is not a run file
 * ```ts
 * import { isRunFile } from "./run_files.ts";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(join(dir, "a.json"), "{}");
 * await Deno.symlink(join(dir, "a.json"), join(dir, "b.json"));
 * assert.equal(await isRunFile(join(dir, "a.json")), true);
 * assert.equal(await isRunFile(join(dir, "b.json")), false);
 * assert.equal(await isRunFile(join(dir, "none.json")), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function isRunFile(path: string): Promise<boolean> {
  try {
    return (await Deno.lstat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * A key of a run's files (sizes and modification times of its snapshot and
 * event log): equal keys mean the files did not change in between.
 *
 * @param dir The runs folder.
 * @param runId The run.
 * @returns The key.
 */
export async function runFilesKey(dir: string, runId: string): Promise<string> {
  const parts = await Promise.all(
    [`${runId}.json`, `${runId}.events.jsonl`].map(async (name) => {
      try {
        const info = await Deno.stat(join(dir, name));
        return `${info.size}@${info.mtime?.getTime() ?? 0}`;
      } catch {
        return "-";
      }
    }),
  );
  return parts.join("|");
}
