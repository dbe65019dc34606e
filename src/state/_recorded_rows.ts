/**
 * Versions recorded by hand (through the Forest API, or loaded from a saved
 * run) rather than by the runtime: the checks on the status and stamp they
 * are given, and which stamp text a row keeps for them.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { ForestVersionError } from "./forest.ts";
import type { Stamp } from "./stamp.ts";
import { STATUS_CODES } from "./_rows.ts";
import type { RequestStatus } from "./request_forest.ts";

/**
 * The status code of a version recorded by hand, once it is known to fit
 * after the row's newest version.
 *
 * @param identifier The request's id (for the messages).
 * @param status The version's status.
 * @param stamp The version's stamp.
 * @param lastStep The step of the row's newest version.
 * @returns The status code.
 * @throws {TypeError} If `status` is not a request status.
 * @throws {ForestVersionError} If the stamp's step goes back.
 */
export function recordedCode(
  identifier: string,
  status: RequestStatus,
  stamp: Stamp,
  lastStep: number,
): number {
  const code = STATUS_CODES[status];
  if (code === undefined) {
    throw new TypeError(
      `Cannot record request '${identifier}' as 'status' must be Open, Completed, Failed or Cancelled: current value is ${
        describeValue(status)
      }`,
    );
  }
  if (!(stamp?.step >= lastStep)) {
    throw new ForestVersionError(
      `Cannot store a version of '${identifier}' as 'stamp.step' must be at least its parent's (${lastStep}): current value is ${
        describeValue(stamp?.step)
      }`,
    );
  }
  return code;
}

/**
 * The stamp text a row keeps for a version: none when it is the default
 * one (`"<status> request <id>"`), which is built again when read.
 *
 * @param text The stamp's text.
 * @param status The version's status.
 * @param identifier The request's id.
 * @returns The text to keep, or `undefined`.
 */
export function keptText(
  text: string,
  status: RequestStatus,
  identifier: string,
): string | undefined {
  return text === `${status} request ${identifier}` ? undefined : text;
}
