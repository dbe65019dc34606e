/**
 * The activations a flow job runs: each one a tracked request of the job's
 * run session, with its retries and what its failure decides.
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import { describeValue } from "../core/describe.ts";
import { type AnyNode, Node } from "../core/node.ts";
import { currentScope } from "../execution/scope.ts";
import type { RequestForest } from "../state/request_forest.ts";
import type { RTState } from "../execution/rt_state.ts";
import {
  type Activation,
  type ActivationSink,
  type ActivationTable,
  registerActivations,
} from "./_context.ts";
import { errorSummary } from "./_error_summary.ts";
import type { ErrorHandler } from "./error_handler.ts";
import type { Flow } from "./flow.ts";
import type { Routine, SlotHandler } from "./routine.ts";
import {
  jobBook,
  type JobState,
  type JobStateStatus,
  type PendingActivation,
  type RoutineStatusName,
} from "./job_state.ts";

const log = logger("flow");

/** An activation whose request is open. */
interface InFlight {
  readonly activation: PendingActivation;
  readonly parentNodeId: string | null;
  /**
   * Its request's row (the runtime builds the id only when read); `-1` if
   * the runtime refused the request.
   */
  row: number;
}

/** What the activations need from the job they run in. */
export interface ActivationHost {
  readonly flow: Flow;
  readonly jobState: JobState;
  readonly sink: ActivationSink;
  readonly rt: RTState;
  /** The flow's error handler, when a routine has none. */
  errorHandler(): ErrorHandler | null;
  /** Fails the job. */
  fail(error: unknown): void;
  /** An activation ended (or a retry is due): dispatch more, or finish. */
  settled(): void;
  /** An error of the engine itself: fails the job. */
  engineError(error: unknown): void;
}

/**
 * The running activations of one job: dispatches them as requests and
 * keeps the JobState's routine status and history up to date.
 */
