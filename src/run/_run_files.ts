/**
 * Files a run session touches besides its records: the log file it is
 * given, and the event log it removes when a run recorded nothing.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";

/** Removes a file; one that is gone already is no error. */
export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Gone already: nothing to tidy.
  }
}

/**
 * Opens the log file for appending once, so a path that cannot be written
 * fails now, naming it, instead of losing every line later.
 */
export function requireWritableLogFile(made: string, path: string): void {
  try {
    Deno.openSync(path, { append: true, create: true }).close();
  } catch (error) {
    throw new TypeError(
      `Cannot create ${made} as 'logFile' must be a file that can be appended to (${
        describeValue(error, 160)
      }): current value is ${describeValue(path)}`,
      { cause: error },
    );
  }
}
