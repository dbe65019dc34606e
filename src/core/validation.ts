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
    const deeper = issue.code === "invalid_union" ? matchedBranch(issue) : undefined;
    if (deeper) {
      // The value had a branch's shape but not its content: that branch's
      // problem names the field inside ("'permissions.read[0]' must be a
      // string"), where the branches' kinds alone would leave it out.
      const issues = deeper.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }));
      return describeIssues({ issues } as z.ZodError, input);
    }
    const path = issue.path.reduce<string>(
      (text, key) =>
        typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
      "",
    ) || "(root)";
    let value: unknown = input;
    for (const key of issue.path) {
      value = value === null || value === undefined
        ? undefined
        : (value as Record<PropertyKey, unknown>)[key as PropertyKey];
    }
    if (issue.code === "unrecognized_keys") {
      // An empty key is shown as "" so the sentence still names it; a key
      // of a nested object is named with its path.
      const prefix = path === "(root)" ? "" : `${path}.`;
      return `${
        issue.keys.map((k) => `'${prefix}${k === "" ? '""' : k}'`).join(", ")
      } must not be given (unknown option)`;
    }
    return `'${path}' must be ${expectation(issue)}: current value is ${describeValue(value, 80)}`;
  }).join("; ");
}

/**
 * The issues of the one union branch whose shape the value has (its
 * problems are inside the value, or keys too many), if exactly one.
 */
function matchedBranch(
  issue: z.core.$ZodIssueInvalidUnion,
): z.core.$ZodIssue[] | undefined {
  const inside = issue.errors.filter((errors) =>
    errors.some((inner) => inner.path.length > 0 || inner.code === "unrecognized_keys")
  );
  return inside.length === 1 ? inside[0] : undefined;
}

const ARTICLE: Record<string, string> = {
  array: "an array",
  int: "an integer",
  object: "an object",
  // A record schema takes any plain object.
  record: "an object",
  undefined: "undefined",
  null: "null",
};

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return ARTICLE[issue.expected] ?? `a ${issue.expected}`;
    case "too_small":
      if (issue.origin === "string" && Number(issue.minimum) === 1) return "a non-empty string";
      if (issue.origin === "string") return `at least ${String(issue.minimum)} characters long`;
      return issue.minimum === 0 && issue.inclusive === false
        ? "positive"
        : `at least ${String(issue.minimum)}`;
    case "too_big":
      if (issue.origin === "string") return `at most ${String(issue.maximum)} characters long`;
      return `at most ${String(issue.maximum)}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union": {
      // Each branch's own expectation of the value itself ("a boolean or a
      // string"); zod's own message for a union is a bare "Invalid input".
      const branches = issue.errors.flatMap((errors) =>
        errors.length > 0 && errors[0].path.length === 0 ? [expectation(errors[0])] : []
      );
      const unique = [...new Set(branches)];
      if (unique.length === 0) return "valid";
      return unique.length === 1
        ? unique[0]
        : `${unique.slice(0, -1).join(", ")} or ${unique.at(-1)}`;
    }
    default:
      return issue.message.replace(/^Invalid input: expected /i, "");
  }
}
