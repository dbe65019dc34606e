/**
 * `switchyard run` for a {@linkcode Flow}: executes one job from an entry
 * routine, shows its progress, waits for it to stop and saves its record
 * like a run.
 *
 * @module
 */
import { applyLoggingSetting } from "../core/logging.ts";
import { describeValue } from "../core/describe.ts";
import type { ExecuteOptions, Flow } from "../flow/flow.ts";
import type { JobState } from "../flow/job_state.ts";
import { parseExecutorConfig } from "../execution/config.ts";
import { GlobalTimeoutError } from "../core/errors.ts";
import { RunNotSavedError } from "../run/errors.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import type { RunOutcome, RunTarget, RunTargetContext } from "./run_targets.ts";

/** The methods of a Flow that running one needs. */
const FLOW_METHODS = ["execute", "waitForCompletion", "cancel", "info", "getRoutine"] as const;

const hasFunctions = (value: unknown, names: readonly string[]): boolean =>
  typeof value === "object" && value !== null &&
  names.every((n) => typeof (value as Record<string, unknown>)[n] === "function");

/** What a flow's job left, as `switchyard run` prints it. */
export interface FlowAnswer {
  /** The job's id (also the saved run's id). */
  jobId: string;
  /** How the job stopped: `"completed"`, or `"paused"` when a routine paused it. */
  status: string;
  /** The job's shared data. */
  sharedData: Record<string, unknown>;
}

/**
 * Runs a flow: `--entry` names the entry routine (default: the first one
 * added), the arguments are its `entryParams` (one JSON object, or none for
 * `{}`). The job's id is the run id. `--timeout` cancels the job; so does an
 * interrupt. The outcome fails when the job failed or was cancelled; a job a
 * routine paused ends the run without failing.
 */
export const flowTarget: RunTarget = {
  kind: "flow",
  matches: (value) => hasFunctions(value, ["execute", "addRoutine"]),
  async run(value, context) {
    const flow = requireFlow(value);
    const config = parseExecutorConfig(context.config);
    applyLoggingSetting(config.loggingSetting, config.logFile);
    const runId = config.runIdentifier;
    const entry = entryOf(flow, context);
    const entryParams = entryParamsOf(flow, context.args);
    const observe: ExecuteOptions["observe"] = (job) => {
      if (config.subscriber) job.publisher.subscribe(config.subscriber, "config.subscriber");
      context.observe({ publisher: job.publisher, info: job.info });
    };
    // The flow saves the job's record (event log, snapshot, status) itself.
    const job = await flow.execute(entry, {
      entryParams,
      jobId: runId,
      observe,
      saveState: config.saveState,
      stateDir: config.stateDir,
      durability: config.durability,
    });
    const stop = (reason: unknown) => {
      if (job.status === "running") flow.cancel(job, reason);
    };
    const onAbort = () => stop(new Error("Interrupted"));
    context.signal.addEventListener("abort", onAbort, { once: true });
    if (context.signal.aborted) onAbort();
    let timedOut: GlobalTimeoutError | null = null;
    const timer = config.timeout === undefined ? undefined : setTimeout(() => {
      timedOut = new GlobalTimeoutError(config.timeout!);
      stop(timedOut);
    }, config.timeout);
    try {
      // A record that could not be written is reported by `switchyard run`.
      await flow.waitForCompletion({ jobState: job }).catch((error) => {
        if (!(error instanceof RunNotSavedError)) throw error;
      });
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener("abort", onAbort);
    }
    return outcomeOf(job, flow.info(job), runId, timedOut);
  },
};

function requireFlow(value: unknown): Flow {
  if (!hasFunctions(value, FLOW_METHODS)) {
    throw new TypeError(
      `Cannot run a flow as it must have ${
        FLOW_METHODS.map((m) => `${m}()`).join(", ")
      } (a Flow of @switchyard/core): current value is ${describeValue(value, 80)}`,
    );
  }
  return value as Flow;
}

function entryOf(flow: Flow, context: RunTargetContext): string {
  const ids = Array.isArray(flow.routineIds) ? flow.routineIds : [];
  if (context.entry !== undefined && !ids.includes(context.entry)) {
    throw new TypeError(
      `Cannot run flow '${flow.flowId}' as '--entry' must name one of its routines (${
        ids.join(", ") || "none"
      }): current value is ${describeValue(context.entry)}`,
    );
  }
  if (context.entry !== undefined) {
    if (flow.getRoutine(context.entry)?.getSlotHandler("trigger") === undefined) {
      throw new TypeError(
        `Cannot run flow '${flow.flowId}' as '--entry' must name a routine with a 'trigger' slot: current value is ${
          describeValue(context.entry)
        }`,
      );
    }
    return context.entry;
  }
  if (ids.length === 0) {
    throw new TypeError(
      `Cannot run flow '${flow.flowId}' as it must have at least one routine: current value is none`,
    );
  }
  return ids[0];
}

function entryParamsOf(flow: Flow, args: unknown[]): Record<string, unknown> {
  if (args.length === 0) return {};
  const [params] = args;
  if (
    args.length > 1 || typeof params !== "object" || params === null ||
    Array.isArray(params)
  ) {
    throw new TypeError(
      `Cannot run flow '${flow.flowId}' as its arguments must be one JSON object (the entry routine's entryParams): current value is ${
        describeValue(args.length > 1 ? args : params, 120)
      }`,
    );
  }
  return params as Record<string, unknown>;
}

function outcomeOf(
  job: JobState,
  info: ExecutionInfo,
  runId: string,
  timedOut: GlobalTimeoutError | null,
): RunOutcome {
  if (job.status === "failed" || job.status === "cancelled") {
    const error = timedOut ??
      Object.assign(new Error(job.error?.message ?? `The job was ${job.status}`), {
        name: job.error?.name ?? "Error",
      });
    return { info, error, runId };
  }
  const answer: FlowAnswer = {
    jobId: job.jobId,
    status: job.status,
    sharedData: job.sharedData,
  };
  return { info, answer, runId, stopped: job.status === "paused" ? "Paused" : "Completed" };
}
