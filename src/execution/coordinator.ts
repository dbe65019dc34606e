/**
 * The coordinator hands tasks to strategies and publishes how they ended.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import { RequestFailure, RequestSuccess, type RuntimeMessage } from "../pubsub/messages.ts";
import { CoordinatorState } from "./job.ts";
import type { TaskExecutionStrategy } from "./strategy.ts";
import type { Task } from "./task.ts";
import type { Job } from "./job.ts";

/** What {@linkcode Coordinator.systemDetail} reports. */
export interface CoordinatorDetail {
  /** The registered execution modes. */
  modes: string[];
  /** Jobs handed out so far. */
  jobs: number;
  /** Jobs still running. */
  open: number;
}

/**
 * Wraps how a coordinator hands tasks to strategies: called for every
 * submitted task with the task, its mode and the submission itself, which
 * it must call (once) and whose promise it returns. Used by run observers
 * that run each request in a context of their own (tracing).
 */
export type SubmitWrapper = (
  task: Task,
  mode: string,
  submit: (task: Task, mode: string) => Promise<void>,
) => Promise<void>;

/**
 * Hands each task to the strategy registered for its mode, keeps a job per
 * task, and publishes a {@linkcode RequestSuccess} or
 * {@linkcode RequestFailure} when the strategy settles.
 *
 * @example Coordinating a task
 * ```ts
 * import { AsyncExecutionStrategy, Coordinator, RequestSuccess, RTPublisher, Task } from "@switchyard/core/engine";
 * import { node } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const publisher = new RTPublisher();
 * publisher.start();
 * const coordinator = new Coordinator({ async: new AsyncExecutionStrategy() });
 * coordinator.start(publisher);
 * const done = publisher.listener((m) => m instanceof RequestSuccess);
 * coordinator.submit(new Task("r1", node(async () => 7, { name: "seven" }), []), "async");
 * assert.equal(((await done) as RequestSuccess).result, 7);
 * assert.equal(coordinator.state.getJob("r1")?.status, "closed");
 * await coordinator.shutdown();
 * publisher.shutdown();
 * ```
 */
export class Coordinator {
  /** The jobs handed out. */
  readonly state: CoordinatorState = CoordinatorState.empty();
  // Invariant: #publisher is set by start() before any submit() publishes.
  readonly #modes: Map<string, TaskExecutionStrategy>;
  // Invariant: #runsAs maps each mode to the first registered mode with the
  // same strategy (itself when its strategy is its own).
  readonly #runsAs = new Map<string, string>();
  #publisher: RTPublisher | null = null;
  #subscription: string | null = null;
  // Invariant: null unless a wrapper was set; submit() then goes through it.
  #wrapper: SubmitWrapper | null = null;
  readonly #submitNow = (task: Task, mode: string) => this.#submit(task, mode);

  /**

   * Makes a Coordinator.

   *
   * @param executionModes A strategy for each mode, e.g.
   *   `{ async: new AsyncExecutionStrategy() }`. Modes not built in are
   *   welcome.
   * @throws {TypeError} If a value is not a strategy.
   */
  constructor(executionModes: Record<string, TaskExecutionStrategy>) {
    this.#modes = new Map();
    for (const [mode, strategy] of Object.entries(executionModes)) {
      this.register(mode, strategy);
    }
  }

