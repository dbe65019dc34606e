/**
 * `switchyard run` arguments checked by a schema the module exports: `args`
 * for the default export, `<export>Args` for a named one. Any schema with
 * zod's `safeParse` works; it sees the list of parsed arguments (a tuple
 * schema for a node's parameters, a one-object tuple for a flow's
 * entryParams), and what it returns is what the run gets.
 *
 * @module
 */
import type { z } from "npm:zod@^4.1.0";
import { describeIssues } from "../core/validation.ts";
import { describeValue } from "../core/describe.ts";

/** The name of the export holding the argument schema of an export. */
export function argsSchemaName(exportName: string): string {
  return exportName === "default" ? "args" : `${exportName}Args`;
}

/** Whether a value looks like a zod schema. */
function isSchema(value: unknown): value is z.ZodType {
  return typeof (value as { safeParse?: unknown })?.safeParse === "function";
}

/**
 * Validates the arguments with the module's schema, if it exports one.
 *
 * @param module The imported module.
 * @param exportName The export being run.
 * @param args The parsed arguments.
 * @returns The arguments to run with, or the problem as a sentence fragment
 *   naming the argument and field.
 */
export function checkArgs(
  module: Record<string, unknown>,
  exportName: string,
  args: unknown[],
): { args: unknown[] } | { problem: string } {
  const schema = module[argsSchemaName(exportName)];
  if (!isSchema(schema)) return { args };
  const result = schema.safeParse(args);
  if (result.success) {
    return { args: Array.isArray(result.data) ? result.data : [result.data] };
  }
  const problems = result.error.issues.slice(0, 3).map((issue) => {
    const [index, ...rest] = issue.path;
    if (index === undefined && (issue.code === "too_small" || issue.code === "too_big")) {
      const bound = issue.code === "too_small"
        ? `at least ${issue.minimum}`
        : `at most ${issue.maximum}`;
      return `${bound} argument(s) must be given: current value is ${describeValue(args, 80)}`;
    }
    if (typeof index !== "number") {
      return describeIssues({ issues: [issue] } as z.ZodError, args)
        .replace("'(root)'", "the arguments");
    }
    const text = describeIssues({ issues: [{ ...issue, path: rest }] } as z.ZodError, args[index]);
    return text.startsWith("'(root)'")
      ? text.replace("'(root)'", `argument ${index + 1}`)
      : `argument ${index + 1}: ${text}`;
  });
  return {
    problem: `${problems.join("; ")} (checked by the export '${argsSchemaName(exportName)}')`,
  };
}
