/**
 * `switchyard run` for states: a list of {@linkcode State}s, or a function
 * returning one, drained by the {@linkcode StateManager} until the queue is
 * idle, then saved like a run.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { isNode } from "../core/node.ts";
import { GlobalTimeoutError, RequestCancelledError } from "../core/errors.ts";
import { RunNotSavedError } from "../run/errors.ts";
import { State } from "../states/state.ts";
import { StateManager } from "../states/state_manager.ts";
import type { RunTarget, RunTargetContext } from "./run_targets.ts";

/** One state's line in the answer of `switchyard run`. */
export interface StateAnswer {
  /** The state's name. */
  state: string;
  /** How its request ended. */
  status: string;
  /** What it returned, or its error. */
  output: unknown;
}

const isStateLike = (value: unknown): boolean =>
  typeof value === "object" && value !== null &&
  typeof (value as { enterState?: unknown }).enterState === "function";

/**
 * Runs states: an export that is a State, a list of them, or a function
 * returning them (called with the command's arguments; it may be async). The
 * process's {@linkcode StateManager} is reset and made with the command's
 * configuration, drains the states until nothing is queued or in progress
 * (or the interrupt or `--timeout`), then stops, which saves the run. The
 * outcome fails when a state failed or was cancelled.
 */
export const statesTarget: RunTarget = {
  kind: "state",
  matches: (value) =>
    Array.isArray(value)
      ? value.length > 0 && value.every(isStateLike)
      : isStateLike(value) || (typeof value === "function" && !isNode(value)),
  async run(value, context) {
    const states = await statesOf(value, context);
    const { timeout, ...config } = context.config;
    // The CLI's manager replaces any the module made when it was imported.
    await StateManager.reset().catch(unlessNotSaved);
    const manager = StateManager.instance(config);
    const stopped = Promise.withResolvers<void>();
    const onAbort = () => stopped.resolve();
    context.signal.addEventListener("abort", onAbort, { once: true });
    let timedOut: GlobalTimeoutError | null = null;
    const timer = timeout === undefined ? undefined : setTimeout(() => {
      timedOut = new GlobalTimeoutError(timeout);
      stopped.resolve();
    }, timeout);
    let failure: unknown;
    try {
      context.observe({ publisher: manager.session.publisher, info: manager.info });
      manager.putStates(states);
      const loop = manager.processStates();
      if (context.signal.aborted) onAbort();
      await Promise.race([manager.onIdle(), stopped.promise]);
      // Stopping saves the run; one that could not be saved is reported by
      // `switchyard run`, so it is no failure of the states.
      await manager.signalStopping().catch(unlessNotSaved);
      await loop.catch((error) => {
        if (!(error instanceof RunNotSavedError)) failure = error;
      });
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener("abort", onAbort);
      await StateManager.reset().catch(unlessNotSaved);
    }
    const answer: StateAnswer[] = [];
    let firstError: unknown;
    for (const state of states) {
      const [ok, output] = await manager.resultOf(state).then(
        (value) => [true, value] as const,
        (error) => [false, error] as const,
      );
      const status = ok
        ? "Completed"
        : output instanceof RequestCancelledError
        ? "Cancelled"
        : "Failed";
      if (!ok) firstError ??= output;
      answer.push({ state: state.name, status, output });
    }
    const info = manager.info;
    const runId = manager.config.runIdentifier;
    const error = timedOut ?? failure ?? firstError;
    return error === undefined ? { info, answer, runId } : { info, error, runId };
  },
};

function unlessNotSaved(error: unknown): void {
  if (!(error instanceof RunNotSavedError)) throw error;
}

async function statesOf(value: unknown, context: RunTargetContext): Promise<State[]> {
  let states = value;
  if (typeof value === "function") {
    states = await value(...context.args);
  } else if (context.args.length > 0) {
    throw new TypeError(
      `Cannot run ${
        context.label ?? "states"
      } as they take no arguments (export a function returning the states to pass some): current value is ${
        describeValue(context.args, 120)
      }`,
    );
  }
  const list = Array.isArray(states) ? states : [states];
  const bad = list.findIndex((s) => !(s instanceof State));
  if (list.length === 0 || bad >= 0) {
    throw new TypeError(
      `Cannot run ${context.label ?? "states"} as ${
        typeof value === "function"
          ? "the function must return a State or a non-empty list of States (a plain function runs as a node made with node())"
          : "the export must be a State or a non-empty list of States"
      }: current value is ${describeValue(list.length === 0 ? states : list[bad], 120)}`,
    );
  }
  return list as State[];
}
