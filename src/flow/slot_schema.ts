/**
 * Slots whose payload a schema checks: the handler gets the parsed, typed
 * payload, and a payload that does not fit fails the activation with an
 * error naming the slot, the field and the value.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import type { z } from "npm:zod@^4.1.0";
import { describeIssues } from "../core/validation.ts";

/**
 * A slot payload schema: a zod schema of an object (any value with zod's
 * `safeParse` fits).
 *
 * @typeParam T The parsed payload.
 */
export interface SlotSchema<T extends Record<string, unknown> = Record<string, unknown>> {
  /** Parses a payload without throwing. */
  safeParse(data: unknown): { success: true; data: T } | { success: false; error: unknown };
}

/** The parsed payload type of a slot schema. */
export type SlotPayload<S> = S extends SlotSchema<infer T> ? T : never;

/** Options of a slot defined with a schema. */
export interface SlotOptions<S extends SlotSchema> {
  /**
   * Checks (and may transform, e.g. apply defaults to) each payload before
   * the handler sees it.
   */
  schema: S;
}

/** A handler of a slot with a schema: it gets the parsed payload. */
export type TypedSlotHandler<S extends SlotSchema> = (data: SlotPayload<S>) => unknown;

/**
 * Wraps a handler so that it gets the payload parsed by the schema.
 *
 * @param routine The routine's name, for errors.
 * @param slot The slot's name, for errors.
 * @param options The schema.
 * @param handler The handler.
 * @returns A handler taking the raw payload.
 * @throws {TypeError} If `options.schema` is not a zod schema.
 */
export function slotWithSchema<S extends SlotSchema>(
  routine: string,
  slot: string,
  options: SlotOptions<S>,
  handler: TypedSlotHandler<S>,
): (data: Record<string, unknown>) => unknown {
  const schema = options?.schema;
  if (typeof schema?.safeParse !== "function") {
    throw new TypeError(
      `Cannot define slot '${slot}' of routine '${routine}' as 'schema' must be a zod schema: current value is ${
        describeValue(schema)
      }`,
    );
  }
  return (data) => {
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new TypeError(
        `Cannot run slot '${slot}' of routine '${routine}' as ${
          describeIssues(parsed.error as z.ZodError, data)
        }`,
      );
    }
    return handler(parsed.data as SlotPayload<S>);
  };
}
