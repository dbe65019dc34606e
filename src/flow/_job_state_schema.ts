/**
 * The file format of a saved JobState, checked with zod on load.
 *
 * @module
 */
import { z } from "zod";

const record = z.record(z.string(), z.unknown());

/** One saved JobState (`format: "switchyard.job/1"`). */
export const jobStateFileSchema = z.object({
  format: z.literal("switchyard.job/1"),
  flowId: z.string().min(1),
  jobId: z.string().min(1),
  status: z.enum([
    "pending",
    "running",
    "paused",
    "completed",
    "failed",
    "cancelled",
  ]),
  createdAt: z.number(),
  updatedAt: z.number(),
  maxHistorySize: z.number().int().positive(),
  historyTtl: z.number().positive().nullable(),
  error: z.object({ name: z.string(), message: z.string() }).nullable(),
  routineStates: z.record(z.string(), record),
  history: z.array(z.object({
    routineId: z.string(),
    eventName: z.string(),
    data: record,
    timestamp: z.number(),
  })),
  sharedData: record,
  sharedLog: z.array(record.and(z.object({ timestamp: z.number() }))),
  pausePoints: z.array(z.object({
    timestamp: z.number(),
    reason: z.string(),
    checkpoint: z.unknown(),
    pendingActivations: z.number().int().nonnegative(),
  })),
  deferredEvents: z.array(z.object({
    routineId: z.string(),
    eventName: z.string(),
    data: record,
    timestamp: z.number(),
  })),
  pendingActivations: z.array(z.object({
    id: z.string(),
    routineId: z.string(),
    slot: z.string(),
    data: record,
    attempt: z.number().int().positive(),
  })),
});

/** What {@linkcode jobStateFileSchema} accepts. */
export type JobStateFile = z.infer<typeof jobStateFileSchema>;
