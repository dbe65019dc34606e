/**
 * Routines: units of a flow with named input slots and output events.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { type Activation, currentActivation } from "./_context.ts";
import { ErrorHandler, type ErrorStrategy, requireErrorHandler } from "./error_handler.ts";
import type { Flow } from "./flow.ts";
import type { JobState } from "./job_state.ts";
import {
  type SlotOptions,
  type SlotSchema,
  slotWithSchema,
  type TypedSlotHandler,
} from "./slot_schema.ts";

/** Handles the payload an event delivers to a slot. */
export type SlotHandler = (data: Record<string, unknown>) => unknown;

/** What {@linkcode Routine.getExecutionContext} returns. */
export interface ExecutionContext {
  /** The flow running the routine. */
  flow: Flow;
  /** The state of the execution the current activation belongs to. */
  jobState: JobState;
  /** The routine's id in that flow. */
  routineId: string;
}

/** Options of {@linkcode Routine.setAsCritical}. */
export interface CriticalOptions {
  /** Retries before the job fails; default 3. */
  maxRetries?: number;
  /** Delay before the first retry, in ms; default 100. */
  retryDelay?: number;
  /** Factor applied to the delay after each retry; default 2. */
  retryBackoff?: number;
}

/**
 * A unit of work in a {@linkcode Flow}: it defines slots (inputs, each with
 * a handler) and events (outputs), and emits events from its handlers; the
 * flow delivers each emit to every connected slot as a tracked activation.
 * A routine holds no per-execution state: one instance serves every
 * execution of its flow, and reaches the current one through
 * {@linkcode Routine.getExecutionContext}.
 *
 * @example A source and a collector
 * ```ts
 * import { Flow, Routine } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * class Source extends Routine {
 *   constructor() {
 *     super();
 *     this.defineSlot("trigger", ({ items }) => {
 *       for (const item of items as string[]) this.emit("output", { item });
 *     });
 *     this.defineEvent("output", ["item"]);
 *   }
 * }
 * class Collector extends Routine {
 *   constructor() {
 *     super();
 *     this.defineSlot("input", ({ item }) => {
 *       const { jobState } = this.getExecutionContext()!;
 *       jobState.updateSharedData("seen", [...jobState.getSharedData<string[]>("seen", []), item as string]);
 *     });
 *   }
 * }
 * const flow = new Flow({ flowId: "collect" });
 * flow.addRoutine(new Source(), "source");
 * flow.addRoutine(new Collector(), "collector");
 * flow.connect("source", "output", "collector", "input");
 * const job = await flow.execute("source", { entryParams: { items: ["a", "b"] } });
 * assert.equal(await flow.waitForCompletion({ timeout: 5000 }), true);
 * assert.equal(job.status, "completed");
 * assert.deepEqual(job.getSharedData("seen"), ["a", "b"]);
 * ```
 */
export class Routine {
  // Invariant: these describe the routine's shape only; nothing in a
  // routine changes while a flow executes.
  readonly #slots = new Map<string, SlotHandler>();
  readonly #events = new Map<string, readonly string[]>();
  #errorHandler: ErrorHandler | null = null;

  /** The routine's name in logs and records: its class name. */
  get name(): string {
    return this.constructor.name;
  }

