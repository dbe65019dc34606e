/**
 * The run session of a flow job: the same wiring, strategies and observers
 * as every other run, with the job's id as the run id.
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import { type Durability, parseExecutorConfig } from "../execution/config.ts";
import { RunSession } from "../run/run_session.ts";
import { RunIdInUseError } from "../run/errors.ts";

const log = logger("flow");

/** The most run ids tried for a resumed job whose id is taken. */
const MAX_RESUMED_IDS = 1000;

/** Where and whether a job's record is saved. */
export interface JobSessionOptions {
  /** Save the job's record as a run under `stateDir`. */
  saveState: boolean;
  /** Where saved runs go. */
  stateDir: string;
  /** How the event log reaches its file. */
  durability: Durability;
  /** Whether the job may have been saved before (a resumed job). */
  resumed: boolean;
}

/**
 * Opens the session of a job, with the strategies of every run (routines
 * may call worker, process and queue nodes). A resumed job whose id names a
 * saved run (its earlier part) is saved under `<jobId>.resumed-<n>`, and
 * says so.
 *
 * @param jobId The job's id.
 * @param options Saving.
 * @returns The open session.
 * @throws {RunIdInUseError} If the job id (or every resumed id) is taken.
 * @throws {RunNotSavedError} If `stateDir` cannot be written.
 */
export function openJobSession(jobId: string, options: JobSessionOptions): RunSession {
  const open = (runIdentifier: string) =>
    new RunSession(
      parseExecutorConfig({
        runIdentifier,
        saveState: options.saveState,
        stateDir: options.stateDir,
        durability: options.durability,
      }),
      { kind: "flow", logging: "off" },
    );
  try {
    return open(jobId);
  } catch (error) {
    if (!options.resumed || !(error instanceof RunIdInUseError)) throw error;
  }
  for (let n = 2; n < MAX_RESUMED_IDS; n++) {
    try {
      const session = open(`${jobId}.resumed-${n}`);
      log.info("Job {jobId} resumed: its record is saved as run {runId}", {
        jobId,
        runId: session.runId,
      });
      return session;
    } catch (error) {
      if (!(error instanceof RunIdInUseError)) throw error;
    }
  }
  throw new RunIdInUseError(jobId, options.stateDir, "saved");
}
