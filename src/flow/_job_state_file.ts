/**
 * The shapes a JobState holds and saves, and the zod check of saved files.
 *
 * @module
 */
import { z } from "npm:zod@^4.1.0";

/** Where a job stands. */
export type JobStateStatus =
  | "pending"
  | "running"
  | "paused"
  | "completed"
  | "failed"
  | "cancelled";

/**
 * Where a routine's latest activation stands, as the flow engine keeps it
 * (apart from the routine's own state):
 * - `"running"`, `"completed"`;
 * - `"retrying"`: it failed and a retry is scheduled;
 * - `"continued"`: it failed and its error handler let the job go on;
 * - `"skipped"`: it failed and its error handler dropped the activation;
 * - `"failed"`: it failed and the failure failed the job.
 */
export type RoutineStatusName =
  | "running"
  | "completed"
  | "retrying"
  | "continued"
  | "skipped"
  | "failed";

/** The flow engine's bookkeeping for one routine of a job. */
export interface RoutineStatus {
  /** Where its latest activation stands. */
  status: RoutineStatusName;
  /** Attempts of its latest activation so far (1 for the first run). */
  attempts: number;
  /** The message of its latest failure, `null` if it never failed. */
  lastError: string | null;
}

/** A slot activation waiting to run: kept in the JobState, so it survives a save. */
export interface PendingActivation {
  /** The activation's id (the id of its first tracked request). */
  id: string;
  /** The routine, by its id in the flow. */
  routineId: string;
  /** The slot. */
  slot: string;
  /** The payload the slot handler receives. */
  data: Record<string, unknown>;
  /** 1 for the first run, 2 for the first retry, … */
  attempt: number;
}

/** An event held back until the job resumes (or would otherwise go idle). */
export interface DeferredEvent {
  /** The emitting routine's id. */
  routineId: string;
  /** The event. */
  eventName: string;
  /** The payload. */
  data: Record<string, unknown>;
  /** When it was deferred, in ms since the epoch. */
  timestamp: number;
}

/** Where and why a job was paused. */
export interface PausePoint {
  /** When, in ms since the epoch. */
  timestamp: number;
  /** Why. */
  reason: string;
  /** Whatever the caller passed as `checkpoint`. */
  checkpoint: unknown;
  /** How many activations were pending at that moment. */
  pendingActivations: number;
}

/** An entry of the shared log: the caller's fields plus a `timestamp`. */
export type SharedLogEntry = Record<string, unknown> & { timestamp: number };

/** What `sendOutput` hands to the output handler. */
export interface RoutineOutput {
  /** The job. */
  jobId: string;
  /** The routine that sent it. */
  routineId: string;
  /** The kind of output. */
  type: string;
  /** The output itself. */
  data: unknown;
  /** When, in ms since the epoch. */
  timestamp: number;
}

/** Receives routine outputs; a throw or rejection is logged, never fatal. */
export type OutputHandler = (output: RoutineOutput) => unknown;

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
  /** The flow engine's per-routine bookkeeping, by routine id. */
  routineStatus?: Record<string, RoutineStatus>;
  /** The execution history, in time order. */
  history: {
    routineId: string;
    eventName: string;
    data: Record<string, unknown>;
    timestamp: number;
    kind?: "emit" | "error";
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

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
// Checked, not rebuilt: z.record() copies by assignment, which drops an own
// "__proto__" key (JSON.parse makes one from `{"__proto__": …}`).
const record = z.custom<Record<string, unknown>>(isRecord, "expected an object");

const routineStatusSchema = z.object({
  status: z.enum(["running", "completed", "retrying", "continued", "skipped", "failed"]),
  attempts: z.number().int().nonnegative(),
  lastError: z.string().nullable(),
});

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
  routineStates: z.custom<Record<string, Record<string, unknown>>>(
    (value) => isRecord(value) && Object.values(value).every(isRecord),
    "expected an object of objects",
  ),
  routineStatus: z.custom<Record<string, RoutineStatus>>(
    (value) =>
      isRecord(value) &&
      Object.values(value).every((status) => routineStatusSchema.safeParse(status).success),
    "expected an object of { status, attempts, lastError }",
  ).optional(),
  history: z.array(z.object({
    routineId: z.string(),
    eventName: z.string(),
    data: record,
    timestamp: z.number(),
    kind: z.enum(["emit", "error"]).optional(),
  })),
  sharedData: record,
  sharedLog: z.array(
    z.custom<SharedLogEntry>(
      (value) => isRecord(value) && typeof value.timestamp === "number",
      "expected an object with a numeric 'timestamp'",
    ),
  ),
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
    id: z.string().min(1),
    routineId: z.string(),
    slot: z.string(),
    data: record,
    attempt: z.number().int().positive(),
  })).superRefine(requireUniqueIds),
});

// Each activation's id becomes its first request's id: two with one id
// would run as one request and corrupt the job's record.
function requireUniqueIds(
  activations: { id: string }[],
  context: z.core.$RefinementCtx<{ id: string }[]>,
): void {
  const seen = new Map<string, number>();
  activations.forEach(({ id }, index) => {
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, index);
      return;
    }
    context.addIssue({
      code: "custom",
      path: [index, "id"],
      message: `unique (pendingActivations.${first}.id is '${id}' too)`,
      input: id,
    });
  });
}

/** Thrown by {@linkcode JobState.load} for a missing or malformed file. */
export class JobStateLoadError extends Error {
  /** Always `"JobStateLoadError"`. */
  override name: string = "JobStateLoadError";
  /** The file. */
  readonly path: string;

  /**
   * Makes a JobStateLoadError.
   *
   * @param path The file.
   * @param message What is wrong.
   * @param options The underlying error.
   */
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.path = path;
  }
}

/**
 * Reads and parses a saved JobState file.
 *
 * @param path The file.
 * @returns The parsed JSON, not yet validated.
 * @throws {JobStateLoadError} If the file cannot be read or is not JSON.
 */
export async function readJobStateFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new JobStateLoadError(
      path,
      `Cannot load a JobState as 'path' must name a readable file: current value is '${path}' (${
        error instanceof Error ? error.message : String(error)
      })`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new JobStateLoadError(
      path,
      `Cannot load a JobState as file '${path}' must hold JSON: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
}
