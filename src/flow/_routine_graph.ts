/**
 * The routines of a flow and how their events are wired to slots.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { listOf, Routine } from "./routine.ts";
import type { SlotTarget } from "./flow_options.ts";
import type { JobState } from "./job_state.ts";

const NO_TARGETS: readonly SlotTarget[] = Object.freeze([]);

/**
 * A flow's routines by id and its connections event → slot. Every check of
 * `addRoutine` and `connect` is here, with the flow's id in its messages.
 */
export class RoutineGraph {
  readonly #flowId: string;
  // Invariant: #routines and #ids are inverse maps; #connections holds, by
  // emitting routine id and then event, the targets of defined events of
  // added routines (looked up per emit, so no key string is built).
  readonly #routines = new Map<string, Routine>();
  readonly #ids = new Map<Routine, string>();
  readonly #connections = new Map<string, Map<string, SlotTarget[]>>();

  /**
   * Makes the graph of a flow.
   *
   * @param flowId The flow's id, for messages.
   */
  constructor(flowId: string) {
    this.#flowId = flowId;
  }

  /** The routine ids, in the order added. */
  ids(): IterableIterator<string> {
    return this.#routines.keys();
  }

  /** A routine by id. */
  get(id: string): Routine | undefined {
    return this.#routines.get(id);
  }

  /** A routine's id. */
  idOf(routine: Routine): string | undefined {
    return this.#ids.get(routine);
  }

  /** Adds a routine (see `Flow.addRoutine`). */
  add(routine: Routine, id?: string): string {
    const flowId = this.#flowId;
    if (!(routine instanceof Routine)) {
      throw new TypeError(
        `Cannot add a routine to flow '${flowId}' as 'routine' must be a Routine: current value is ${
          describeValue(routine)
        }`,
      );
    }
    if (this.#ids.has(routine)) {
      throw new TypeError(
        `Cannot add routine '${routine.name}' to flow '${flowId}' as it was added already as '${
          this.#ids.get(routine)
        }'`,
      );
    }
    let routineId = id;
    if (routineId === undefined) {
      routineId = routine.name;
      for (let n = 2; this.#routines.has(routineId); n++) {
        routineId = `${routine.name}_${n}`;
      }
    }
    if (typeof routineId !== "string" || routineId === "") {
      throw new TypeError(
        `Cannot add routine '${routine.name}' to flow '${flowId}' as 'id' must be a non-empty string: current value is ${
          describeValue(routineId)
        }`,
      );
    }
    if (this.#routines.has(routineId)) {
      throw new TypeError(
        `Cannot add routine '${routine.name}' to flow '${flowId}' as 'id' must be unused: current value is ${
          describeValue(routineId)
        }`,
      );
    }
    this.#routines.set(routineId, routine);
    this.#ids.set(routine, routineId);
    return routineId;
  }

  /** Connects an event to a slot (see `Flow.connect`). */
  connect(srcId: string, event: string, dstId: string, slot: string): void {
    const names = { srcId, event, dstId, slot };
    for (const [option, value] of Object.entries(names)) {
      if (typeof value !== "string") {
        throw new TypeError(
          `Cannot connect routines as '${option}' must be a string: current value is ${
            describeValue(value, 80)
          }`,
        );
      }
    }
    const what = `connect '${srcId}.${event}' to '${dstId}.${slot}'`;
    const source = this.require(what, "srcId", srcId);
    const target = this.require(what, "dstId", dstId);
    if (source.getEventParams(event) === undefined) {
      throw new RangeError(
        `Cannot ${what} as 'event' must be an event of routine '${srcId}' (${
          listOf(source.events)
        }): current value is ${describeValue(event)}`,
      );
    }
    if (target.getSlotHandler(slot) === undefined) {
      throw new RangeError(
        `Cannot ${what} as 'slot' must be a slot of routine '${dstId}' (${
          listOf(target.slots)
        }): current value is ${describeValue(slot)}`,
      );
    }
    let events = this.#connections.get(srcId);
    if (!events) this.#connections.set(srcId, events = new Map());
    const targets = events.get(event) ?? [];
    if (targets.some((t) => t.routineId === dstId && t.slot === slot)) {
      throw new RangeError(`Cannot ${what} as they are connected already`);
    }
    targets.push({ routineId: dstId, slot });
    events.set(event, targets);
  }

  /** The slots an event is connected to, in the order connected. */
  targetsOf(routineId: string, event: string): readonly SlotTarget[] {
    return this.#connections.get(routineId)?.get(event) ?? NO_TARGETS;
  }

  /**
   * A routine by id, or a RangeError naming the flow's routines.
   *
   * @param action What was being done, for the message.
   * @param param The parameter that named the routine.
   * @param id The id.
   */
  require(action: string, param: string, id: string): Routine {
    const routine = this.#routines.get(id);
    if (!routine) {
      throw new RangeError(
        `Cannot ${action} as '${param}' must be a routine of flow '${this.#flowId}' (${
          listOf(this.#routines.keys())
        }): current value is ${describeValue(id)}`,
      );
    }
    return routine;
  }

  /**
   * Checks that a job's work left names this graph's routines and slots,
   * before the job resumes on it.
   *
   * @param jobState A paused job.
   * @throws {Error} If a pending activation names a slot the graph lacks or
   *   shares its id with another.
   * @throws {RangeError} If a deferred event names a routine the graph lacks.
   */
  requireRunnable(jobState: JobState): void {
    const action = `resume job '${jobState.jobId}'`;
    const ids = new Set<string>();
    for (const { id, routineId, slot } of jobState.pendingActivations) {
      if (this.get(routineId)?.getSlotHandler(slot) === undefined) {
        throw new Error(
          `Cannot ${action} as pending activation '${routineId}.${slot}' must name a slot of flow '${this.#flowId}'`,
        );
      }
      if (ids.has(id)) {
        throw new Error(
          `Cannot ${action} as pending activation ids must be unique: current value '${id}' appears twice`,
        );
      }
      ids.add(id);
    }
    for (const { routineId } of jobState.deferredEvents) {
      this.require(action, "routineId", routineId);
    }
  }
}
