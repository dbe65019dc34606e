/**
 * The one rule for run identifiers, shared by the runners that save runs and
 * the loader that reads them back.
 *
 * @module
 */

/**
 * The longest run identifier: its files (`<id>.events.jsonl`, and the
 * temporary `<id>.json.<uuid>.tmp` of an atomic write) must fit in the
 * 255-byte file name limit of common file systems.
 */
export const RUN_ID_MAX_LENGTH = 200;

const RUN_ID = /^[\w.-]+$/;

/** What a run identifier must be, as error messages say it. */
export const RUN_ID_RULE =
  `made of 1 to ${RUN_ID_MAX_LENGTH} letters, digits, '.', '_' or '-', and not '.' or '..'`;

/**
 * Whether a string can be a run identifier: 1 to {@linkcode RUN_ID_MAX_LENGTH}
 * letters, digits, `.`, `_` or `-`, and neither `.` nor `..`, so it names a
 * file inside the runs folder and nothing else.
 *
 * @param value Anything.
 * @returns `true` for a well-formed run id.
 *
 * @example Ids and paths
 * ```ts
 * import { isRunId } from "@switchyard/core/persistence";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isRunId("3f2a-run_1.b"), true);
 * assert.equal(isRunId("../etc/passwd"), false);
 * assert.equal(isRunId(".."), false);
 * assert.equal(isRunId("x".repeat(201)), false);
 * ```
 */
export function isRunId(value: unknown): value is string {
  return typeof value === "string" && value.length <= RUN_ID_MAX_LENGTH &&
    RUN_ID.test(value) && value !== "." && value !== "..";
}
