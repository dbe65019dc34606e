/**
 * Claiming a run identifier before a run that saves starts: one run per id
 * and state folder, never two writing into the same files.
 *
 * @module
 */
import { resolve } from "node:path";
import { eventLogPath } from "../persistence/event_log.ts";
import { runsDir } from "../persistence/run_store.ts";
import { join } from "node:path";
import { RunIdInUseError, RunNotSavedError } from "./errors.ts";

// Invariant: holds `<absolute runs folder>\0<runId>` of every run of this
// process that claimed its id and has not released it.
const running = new Set<string>();

/** A claimed run id; `release()` frees it for this process. */
export interface RunClaim {
  /** Frees the id (its files stay); removes an event log left empty. */
  release(): void;
}

/**
 * Claims a run id: refused if a run of this process holds it, or if the
 * run's snapshot or event log exists. The event log is created empty with
 * an exclusive create, so two processes claiming at once cannot both win.
 *
 * @param stateDir The state folder.
 * @param runId The run identifier (already checked against the id rule).
 * @returns The claim.
 * @throws {RunIdInUseError} If the id is taken.
 * @throws {RunNotSavedError} If the runs folder cannot be written.
 */
export function claimRunId(stateDir: string, runId: string): RunClaim {
  const dir = runsDir(stateDir);
  const key = `${resolve(dir)}\u0000${runId}`;
  if (running.has(key)) throw new RunIdInUseError(runId, stateDir, "running");
  if (exists(join(dir, `${runId}.json`))) {
    throw new RunIdInUseError(runId, stateDir, "saved");
  }
  const logPath = eventLogPath(stateDir, runId);
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (error) {
    // A file where the runs folder should be (AlreadyExists too): not an id
    // in use.
    throw new RunNotSavedError(runId, stateDir, { cause: error });
  }
  try {
    Deno.openSync(logPath, { createNew: true, write: true }).close();
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new RunIdInUseError(runId, stateDir, "saved");
    }
    throw new RunNotSavedError(runId, stateDir, { cause: error });
  }
  running.add(key);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      running.delete(key);
      try {
        if (Deno.statSync(logPath).size === 0) Deno.removeSync(logPath);
      } catch {
        // Gone already, or unreadable: nothing to tidy.
      }
    },
  };
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