export class Activations implements ActivationTable {
  readonly #host: ActivationHost;
  // The activation of each slot request, by its row; kept for the job's
  // life, so code a handler left running (a timer, a promise) still finds
  // it. Registered under the runtime's scope owner on the first run.
  readonly #byRow: (SlotActivation | undefined)[] = [];
  #owner: object | null = null;
  // Invariant: every activation of the job is in exactly one place: the
  // JobState's queue, #inFlight, #retries, or done. #parents remembers the
  // callers of queued ones (not saved).
  readonly #inFlight = new Set<InFlight>();
  readonly #retries = new Set<{
    timer: ReturnType<typeof setTimeout>;
    activation: PendingActivation;
  }>();
  readonly #parents = new Map<PendingActivation, string>();
  // One node per routine slot, made on first dispatch: a request per
  // activation, not a node object per activation.
  readonly #slotNodes = new Map<Routine, Map<string, AnyNode>>();

  /**
   * Makes the activations of a job.
   *
   * @param host The job.
   */
  constructor(host: ActivationHost) {
    this.#host = host;
  }

  /** How many activations run now. */
  get running(): number {
    return this.#inFlight.size;
  }

  /** How many activations wait for a retry timer. */
  get retrying(): number {
    return this.#retries.size;
  }

  /** Queues an activation (`parentNodeId`: the emitting activation's node). */
  enqueue(
    routineId: string,
    slot: string,
    data: Record<string, unknown>,
    parentNodeId: string | null,
  ): void {
    const activation: PendingActivation = {
      id: crypto.randomUUID(),
      routineId,
      slot,
      data,
      attempt: 1,
    };
    jobBook(this.#host.jobState).queue.push(activation);
    if (parentNodeId !== null) this.#parents.set(activation, parentNodeId);
  }

  /** Starts an activation taken from the queue. */
  dispatch(activation: PendingActivation): void {
    const host = this.#host;
    const { routineId, slot } = activation;
    const routine = host.flow.getRoutine(routineId);
    const handler = routine?.getSlotHandler(slot);
    const parentNodeId = this.#parents.get(activation) ?? null;
    if (parentNodeId !== null) this.#parents.delete(activation);
    if (!routine || !handler) {
      // Only reachable for a JobState edited by hand: resume() checks ids.
      host.fail(
        new RangeError(
          `Cannot run activation '${activation.id}' as routine '${routineId}' has no slot '${slot}'`,
        ),
      );
      return;
    }
    const request = {
      parentNodeId,
      node: this.#slotNode(routine, routineId, slot, handler),
      args: [activation.data],
      nodeType: "routine",
      attempt: activation.attempt,
    };
    // The runtime opens the request synchronously, in the next row.
    const heap = host.rt.info.requestHeap;
    const entry: InFlight = { activation, parentNodeId, row: heap.rowCount };
    this.#inFlight.add(entry);
    jobBook(host.jobState).setRoutineStatus(routineId, "running", activation.attempt);
    const result = host.rt.callNodes(request);
    if (heap.rowCount <= entry.row) entry.row = -1;
    result.then(() => {
      if (!this.#inFlight.delete(entry)) return;
      jobBook(host.jobState).setRoutineStatus(routineId, "completed", activation.attempt);
      host.settled();
    }, (error) => {
      if (!this.#inFlight.delete(entry)) return;
      try {
        this.#onFailure(entry, error);
      } catch (engineError) {
        // e.g. a `retryable` predicate that throws
        host.engineError(engineError);
        return;
      }
      host.settled();
    });
  }

  /** Cancels every running activation's request (the job ended). */
  cancelAll(reason: unknown): void {
    const running = [...this.#inFlight];
    this.#inFlight.clear();
    this.#parents.clear();
    const { rt } = this.#host;
    const heap = rt.info.requestHeap;
    for (const { row } of running) {
      if (row >= 0 && row < heap.rowCount) rt.cancel(heap.idOf(row), reason);
    }
  }

  /** Puts the activations waiting for a retry back on the queue at once. */
  requeueRetries(): void {
    const queue = jobBook(this.#host.jobState).queue;
    for (const { timer, activation } of this.#retries) {
      clearTimeout(timer);
      queue.push(activation);
    }
    this.#retries.clear();
  }

  /** The node of a routine slot: its requests run the handler in an activation. */
  #slotNode(routine: Routine, routineId: string, slot: string, handler: SlotHandler): AnyNode {
    let slots = this.#slotNodes.get(routine);
    if (!slots) this.#slotNodes.set(routine, slots = new Map());
    let made: AnyNode | undefined = slots.get(slot);
    if (made === undefined) {
      const { flow, jobState, sink, rt } = this.#host;
      const shared: RoutineInJob = {
        flow,
        jobState,
        routine,
        routineId,
        sink,
        heap: rt.info.requestHeap,
      };
      made = new Node((data: Record<string, unknown>) => {
        const scope = currentScope()!;
        if (this.#owner !== scope.owner) registerActivations(this.#owner = scope.owner, this);
        this.#byRow[scope.row] = new SlotActivation(shared, scope.row);
        return handler.call(routine, data);
      }, { name: `${routineId}.${slot}` });
      slots.set(slot, made);
    }
    return made;
  }

  /** The activation of a row, or of the nearest slot request above it. */
  activationAt(row: number): Activation | undefined {
    const heap = this.#host.rt.info.requestHeap;
    for (let r = row; r >= 0; r = heap.parentRow(r)) {
      const found = this.#byRow[r];
      if (found !== undefined) return found;
    }
    return undefined;
  }

  #onFailure({ activation, parentNodeId }: InFlight, error: unknown): void {
    const host = this.#host;
    const { routineId } = activation;
    const handler = host.flow.getRoutine(routineId)?.errorHandler ?? host.errorHandler();
    const decision = handler?.decide(error, activation.attempt) ??
      { action: "stop" } as const;
    log.info(
      "Routine {routineId} failed in job {jobId} (attempt {attempt}): {error}; {action}",
      {
        routineId,
        jobId: host.jobState.jobId,
        attempt: activation.attempt,
        error: describeValue(error, 300), // one line; the job state keeps the error
        action: decision.action,
      },
    );
    // Every failure is in the history, with what was decided about it.
    jobBook(host.jobState).recordError(routineId, {
      slot: activation.slot,
      attempt: activation.attempt,
      action: decision.action,
      error: errorSummary(error),
    });
    const status = (name: RoutineStatusName) =>
      jobBook(host.jobState).setRoutineStatus(routineId, name, activation.attempt, error);
    switch (decision.action) {
      case "retry": {
        status("retrying");
        const next = { ...activation, attempt: activation.attempt + 1 };
        if (parentNodeId !== null) this.#parents.set(next, parentNodeId);
        const queue = jobBook(host.jobState).queue;
        if ((host.jobState.status as JobStateStatus) !== "running") {
          queue.push(next);
          return;
        }
        // A timer, never a blocking wait: other routines go on meanwhile.
        const retry = {
          timer: setTimeout(() => {
            this.#retries.delete(retry);
            queue.push(next);
            host.settled();
          }, decision.delay),
          activation: next,
        };
        this.#retries.add(retry);
        return;
      }
      case "continue":
        status("continued");
        return;
      case "skip":
        status("skipped");
        return;
      case "stop":
        status("failed");
        host.fail(error);
    }
  }
}

/** What every activation of one routine in one job shares. */
interface RoutineInJob {
  readonly flow: Flow;
  readonly jobState: JobState;
  readonly routine: Routine;
  readonly routineId: string;
  readonly sink: ActivationSink;
  readonly heap: RequestForest;
}

/**
 * The activation a slot handler runs in: kept for the job's life, so it
 * holds two fields; the node id of its request is built only when read
 * (an emit names it as the caller of what it starts).
 */
class SlotActivation implements Activation {
  constructor(readonly of: RoutineInJob, readonly row: number) {}

  get flow(): Flow {
    return this.of.flow;
  }

  get jobState(): JobState {
    return this.of.jobState;
  }

  get routine(): Routine {
    return this.of.routine;
  }

  get routineId(): string {
    return this.of.routineId;
  }

  get sink(): ActivationSink {
    return this.of.sink;
  }

  get nodeId(): string {
    return this.of.heap.nodeIdOf(this.row);
  }
}