  /**
   * Adds or replaces the strategy of a mode.
   *
   * @param mode The mode, e.g. `"worker"`.
   * @param strategy The strategy.
   * @throws {TypeError} If `strategy` has no `execute` and `shutdown`.
   */
  register(mode: string, strategy: TaskExecutionStrategy): void {
    if (
      typeof strategy?.execute !== "function" ||
      typeof strategy?.shutdown !== "function"
    ) {
      throw new TypeError(
        `Cannot register mode '${mode}' as 'strategy' must have execute() and shutdown(): current value is ${
          describeValue(strategy)
        }`,
      );
    }
    this.#modes.set(mode, strategy);
    this.#runsAs.clear();
    for (const [name, registered] of this.#modes) {
      const first = [...this.#modes].find(([, s]) => s === registered)![0];
      this.#runsAs.set(name, first);
    }
  }

  /**
   * The mode a task submitted under `mode` really runs in: the first mode
   * registered with the same strategy. A node with a `queue` on a runner
   * without `remote` runs in the local worker pool, so `"remote"` runs as
   * `"worker"` there.
   *
   * @param mode A mode.
   * @returns The mode whose strategy runs it (`mode` itself when unknown or its own).
   *
   * @example A mode sharing another's strategy
   * ```ts
   * import { AsyncExecutionStrategy, Coordinator } from "@switchyard/core/engine";
   * import assert from "node:assert/strict";
   *
   * const local = new AsyncExecutionStrategy();
   * const coordinator = new Coordinator({ async: local, remote: local });
   * assert.equal(coordinator.runsAs("remote"), "async");
   * assert.equal(coordinator.runsAs("async"), "async");
   * await coordinator.shutdown();
   * ```
   */
  runsAs(mode: string): string {
    return this.#runsAs.get(mode) ?? mode;
  }

  /**
   * Connects the coordinator to a publisher: completions are published on
   * it, and jobs are closed from the messages it carries.
   *
   * @param publisher A running publisher.
   */
  start(publisher: RTPublisher): void {
    if (this.#subscription !== null) {
      this.#publisher?.unsubscribe(this.#subscription);
    }
    this.#publisher = publisher;
    this.#subscription = publisher.subscribe((m) => this.handleItem(m), "coordinator", {
      topics: ["success", "failure", "cancellation"],
      passive: true,
    });
  }

  /**
   * Closes the job a completion message is about: success, failure or
   * cancellation (a job already closed stays as it was). Jobs of tasks that
   * settle close in {@linkcode Coordinator.submit} before their outcome is
   * published, so this matters for messages published by others.
   *
   * @param message Any runtime message; other kinds are ignored.
   */
  handleItem(message: RuntimeMessage): void {
    switch (message.kind) {
      case "success":
        this.state.tryEndJob(message.requestId, message.result);
        return;
      case "failure":
        this.state.tryEndJob(message.requestId, message.error);
        return;
      case "cancellation":
        this.state.tryEndJob(message.requestId, message.reason);
    }
  }

  /**
   * Hands a task to the strategy of a mode. The outcome arrives as a
   * message on the publisher.
   *
   * @param task The task.
   * @param mode The mode.
   * @returns A promise that resolves once the outcome has been published.
   * @throws {TypeError} If no strategy is registered for `mode`.
   * @throws {Error} If the coordinator was not started.
   */
  submit(task: Task, mode: string): Promise<void> {
    const wrapper = this.#wrapper;
    return wrapper === null ? this.#submit(task, mode) : wrapper(task, mode, this.#submitNow);
  }

  /**
   * Sets the wrapper every later {@linkcode Coordinator.submit} goes
   * through (one at a time; `null` removes it).
   *
   * @param wrapper The wrapper.
   *
   * @example Timing every submission
   * ```ts
   * import { AsyncExecutionStrategy, Coordinator, RTPublisher, Task } from "@switchyard/core/engine";
   * import { node } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * const publisher = new RTPublisher();
   * publisher.start();
   * const coordinator = new Coordinator({ async: new AsyncExecutionStrategy() });
   * coordinator.start(publisher);
   * const seen: string[] = [];
   * coordinator.wrapSubmit((task, mode, submit) => {
   *   seen.push(`${task.node.name} in ${mode}`);
   *   return submit(task, mode);
   * });
   * await coordinator.submit(new Task("r1", node(async () => 7, { name: "seven" }), []), "async");
   * assert.deepEqual(seen, ["seven in async"]);
   * await coordinator.shutdown();
   * publisher.shutdown();
   * ```
   */
  wrapSubmit(wrapper: SubmitWrapper | null): void {
    this.#wrapper = wrapper;
  }

  #submit(task: Task, mode: string): Promise<void> {
    const strategy = this.#modes.get(mode);
    if (!strategy) {
      throw new TypeError(
        `Cannot run node '${task.node.name}' as 'mode' must be one of ${
          [...this.#modes.keys()].map((m) => `"${m}"`).join(", ")
        }: current value is ${describeValue(mode)}`,
      );
    }
    if (!this.#publisher) {
      throw new Error(
        "Cannot submit a task as the coordinator was not started",
      );
    }
    const job = this.state.addJob(task);
    let outcome: Promise<unknown>;
    try {
      outcome = strategy.execute(task);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    // A task that is its own job (the runtime's) ends itself: its settled()
    // records the outcome and calls finished() below. Its handlers are bound
    // to it, so a call costs two small bound functions instead of two
    // closures and their context, and no reference to the coordinator.
    if ((job as unknown) === task) {
      return outcome.then(ownFulfilled.bind(task), ownRejected.bind(task));
    }
    return outcome.then(
      (result) => {
        task.settled(true, result);
        this.finished(task, job, true, result);
      },
      (error) => {
        task.settled(false, error);
        this.finished(task, job, false, error);
      },
    );
  }

  /**
   * Closes the job of a task whose work ended and publishes the outcome.
   * The job is closed here, before the message goes out; handleItem() only
   * closes jobs that ended some other way (a cancellation). The outcome is
   * published even then: it tells subscribers when the work really ended,
   * and RTState ignores it for a request that is no longer open. The
   * message is built only when someone outside the runtime listens.
   * Called by {@linkcode Coordinator.submit} for tasks made by hand, and by
   * a task that is its own job from its `settled()` once it has recorded
   * its end (so its job takes that end time).
   *
   * @param task The task.
   * @param job Its job.
   * @param ok Whether the node returned.
   * @param value What it returned, or its error.
   *
   * @example Ending the job of a task run by hand
   * ```ts
   * import { AsyncExecutionStrategy, Coordinator, RequestFailure, RTPublisher, Task } from "@switchyard/core/engine";
   * import { node } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * const publisher = new RTPublisher();
   * publisher.start();
   * const coordinator = new Coordinator({ async: new AsyncExecutionStrategy() });
   * coordinator.start(publisher);
   * const task = new Task("r1", node(async () => 7, { name: "seven" }), []);
   * const job = coordinator.state.addJob(task);
   * const failed = publisher.listener((m) => m instanceof RequestFailure);
   * coordinator.finished(task, job, false, new Error("gave up"));
   * assert.equal(coordinator.state.getJob("r1")?.status, "closed");
   * assert.equal(((await failed) as RequestFailure).requestId, "r1");
   * await coordinator.shutdown();
   * publisher.shutdown();
   * ```
   */
  finished(task: Task, job: Job, ok: boolean, value: unknown): void {
    this.state.closeJob(job, value);
    const publisher = this.#publisher;
    if (publisher === null || !publisher.isRunning) return;
    if (ok) {
      if (publisher.hasSubscribers("success")) {
        publisher.publish(new RequestSuccess(task.requestId, task.nodeId, value));
      }
    } else if (publisher.hasSubscribers("failure")) {
      publisher.publish(new RequestFailure(task.requestId, task.nodeId, value));
    }
  }

  /**
   * What the coordinator is doing.
   *
   * @returns Modes and job counts.
   */
  systemDetail(): CoordinatorDetail {
    return {
      modes: [...this.#modes.keys()],
      jobs: this.state.size,
      open: this.state.openCount,
    };
  }

  /**
   * Ends what every strategy keeps for later tasks (idle workers, child
   * processes), while no task runs; later tasks start them again. The
   * coordinator stays connected.
   *
   * @example Letting a paused program's workers go
   * ```ts
   * import { Coordinator, RTPublisher, Task, WorkerExecutionStrategy } from "@switchyard/core/engine";
   * import { node } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * const publisher = new RTPublisher();
   * publisher.start();
   * const coordinator = new Coordinator({ worker: new WorkerExecutionStrategy({ size: 1 }) });
   * coordinator.start(publisher);
   * const double = node((x: number) => x * 2, { name: "double", worker: true });
   * await coordinator.submit(new Task("r1", double, [2]), "worker");
   * await coordinator.release(); // the idle worker ends here
   * await coordinator.submit(new Task("r2", double, [3]), "worker"); // a new one starts
   * assert.equal(coordinator.state.getJob("r2")?.result, 6);
   * await coordinator.shutdown();
   * publisher.shutdown();
   * ```
   */
  async release(): Promise<void> {
    // One strategy may serve several modes ("remote" without a queue is the worker pool).
    await Promise.all([...new Set(this.#modes.values())].map((s) => s.release?.()));
  }

  /** Shuts every strategy down and disconnects from the publisher. */
  async shutdown(): Promise<void> {
    if (this.#subscription !== null && this.#publisher?.isRunning) {
      this.#publisher.unsubscribe(this.#subscription);
    }
    this.#subscription = null;
    await Promise.all([...this.#modes.values()].map((s) => s.shutdown()));
  }
}

function ownFulfilled(this: Task, result: unknown): void {
  this.settled(true, result);
}

function ownRejected(this: Task, error: unknown): void {
  this.settled(false, error);
}
