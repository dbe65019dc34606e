/**
 * The options of a {@linkcode Flow} and of its methods, and how they are
 * checked.
 *
 * @module
 */
import { z } from "npm:zod@^4.1.0";
import { describeIssues } from "../core/validation.ts";
import { DURABILITIES, type Durability } from "../execution/config.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import type { JobState, JobStateOptions, OutputHandler } from "./job_state.ts";

/** Options of {@linkcode Flow}. */
export interface FlowOptions {
  /** The flow's id; a fresh UUID by default. Saved JobStates name it. */
  flowId?: string;
  /**
   * Most slot activations running at once per execution.
   *
   * @default {Infinity}
   */
  maxWorkers?: number;
  /**
   * Fails an execution running longer than this many ms (counted afresh
   * from each resume); none by default.
   *
   * @default {undefined}
   */
  executionTimeout?: number;
  /**
   * Save each job's record as a run under `stateDir`, with the job id as
   * the run id (read it with `switchyard inspect`, `ls`, the visualizer):
   * its event log while it runs, its snapshot when it pauses or ends, with
   * the job's status (a failed job is a `Failed` run). A job id that names
   * a saved run is refused when the job starts (`RunIdInUseError`); a job
   * resumed from a saved JobState goes on as run `<jobId>.resumed-<n>`. A
   * record that cannot be written makes `waitForCompletion` reject with
   * `RunNotSavedError`.
   *
   * @default {false}
   */
  saveState?: boolean;
  /**
   * Where saved runs go.
   *
   * @default {".switchyard"}
   */
  stateDir?: string;
  /**
   * How a saved job's event log reaches its file: `"batch"` (lines written
   * together, once per macrotask or every 20 ms) or `"event"` (each line
   * written before the job goes on, so a process killed at any moment loses
   * at most the line being written). See `ExecutorConfig.durability`.
   *
   * @default {"batch"}
   *
   * @example A flow whose saved jobs write each event at once
   * ```ts
   * import { Flow } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * const flow = new Flow({ saveState: true, durability: "event" });
   * assert.equal(flow.durability, "event");
   * assert.throws(
   *   () => new Flow({ durability: "always" as never }),
   *   /Cannot create a Flow as 'durability' must be one of "batch", "event": current value is "always"/,
   * );
   * ```
   */
  durability?: Durability;
}

const flowOptionsSchema = z.object({
  flowId: z.string().min(1).optional(),
  maxWorkers: z.number().int().positive().optional(),
  executionTimeout: z.number().positive().finite().optional(),
  saveState: z.boolean().optional(),
  stateDir: z.string().min(1).optional(),
  durability: z.enum(DURABILITIES).optional(),
}).strict();

const saveSchema = flowOptionsSchema.pick({ saveState: true, stateDir: true, durability: true });

/** Where a job's record is saved: the flow's settings, or a job's own. */
export interface FlowSaveOptions {
  /**
   * Save this job's record as a run; the flow's `saveState` by default.
   *
   * @default {flow.saveState}
   */
  saveState?: boolean;
  /**
   * Where; the flow's `stateDir` by default.
   *
   * @default {flow.stateDir}
   */
  stateDir?: string;
  /**
   * How its event log reaches its file; the flow's `durability` by default.
   *
   * @default {flow.durability}
   */
  durability?: Durability;
}

/** Options of {@linkcode Flow.execute}. */
export interface ExecuteOptions extends JobStateOptions, FlowSaveOptions {
  /** The payload the entry routine's `trigger` slot receives; `{}` by default. */
  entryParams?: Record<string, unknown>;
  /** Receives the job's `sendOutput` calls from the start (see `JobState.setOutputHandler`). */
  outputHandler?: OutputHandler;
  /**
   * Called once the job's engine exists, before its entry activation is
   * dispatched: subscribe to `publisher` to see every runtime message of the
   * job from its first request on (to show progress, or write an event log),
   * and read `info` as it grows.
   */
  observe?: (job: ObservedJob) => void;
}

/** What {@linkcode ExecuteOptions.observe} receives: a job and its engine. */
export interface ObservedJob {
  /** The job's state. */
  jobState: JobState;
  /** Its record: every activation as a request (same as `flow.info(jobState)`). */
  info: ExecutionInfo;
  /** The publisher of the job's engine: every runtime message of the job. */
  publisher: RTPublisher;
}

/** Options of {@linkcode Flow.waitForCompletion}. */
export interface WaitOptions {
  /** Give up after this many ms; wait as long as it takes by default. */
  timeout?: number;
  /** Wait for this job only; every running job of the flow by default. */
  jobState?: JobState;
}

/** Options of {@linkcode Flow.pause}. */
export interface PauseOptions {
  /** Why; recorded in the job's pause points. */
  reason?: string;
  /** Anything worth keeping with the pause point. */
  checkpoint?: unknown;
}

/** A connection target: a routine's slot. */
export interface SlotTarget {
  /** The routine's id. */
  routineId: string;
  /** The slot. */
  slot: string;
}

/**
 * Checks the options of a Flow.
 *
 * @param options What the caller passed.
 * @returns The options, checked.
 * @throws {TypeError} Naming an invalid option and its value.
 */
export function parseFlowOptions(options: FlowOptions): FlowOptions {
  const parsed = flowOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new TypeError(`Cannot create a Flow as ${describeIssues(parsed.error, options)}`);
  }
  return parsed.data;
}

/**
 * Checks where a job is saved, with the flow's settings as defaults.
 *
 * @param action What is being done, for the message.
 * @param options The job's own settings.
 * @param flow The flow's settings.
 * @returns Both settings.
 * @throws {TypeError} Naming an invalid option and its value.
 */
export function resolveSaveOptions(
  action: string,
  options: FlowSaveOptions,
  flow: Required<FlowSaveOptions>,
): Required<FlowSaveOptions> {
  const parsed = saveSchema.safeParse(options);
  if (!parsed.success) {
    throw new TypeError(`Cannot ${action} as ${describeIssues(parsed.error, options)}`);
  }
  return {
    saveState: parsed.data.saveState ?? flow.saveState,
    stateDir: parsed.data.stateDir ?? flow.stateDir,
    durability: parsed.data.durability ?? flow.durability,
  };
}
