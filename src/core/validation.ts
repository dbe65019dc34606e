/**
 * Turns zod issues into "'field' must be …: current value is …" sentences.
 *
 * @module
 */
import type { z } from "npm:zod@^4.1.0";
import { describeValue } from "./describe.ts";

/**
 * Describes the first issues of a failed parse, naming each field and the
 * value it had.
 *
 * @param error The zod error.
 * @param input The value that was parsed.
 * @returns A sentence fragment, e.g. `'timeout' must be …: current value is -1`.
 */
export function describeIssues(error: z.ZodError, input: unknown): string {
  return error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map(String).join(".") || "(root)";
    let value: unknown = input;
    for (const key of issue.path) {
      value = value === null || value === undefined
        ? undefined
        : (value as Record<PropertyKey, unknown>)[key as PropertyKey];
    }
    if (issue.code === "unrecognized_keys") {
      return `${issue.keys.map((k) => `'${k}'`).join(", ")} must not be given (unknown option)`;
    }
    return `'${path}' must be ${expectation(issue)}: current value is ${describeValue(value, 80)}`;
  }).join("; ");
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `of type ${issue.expected}`;
    case "too_small":
      return issue.minimum === 0 && issue.inclusive === false
        ? "positive"
        : `at least ${String(issue.minimum)}`;
    case "too_big":
      return `at most ${String(issue.maximum)}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message.replace(/^Invalid input: expected /i, "");
  }
}
