/**
 * The package version, as `switchyard --version` prints it.
 *
 * @module
 */

/**
 * The version of `@switchyard/core` (kept equal to `deno.json`'s `version`
 * by a test).
 *
 * @example Reading the version
 * ```ts
 * import { VERSION } from "@switchyard/core/cli";
 * import assert from "node:assert/strict";
 *
 * assert.match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = "0.1.0";
