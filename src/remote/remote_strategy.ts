/**
 * The remote strategy: nodes with a `queue` become BullMQ jobs that
 * `switchyard worker` processes run; the runner keeps tracking them.
 *
 * @module
 */
import { isNode, type Node } from "../core/node.ts";
import { logger } from "../core/logging.ts";
import type { TaskExecutionStrategy } from "../execution/strategy.ts";
import type { Task } from "../execution/task.ts";
import type { RemoteConfig } from "../execution/config.ts";
import { registerRemoteStrategy } from "../execution/strategies.ts";
import { observeRemoteJobs } from "../execution/load_gauges.ts";
import { injectTraceContext } from "../tracing/propagation.ts";
import { decodeError, decodeValue, encodeArgs, encodeError } from "./codec.ts";
import { RemoteUnavailableError } from "./errors.ts";
import type {
  CallMessage,
  CancelNotice,
  RemoteJobData,
  RemoteOutcome,
  ToRunner,
} from "./protocol.ts";
import { RemoteKeys } from "./protocol.ts";
import { OpenRequest } from "./_open_request.ts";
import { CallDesk } from "./_call_desk.ts";
import { RunnerLink } from "./_runner_link.ts";

export type { RemoteAttemptRecord } from "./_open_request.ts";

const log = logger("remote");

/**
 * Sends nodes that have a `queue` to the BullMQ queue of that name, under
 * the configured prefix (`jobId` = request id, so adding a job twice is a
 * no-op), and tracks them on the runner: each attempt a worker process
 * makes is kept in the request's `attempts` (host, pid, outcome, error), a
 * `call()` in the remote node becomes a child request here, and a
 * cancellation or timeout reaches the remote code's `currentSignal()`.
 * Node `retries` become job attempts with exponential backoff.
 *
 * The first task connects: a Redis server that cannot be reached fails it
 * with {@linkcode RemoteUnavailableError} within `connectTimeout`.
 *
 * @example Configuring a runner for a fleet
 * ```ts
 * import { Runner } from "@switchyard/core";
 *
 * // Nothing connects before the first remote node runs.
 * await using runner = new Runner({ remote: { redis: "redis://127.0.0.1:6379" }, loggingSetting: "NONE" });
 * ```
 */
export class RemoteExecutionStrategy implements TaskExecutionStrategy {
  /** This runner's id: names its channel (notices) and its calls queue. */
  readonly runnerId: string = crypto.randomUUID();
  readonly #config: Required<RemoteConfig>;
  readonly #keys: RemoteKeys;
  // Invariant: #open holds every task added to a queue whose outcome has
  // not settled its promise yet.
  readonly #open = new Map<string, OpenRequest>();
  readonly #exports = new WeakMap<Node, Promise<string>>();
  readonly #calls = new CallDesk(this.runnerId);
  readonly #chores = new Set<Promise<unknown>>();
  #link: Promise<RunnerLink> | null = null;
  // Invariant: a queue is here while this runner has sent it jobs that may
  // still wait; `since` is when its wait began (the first send, or the last
  // attempt a worker started), and a timer is armed unless the queue's
  // stall was reported or nothing waits there any more.
  readonly #stalls = new Map<string, QueueStall>();
  #closed = false;
  readonly #unobserve: () => void;

