/**
 * The activation a routine is running in, found through AsyncLocalStorage.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { JobState } from "./job_state.ts";
import type { Flow } from "./flow.ts";
import type { Routine } from "./routine.ts";

/** What the running activation can ask of its execution. */
export interface ActivationSink {
  emit(
    routineId: string,
    event: string,
    data: Record<string, unknown>,
    parentNodeId: string | null,
  ): void;
  defer(routineId: string, event: string, data: Record<string, unknown>): void;
  output(routineId: string, type: string, data: unknown): void;
}

/** One running slot activation. */
export interface Activation {
  readonly flow: Flow;
  readonly jobState: JobState;
  readonly routine: Routine;
  readonly routineId: string;
  readonly sink: ActivationSink;
  /** The node instance serving the activation's request. */
  nodeId: string | null;
}

/** The activation running in the current async context. */
export const activationStorage: AsyncLocalStorage<Activation> = new AsyncLocalStorage<Activation>();
