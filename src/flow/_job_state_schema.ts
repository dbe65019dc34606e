/**
 * The file format of a saved JobState, checked with zod on load.
 *
 * @module
 */
import { z } from "zod";
import type {
  DeferredEvent,
  JobStateStatus,
  PausePoint,
  PendingActivation,
  SharedLogEntry,
} from "./job_state.ts";

/** The saved form of a JobState, as `JobState.toJSON()` returns it. */
export interface JobStateFile {
  /** Format marker and version. */
  format: "switchyard.job/1";
  /** The flow's id. */
  flowId: string;
  /** The job's id. */
  jobId: string;
  /** The status when saved. */
  status: JobStateStatus;
  /** Creation time, ms since the epoch. */
  createdAt: number;
  /** Last change, ms since the epoch. */
  updatedAt: number;
  /** History records kept. */
  maxHistorySize: number;
  /** History retention in ms, `null` for forever. */
  historyTtl: number | null;
  /** The error that failed the job, if any. */
  error: { name: string; message: string } | null;
  /** Per-routine state, by routine id. */
  routineStates: Record<string, Record<string, unknown>>;
  /** The execution history, in time order. */
  history: {
    routineId: string;
    eventName: string;
    data: Record<string, unknown>;
    timestamp: number;
  }[];
  /** Shared data. */
  sharedData: Record<string, unknown>;
  /** The shared log. */
  sharedLog: SharedLogEntry[];
  /** Pause points. */
  pausePoints: PausePoint[];
  /** Deferred events. */
  deferredEvents: DeferredEvent[];
  /** Activations still to run, in dispatch order. */
  pendingActivations: PendingActivation[];
}

const record = z.record(z.string(), z.unknown());

/** Checks a saved JobState (`format: "switchyard.job/1"`). */
export const jobStateFileSchema: z.ZodType<JobStateFile> = z.object({
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
