/**
 * The shapes a JobState holds and saves, and the zod check of saved files.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { z } from "npm:zod@^4.1.0";
import { describeIssues } from "../core/validation.ts";
import { decodeJobData } from "./_job_state_codec.ts";

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
  /** The activation's id: unique in its job, kept across save, load and retries. */
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

/** One history record as saved. */
export interface SavedRecord {
  /** The routine. */
  routineId: string;
  /** The event (`"error"` for a failure). */
  eventName: string;
  /** The payload. */
  data: Record<string, unknown>;
  /** When, in ms since the epoch. */
  timestamp: number;
  /** An emit or a failure. */
  kind: "emit" | "error";
}

/** What a job holds besides its header, as saved (exactly) in `JobStateFile.data`. */
export interface JobStateContent {
  /** Per-routine state, by routine id. */
  routineStates: Map<string, Record<string, unknown>>;
  /** The flow engine's per-routine bookkeeping, by routine id. */
  routineStatus: Map<string, RoutineStatus>;
  /** The execution history, in time order. */
  history: SavedRecord[];
  /** Shared data. */
  sharedData: Map<string, unknown>;
  /** The shared log. */
  sharedLog: SharedLogEntry[];
  /** Pause points. */
  pausePoints: PausePoint[];
  /** Deferred events. */
  deferredEvents: DeferredEvent[];
  /** Activations still to run, in dispatch order. */
  pendingActivations: PendingActivation[];
}

/** The saved form of a JobState, as `JobState.toJSON()` returns it. */
export interface JobStateFile {
  /** Format marker and version. */
  format: "switchyard.job/2";
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
  /**
   * Everything else ({@linkcode JobStateContent}), encoded so that every
   * value loads back equal: JSON data in devalue's flattened form.
   */
  data: unknown;
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

const header = {
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
};

const lists = {
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
};

const historySchema = (kind: z.ZodType<"emit" | "error">) =>
  z.array(z.object({
    routineId: z.string(),
    eventName: z.string(),
    data: record,
    timestamp: z.number(),
    kind,
  }));

/** Checks a saved JobState's header (`format: "switchyard.job/2"`). */
export const jobStateFileSchema: z.ZodType<JobStateFile> = z.object({
  format: z.literal("switchyard.job/2"),
  ...header,
  data: z.unknown(),
});

/** Checks the decoded `data` of a saved JobState. */
export const jobStateContentSchema: z.ZodType<JobStateContent> = z.object({
  routineStates: z.map(z.string(), record),
  routineStatus: z.map(z.string(), routineStatusSchema),
  history: historySchema(z.enum(["emit", "error"])),
  sharedData: z.map(z.string(), z.unknown()),
  ...lists,
});

/** Checks a JobState saved in the first format (plain JSON, values as placeholders). */
export const legacyJobStateFileSchema = z.object({
  format: z.literal("switchyard.job/1"),
  ...header,
  routineStates: z.custom<Record<string, Record<string, unknown>>>(
    (value) => isRecord(value) && Object.values(value).every(isRecord),
    "expected an object of objects",
  ),
  history: historySchema(z.enum(["emit", "error"]).default("emit")),
  sharedData: record,
  ...lists,
});

// An activation's id names it in its job: two with one id would be one
// activation that runs twice.
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

/** A saved job, checked: its header and its content. */
export interface ReadJobState {
  /** Ids, status, times and retention. */
  header: Omit<JobStateFile, "data" | "format">;
  /** Everything else. */
  content: JobStateContent;
}

/**
 * Checks and decodes a saved JobState, in either format.
 *
 * @param data What `JobState.toJSON()` returned (or a first-format file).
 * @returns The header and the decoded content.
 * @throws {TypeError} Naming the first invalid fields.
 */
export function readJobState(data: unknown): ReadJobState {
  const fail = (what: string): never => {
    throw new TypeError(`Cannot read a JobState as ${what}`);
  };
  if (isRecord(data) && data.format === "switchyard.job/1") {
    const legacy = legacyJobStateFileSchema.safeParse(data);
    if (!legacy.success) fail(describeIssues(legacy.error, data));
    const { routineStates, history, sharedData, ...rest } = legacy.data!;
    const { sharedLog, pausePoints, deferredEvents, pendingActivations, ...head } = rest;
    return {
      header: head,
      content: {
        routineStates: new Map(Object.entries(routineStates)),
        routineStatus: new Map(),
        history,
        sharedData: new Map(Object.entries(sharedData)),
        sharedLog,
        pausePoints,
        deferredEvents,
        pendingActivations,
      },
    };
  }
  const file = jobStateFileSchema.safeParse(data);
  if (!file.success) fail(describeIssues(file.error, data));
  const { data: encoded, format: _format, ...head } = file.data!;
  let decoded: unknown;
  try {
    decoded = decodeJobData(encoded);
  } catch (error) {
    fail(
      `'data' must be an encoded job content: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  const content = jobStateContentSchema.safeParse(decoded);
  if (!content.success) fail(`(in 'data') ${describeIssues(content.error, decoded)}`);
  return { header: head, content: content.data! };
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
      `Cannot load a JobState as 'path' must name a readable file: current value is ${
        describeValue(path)
      } (${error instanceof Error ? error.message : String(error)})`,
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
