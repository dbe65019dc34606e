/**
 * The activation a routine is running in, found from the scope of the
 * running node: each job registers the table of its activations under its
 * runtime, and a node called from a slot handler finds the activation of
 * the nearest slot request above it. No context of its own is entered per
 * activation (the runtime's scope is already there).
 *
 * @module
 */
import { currentScope } from "../execution/scope.ts";
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
  readonly nodeId: string | null;
}

/** A job's activations by the row of their requests. */
export interface ActivationTable {
  /** The activation of a request's row, or of the nearest slot request above it. */
  activationAt(row: number): Activation | undefined;
}

// Keyed by the runtime a job's scopes name as their owner; weak, so a
// finished job's table goes with its runtime.
const tables = new WeakMap<object, ActivationTable>();

/**
 * Makes a job's activations findable from the scopes of its runtime.
 *
 * @param owner The owner its scopes name (one per runtime).
 * @param table The job's activations.
 */
export function registerActivations(owner: object, table: ActivationTable): void {
  tables.set(owner, table);
}

/**
 * The activation running in the current async context.
 *
 * @returns It, or `undefined` outside any activation.
 */
export function currentActivation(): Activation | undefined {
  const scope = currentScope();
  if (scope === undefined) return undefined;
  return tables.get(scope.owner)?.activationAt(scope.row);
}
