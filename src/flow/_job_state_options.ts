/**
 * The options of a `JobState` and how they are checked.
 *
 * @module
 */
import { z } from "npm:zod@^4.1.0";

/** Options of `JobState`. */
export interface JobStateOptions {
  /**
   * The job's id (a non-empty string).
   *
   * @default crypto.randomUUID()
   */
  jobId?: string;
  /**
   * How many history records are kept (the oldest go first); a positive integer.
   *
   * @default 1000
   */
  maxHistorySize?: number;
  /**
   * How long history records are kept, in ms (a positive number).
   *
   * @default undefined (forever)
   */
  historyTtl?: number;
}

/** Checks {@linkcode JobStateOptions} (unknown fields are refused). */
export const jobStateOptionsSchema: z.ZodType<JobStateOptions> = z.object({
  jobId: z.string().min(1).optional(),
  maxHistorySize: z.number().int().positive().optional(),
  historyTtl: z.number().positive().finite().optional(),
}).strict();