  /**
   * Makes a RemoteExecutionStrategy; nothing connects before the first task.
   *
   * @param config Redis URL, prefix, backoff, connect timeout.
   */
  constructor(config: RemoteConfig) {
    this.#config = {
      redis: config.redis,
      prefix: config.prefix ?? "switchyard",
      backoff: config.backoff ?? 1000,
      connectTimeout: config.connectTimeout ?? 5000,
      stalledWarning: config.stalledWarning ?? 10_000,
    };
    this.#keys = new RemoteKeys(this.#config.prefix);
    this.#unobserve = observeRemoteJobs(this);
  }

  /** Requests sent and not yet settled. */
  get openCount(): number {
    return this.#open.size;
  }

  /** Requests sent that no worker has reported starting. */
  get waitingCount(): number {
    let waiting = 0;
    for (const open of this.#open.values()) if (open.attempt === null) waiting++;
    return waiting;
  }

  /**
   * Sends a task to its node's queue.
   *
   * @param task The task; its node must have `queue` and a module URL.
   * @returns What the node returned on a worker process.
   */
  execute(task: Task): Promise<unknown> {
    const { node } = task;
    const queue = node.options.queue;
    if (this.#closed) {
      return Promise.reject(
        new Error(`Cannot send node '${node.name}' to a queue as the remote strategy shut down`),
      );
    }
    if (queue === undefined || node.moduleUrl === null) {
      return Promise.reject(
        new TypeError(
          `Cannot send node '${node.name}' to a queue as it must have 'queue' and a module URL in 'worker': current values are ${
            String(queue)
          } and ${String(node.moduleUrl)}`,
        ),
      );
    }
    let args: string;
    try {
      args = encodeArgs(task.args, `send node '${node.name}' to queue '${queue}'`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#send(task, queue, node.moduleUrl, args);
  }

  async #send(task: Task, name: string, moduleUrl: string, args: string): Promise<unknown> {
    const link = await this.#connect();
    const queue = link.queue(name);
    const exportName = await this.#exportName(task.node, moduleUrl);
    const { signal } = task;
    signal.throwIfAborted();
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const open = new OpenRequest(task, resolve, reject);
    this.#open.set(task.requestId, open);
    this.#watchQueue(name, false);
    const onAbort = () => this.#cancel(open, signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const timeout = task.node.options.timeout;
    // The request's span travels with the job: spans the remote node makes nest under it.
    const trace = task.trace === undefined ? {} : injectTraceContext({}, task.trace);
    const data: RemoteJobData = {
      v: 1,
      module: moduleUrl,
      export: exportName,
      name: task.node.name,
      args,
      requestId: task.requestId,
      parentId: task.parentNodeId,
      runnerId: this.runnerId,
      attempt: 1,
      deadline: timeout === undefined ? null : Date.now() + timeout,
      trace: Object.keys(trace).length === 0 ? null : trace,
    };
    const retries = task.node.options.retries ?? 0;
    link.pipeline(this.#open.size > 1);
    queue.add(task.node.name, data, {
      jobId: task.requestId,
      attempts: retries + 1,
      // The node's own first wait wins over the configuration's; BullMQ doubles it.
      backoff: {
        type: "exponential",
        delay: task.node.options.retryDelay ?? this.#config.backoff,
      },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
    }).catch((error: Error) =>
      open.reject(
        new RemoteUnavailableError(
          this.#config.redis,
          `could not add node '${task.node.name}' to queue '${name}': ${error?.message}`,
          { cause: error },
        ),
      )
    );
    try {
      return await promise;
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#open.delete(task.requestId);
    }
  }

  /** Connects once. */
  #connect(): Promise<RunnerLink> {
    return this.#link ??= RunnerLink.open(this.#config, this.runnerId, {
      message: (raw) => this.#onMessage(raw),
      call: (data) => this.#answerCall(data as CallMessage),
      reconnected: () => this.#track(this.#reconcile()),
    });
  }

  /** The name the node's module exports it under. */
  #exportName(target: Node, moduleUrl: string): Promise<string> {
    let found = this.#exports.get(target);
    if (!found) {
      found = import(moduleUrl).then((ns: Record<string, unknown>) => {
        const entries = Object.entries(ns);
        const hit = entries.find(([, v]) => v === target) ??
          entries.find(([, v]) => isNode(v) && v.name === target.name);
        if (!hit) {
          throw new Error(
            `Cannot send node '${target.name}' to a queue as module ${moduleUrl} does not export it: worker processes find it there by its export name`,
          );
        }
        this.#calls.remember(moduleUrl);
        return hit[0];
      });
      this.#exports.set(target, found);
    }
    return found;
  }

  #onMessage(raw: string): void {
    let message: ToRunner;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null) return;
    const open = this.#open.get(message.id);
    if (!open || open.settled) return;
    this.#watchQueue(open.task.node.options.queue!, true);
    if (message.t === "start") {
      open.startAttempt(message);
    } else if (message.t === "done") {
      settleCompleted(open, message);
    } else if (message.t === "fail") {
      if (message.place) open.startAttempt(message.place);
      const error = decodeError(message.e);
      open.endAttempt("failed", error, message.end);
      if (message.final) open.reject(error);
    }
  }

  /** Stops a request: workers hear it on the cancel channel; a waiting job is removed. */
  #cancel(open: OpenRequest, reason: unknown): void {
    const id = open.task.requestId;
    open.endAttempt("cancelled", reason);
    open.reject(reason);
    const link = this.#link;
    if (!link) return;
    this.#track(link.then(async (l) => {
      const notice: CancelNotice = { id, e: encodeError(reason) };
      await l.publish(this.#keys.cancelChannel, JSON.stringify(notice));
      const name = open.task.node.options.queue;
      // A job not yet taken is removed; one running (locked) stays, and
      // its worker stops it on the notice.
      if (name !== undefined) await l.existingQueue(name)?.remove(id).catch(() => 0);
    }));
  }

  /** Runs a call a remote node made, as a child of its request, and replies. */
  async #answerCall(message: CallMessage): Promise<void> {
    if (message?.t !== "call" || !this.#keys.isWorkerChannel(message.w)) return;
    const link = await this.#link!;
    const reply = await this.#calls.answer(message, this.#open.get(message.id));
    await link.publish(message.w, JSON.stringify(reply));
  }

  /**
   * After Redis came back: settles the requests whose outcome was missed
   * while the connection was down, and fails those whose job Redis lost.
   */
  async #reconcile(): Promise<void> {
    const link = await this.#link!;
    for (const [id, open] of [...this.#open]) {
      const queue = link.queue(open.task.node.options.queue!);
      const job = await queue.getJob(id).catch(() => undefined);
      if (this.#open.get(id) !== open) continue;
      if (!job) {
        open.endAttempt("lost");
        open.reject(
          new RemoteUnavailableError(
            this.#config.redis,
            `the job of node '${open.task.node.name}' (request ${id}) was lost when Redis restarted`,
          ),
        );
        continue;
      }
      const state = await job.getState().catch(() => "unknown");
      if (state === "completed") {
        settleCompleted(open, job.returnvalue);
      } else if (state === "failed") {
        const error = new Error(job.failedReason);
        error.name = "RemoteJobError";
        open.endAttempt("failed", error);
        open.reject(error);
      }
    }
  }

  /**
   * Keeps the stall watch of a queue: a job sent there starts it, and any
   * word from a worker about one of its jobs (`progress`) restarts its wait.
   */
  #watchQueue(queue: string, progress: boolean): void {
    const after = this.#config.stalledWarning;
    if (after === 0 || this.#closed) return;
    let stall = this.#stalls.get(queue);
    if (!stall) {
      stall = { since: Date.now(), timer: undefined, reported: false };
      this.#stalls.set(queue, stall);
    } else if (progress) {
      stall.since = Date.now();
      stall.reported = false;
    }
    if (stall.timer === undefined && !stall.reported) this.#armStall(queue, stall, after);
  }

  #armStall(queue: string, stall: QueueStall, delay: number): void {
    const timer = setTimeout(() => {
      stall.timer = undefined;
      let waiting = 0;
      let example = "";
      for (const open of this.#open.values()) {
        if (open.settled || open.attempt !== null) continue;
        if (open.task.node.options.queue !== queue) continue;
        waiting++;
        example ||= open.task.node.name;
      }
      if (waiting === 0) {
        this.#stalls.delete(queue);
        return;
      }
      const after = this.#config.stalledWarning;
      const waited = Date.now() - stall.since;
      if (waited < after) return this.#armStall(queue, stall, after - waited);
      stall.reported = true;
      log.warn(
        "Queue '{queue}' has had {waiting} job(s) of node {node} waiting for {ms} ms and no worker process has started one: is a `switchyard worker --queue {queue}` running on this Redis with prefix '{prefix}'?",
        { waiting, node: example, ms: waited, queue, prefix: this.#config.prefix },
      );
    }, delay);
    // A watch never keeps the process alive.
    Deno.unrefTimer(timer);
    stall.timer = timer;
  }

  #track(promise: Promise<unknown>): void {
    const chore = promise.catch((error) =>
      log.warn("Remote bookkeeping failed: {error}", { error })
    ).finally(() => this.#chores.delete(chore));
    this.#chores.add(chore);
  }

  /** Fails what is still open, drops the liveness key and closes every connection. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unobserve();
    for (const stall of this.#stalls.values()) clearTimeout(stall.timer);
    this.#stalls.clear();
    for (const open of this.#open.values()) {
      this.#cancel(open, new Error("The remote strategy shut down"));
    }
    await Promise.all(this.#chores);
    const link = await this.#link?.catch(() => null);
    await link?.close();
  }
}

/** The stall watch of one queue (see `#stalls`). */
interface QueueStall {
  since: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  reported: boolean;
}

/** Settles a request from its job's return value (a {@linkcode RemoteOutcome}). */
function settleCompleted(open: OpenRequest, returnvalue: unknown): void {
  if (open.settled) return;
  const outcome = returnvalue as Partial<RemoteOutcome> | null;
  if (outcome?.place) open.startAttempt(outcome.place);
  open.endAttempt("completed", undefined, outcome?.end);
  try {
    open.resolve(decodeValue(outcome!.v as string));
  } catch (error) {
    open.reject(error);
  }
}

registerRemoteStrategy((config) => new RemoteExecutionStrategy(config.remote!));