  /** The names of its slots. */
  get slots(): string[] {
    return [...this.#slots.keys()];
  }

  /** The names of its events. */
  get events(): string[] {
    return [...this.#events.keys()];
  }

  /** Its own error handler, if set (it wins over the flow's). */
  get errorHandler(): ErrorHandler | null {
    return this.#errorHandler;
  }

  /**
   * Defines an input slot.
   *
   * @param name The slot's name (`"trigger"` for an entry routine).
   * @param handler Called with the payload of each event delivered here;
   *   may be async.
   * @throws {TypeError} If the name is empty or taken, or `handler` is not a function.
   */
  defineSlot(name: string, handler: SlotHandler): void;
  /**
   * Defines an input slot whose payload a zod schema checks: the handler
   * gets the parsed payload, typed by the schema; a payload that does not
   * fit fails the activation with a `TypeError` naming the field.
   *
   * @param name The slot's name (`"trigger"` for an entry routine).
   * @param options `{ schema }`, a zod object schema.
   * @param handler Called with each parsed payload; may be async.
   * @throws {TypeError} If the name is empty or taken, `schema` is not a
   *   zod schema, or `handler` is not a function.
   *
   * @example A slot with a schema
   * ```ts
   * import { Routine } from "@switchyard/core";
   * import { z } from "npm:zod@^4.1.0";
   * import assert from "node:assert/strict";
   *
   * class Greeter extends Routine {
   *   constructor() {
   *     super();
   *     this.defineSlot("trigger", { schema: z.object({ name: z.string() }) }, ({ name }) => {
   *       this.emit("greeting", { text: `hello ${name.toUpperCase()}` });
   *     });
   *     this.defineEvent("greeting", ["text"]);
   *   }
   * }
   * assert.deepEqual(new Greeter().slots, ["trigger"]);
   * ```
   */
  defineSlot<S extends SlotSchema>(
    name: string,
    options: SlotOptions<S>,
    handler: TypedSlotHandler<S>,
  ): void;
  defineSlot<S extends SlotSchema>(
    name: string,
    handlerOrOptions: SlotHandler | SlotOptions<S>,
    typedHandler?: TypedSlotHandler<S>,
  ): void {
    let handler = handlerOrOptions as SlotHandler;
    const withSchema = typedHandler !== undefined ||
      (typeof handlerOrOptions === "object" && handlerOrOptions !== null);
    if (withSchema) {
      if (typeof typedHandler !== "function") {
        throw new TypeError(
          `Cannot define slot '${name}' of routine '${this.name}' as 'handler' must be a function: current value is ${
            describeValue(typedHandler)
          }`,
        );
      }
      handler = slotWithSchema(this.name, name, handlerOrOptions as SlotOptions<S>, typedHandler);
    }
    this.#checkName("slot", name, this.#slots);
    if (typeof handler !== "function") {
      throw new TypeError(
        `Cannot define slot '${name}' of routine '${this.name}' as 'handler' must be a function: current value is ${
          describeValue(handler)
        }`,
      );
    }
    this.#slots.set(name, handler);
  }

  /**
   * Defines an output event.
   *
   * @param name The event's name.
   * @param params The payload fields it carries (documentation).
   * @throws {TypeError} If the name is empty or taken.
   */
  defineEvent(name: string, params: readonly string[] = []): void {
    this.#checkName("event", name, this.#events);
    this.#events.set(name, [...params]);
  }

  /**
   * A slot's handler.
   *
   * @param name The slot.
   * @returns The handler, or `undefined`.
   */
  getSlotHandler(name: string): SlotHandler | undefined {
    return this.#slots.get(name);
  }

  /**
   * The payload fields an event declares.
   *
   * @param name The event.
   * @returns The fields, or `undefined` for an unknown event.
   */
  getEventParams(name: string): readonly string[] | undefined {
    return this.#events.get(name);
  }

  /**
   * Emits an event from inside a slot handler: the current execution
   * records it in its history and activates every connected slot.
   *
   * @param event The event.
   * @param payload The payload, an object.
   * @throws {TypeError} If the event is not defined or the payload is not an object.
   * @throws {Error} If no activation of a flow is running in this context.
   */
  emit(event: string, payload: Record<string, unknown> = {}): void {
    const activation = this.#activation(`emit event '${event}'`, event);
    activation.sink.emit(
      this.#idIn(activation),
      event,
      payload,
      activation.nodeId,
    );
  }

  /**
   * Holds an event back: it is emitted when the job resumes from a pause,
   * or once everything else has run. It is saved with the JobState.
   *
   * @param event The event.
   * @param payload The payload, an object.
   * @throws {TypeError} If the event is not defined or the payload is not an object.
   * @throws {Error} If no activation of a flow is running in this context.
   */
  emitDeferredEvent(
    event: string,
    payload: Record<string, unknown> = {},
  ): void {
    const activation = this.#activation(`defer event '${event}'`, event);
    activation.sink.defer(this.#idIn(activation), event, payload);
  }

  /**
   * Sends an output to the JobState's output handler (see
   * `JobState.setOutputHandler`); a failing handler is logged and does not
   * fail the job.
   *
   * @param type The kind of output.
   * @param data The output.
   * @throws {Error} If no activation of a flow is running in this context.
   */
  sendOutput(type: string, data: unknown): void {
    const activation = this.#activation(`send output '${type}'`);
    activation.sink.output(this.#idIn(activation), type, data);
  }

  /**
   * The execution the current activation belongs to.
   *
   * @returns `{ flow, jobState, routineId }`, or `null` outside any activation.
   */
  getExecutionContext(): ExecutionContext | null {
    const activation = currentActivation();
    if (!activation) return null;
    const routineId = activation.routine === this
      ? activation.routineId
      : activation.flow.idOf(this);
    if (routineId === undefined) return null;
    return { flow: activation.flow, jobState: activation.jobState, routineId };
  }

  /**
   * Sets the routine's error handler (it wins over the flow's).
   *
   * @param handler The handler, or `null` to use the flow's.
   * @throws {TypeError} If `handler` is not an ErrorHandler.
   */
  setErrorHandler(handler: ErrorHandler | null): void {
    this.#errorHandler = requireErrorHandler(`routine '${this.name}'`, handler);
  }

  /**
   * Marks the routine optional: its failures are recorded and the job goes on.
   *
   * @param strategy `"continue"` (default) or `"skip"`.
   */
  setAsOptional(
    strategy: Extract<ErrorStrategy, "continue" | "skip"> = "continue",
  ): void {
    this.setErrorHandler(new ErrorHandler({ strategy, critical: false }));
  }

  /**
   * Marks the routine critical: a failure is retried with backoff, and
   * fails the job once the retries are spent.
   *
   * @param options Retry count, delay and backoff.
   */
  setAsCritical(options: CriticalOptions = {}): void {
    this.setErrorHandler(
      new ErrorHandler({ ...options, strategy: "retry", critical: true }),
    );
  }

  #activation(action: string, event?: string): Activation {
    if (event !== undefined && !this.#events.has(event)) {
      throw new TypeError(
        `Cannot ${action} of routine '${this.name}' as 'event' must be one of ${
          listOf(this.#events.keys())
        }: current value is ${describeValue(event)}`,
      );
    }
    const activation = currentActivation();
    if (!activation) {
      throw new Error(
        `Cannot ${action} of routine '${this.name}' as no activation of a flow is running in this context`,
      );
    }
    return activation;
  }

  #idIn(activation: Activation): string {
    if (activation.routine === this) return activation.routineId;
    const id = activation.flow.idOf(this);
    if (id === undefined) {
      throw new Error(
        `Cannot act for routine '${this.name}' as it is not part of flow '${activation.flow.flowId}'`,
      );
    }
    return id;
  }

  #checkName(kind: string, name: string, taken: Map<string, unknown>): void {
    if (typeof name !== "string" || name === "") {
      throw new TypeError(
        `Cannot define a ${kind} of routine '${this.name}' as 'name' must be a non-empty string: current value is ${
          describeValue(name)
        }`,
      );
    }
    if (taken.has(name)) {
      throw new TypeError(
        `Cannot define ${kind} '${name}' of routine '${this.name}' as 'name' must be new: current value is ${
          describeValue(name)
        }`,
      );
    }
  }
}

/**
 * Quotes names for an error message.
 *
 * @param names The names.
 * @returns `'a', 'b'`, or `none`.
 */
export function listOf(names: Iterable<string>): string {
  const all = [...names].map((n) => `'${n}'`);
  return all.length ? all.join(", ") : "none";
}
