/**
 * The remote strategy: nodes with a `queue` become BullMQ jobs that
 * `switchyard worker` processes run; the runner keeps tracking them.
 *
 * @module
 */
import { isNode, type Node } from "../core/node.ts";
import type { AttemptRecord } from "../state/request_forest.ts";
import { logger } from "../core/logging.ts";
import type { TaskExecutionStrategy } from "../execution/strategy.ts";
import type { Task } from "../execution/task.ts";
import type { RemoteConfig } from "../execution/config.ts";
import { registerRemoteStrategy } from "../execution/strategies.ts";
import { decodeError, decodeValue, encodeArgs, encodeError, encodeValue } from "./codec.ts";
import { RemoteUnavailableError } from "./errors.ts";
import {
  ALIVE_REFRESH_MS,
  ALIVE_TTL_MS,
  type AttemptPlace,
  type CancelNotice,
  type RemoteJobData,
  RemoteKeys,
  type ToRunner,
  type ToWorker,
} from "./protocol.ts";

const log = logger("remote");

type Lib = typeof import("./_bullmq.ts");
type Redis = InstanceType<Lib["Redis"]>;
type Queue = InstanceType<Lib["Queue"]>;

/**
 * One attempt of a remote request, as kept in its record's `attempts`:
 * when it ran (the worker's clock), how it ended, and where.
 */
export interface RemoteAttemptRecord extends AttemptRecord {
  /** The worker process's host name. */
  readonly host: string;
  /** The worker process's id. */
  readonly pid: number;
  /** The worker's id (one per `switchyard worker` process). */
  readonly worker: string;
  /**
   * `"lost"`: the worker stopped answering (it died) and the job went to
   * another; `"cancelled"`: the request was cancelled or timed out.
   */
  readonly outcome: "completed" | "failed" | "lost" | "cancelled";
}

interface Pending {
  task: Task;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** The attempt running now, as its worker announced it. */
  attempt: AttemptPlace | null;
}

interface Link {
  lib: Lib;
  commands: Redis;
  subscriber: Redis;
  queues: Map<string, Queue>;
  /** Every client made, to quit at shutdown (BullMQ leaves given ones open). */
  clients: Redis[];
  timer: ReturnType<typeof setInterval>;
}

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
  /** This runner's id: workers send outcomes and calls to its channel. */
  readonly runnerId: string = crypto.randomUUID();
  readonly #config: Required<RemoteConfig>;
  readonly #keys: RemoteKeys;
  // Invariant: #open holds every task added to a queue whose outcome has
  // not settled its promise yet.
  readonly #open = new Map<string, Pending>();
  readonly #exports = new WeakMap<Node, Promise<string>>();
  /** Modules of the remote nodes sent so far: where callees are looked up. */
  readonly #modules = new Set<string>();
  readonly #chores = new Set<Promise<unknown>>();
  #link: Promise<Link> | null = null;
  #closed = false;

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
    };
    this.#keys = new RemoteKeys(this.#config.prefix);
  }

  /** Requests sent and not yet settled. */
  get openCount(): number {
    return this.#open.size;
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

  async #send(task: Task, queue: string, moduleUrl: string, args: string): Promise<unknown> {
    const link = await this.#connect();
    const exportName = await this.#exportName(task.node, moduleUrl);
    const { signal } = task;
    signal.throwIfAborted();
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const pending: Pending = { task, resolve, reject, attempt: null };
    this.#open.set(task.requestId, pending);
    const onAbort = () => this.#cancel(pending, signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const timeout = task.node.options.timeout;
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
      trace: null,
    };
    const retries = task.node.options.retries ?? 0;
    this.#queue(link, queue).add(task.node.name, data, {
      jobId: task.requestId,
      attempts: retries + 1,
      // The node's own first wait wins over the configuration's; BullMQ doubles it.
      backoff: {
        type: "exponential",
        delay: task.node.options.retryDelay ?? this.#config.backoff,
      },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
    }).catch((error) =>
      reject(
        new RemoteUnavailableError(
          this.#config.redis,
          `could not add node '${task.node.name}' to queue '${queue}': ${error?.message}`,
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

  /** The queue of a name, made at first use. */
  #queue(link: Link, name: string): Queue {
    let queue = link.queues.get(name);
    if (!queue) {
      queue = new link.lib.Queue(name, {
        connection: this.#client(link.lib, `queue ${name}`, link.clients, true),
        prefix: this.#config.prefix,
      });
      // Its connection's errors are logged by #client; without a listener
      // BullMQ would print each one.
      queue.on("error", () => {});
      link.queues.set(name, queue);
    }
    return queue;
  }

  #client(lib: Lib, what: string, clients: Redis[], pipelined = false): Redis {
    const redis = lib.client(this.#config.redis, pipelined);
    clients.push(redis);
    let reported = false;
    redis.on("error", (error: Error) => {
      if (reported) return;
      reported = true;
      log.warn("Redis connection of {what} failed: {error}", { what, error: error.message });
    });
    redis.on("ready", () => reported = false);
    return redis;
  }

  /** Connects once: probe, subscriber, liveness key. */
  #connect(): Promise<Link> {
    return this.#link ??= (async () => {
      const lib = await import("./_bullmq.ts");
      try {
        await lib.probe(this.#config.redis, this.#config.connectTimeout);
      } catch (error) {
        throw new RemoteUnavailableError(
          this.#config.redis,
          `the server cannot be reached (${(error as Error)?.message ?? String(error)})`,
          { cause: error },
        );
      }
      const clients: Redis[] = [];
      const commands = this.#client(lib, "runner commands", clients);
      const subscriber = this.#client(lib, "runner subscriber", clients);
      let readyOnce = false;
      subscriber.on("ready", () => {
        if (readyOnce) this.#track(this.#reconcile());
        readyOnce = true;
      });
      subscriber.on("message", (_channel: string, message: string) => this.#onMessage(message));
      await subscriber.subscribe(this.#keys.runnerChannel(this.runnerId));
      const alive = this.#keys.runnerAlive(this.runnerId);
      await commands.set(alive, "1", "PX", ALIVE_TTL_MS);
      const timer = setInterval(() => {
        commands.set(alive, "1", "PX", ALIVE_TTL_MS).catch(() => {});
      }, ALIVE_REFRESH_MS);
      Deno.unrefTimer(timer as unknown as number);
      return { lib, commands, subscriber, queues: new Map(), clients, timer };
    })();
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
        this.#modules.add(moduleUrl);
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
    if (message.t === "call") {
      this.#track(this.#answerCall(message));
      return;
    }
    const pending = this.#open.get(message.id);
    if (!pending) return;
    if (message.t === "start") {
      this.#startAttempt(pending, message);
    } else if (message.t === "done") {
      if (message.place) this.#startAttempt(pending, message.place);
      this.#endAttempt(pending, "completed", undefined, message.end);
      try {
        pending.resolve(decodeValue(message.v));
      } catch (error) {
        pending.reject(error);
      }
    } else if (message.t === "fail") {
      if (message.place) this.#startAttempt(pending, message.place);
      const error = decodeError(message.e);
      this.#endAttempt(pending, "failed", error, message.end);
      if (message.final) pending.reject(error);
    }
  }

  /** Notes the attempt now running (the one before it, still open, was lost). */
  #startAttempt(pending: Pending, from: AttemptPlace): void {
    this.#endAttempt(pending, "lost");
    pending.attempt = {
      attempt: from.attempt,
      host: from.host,
      pid: from.pid,
      worker: from.worker,
      start: from.start,
    };
  }

  /** Records how the running attempt ended, if one is running. */
  #endAttempt(
    pending: Pending,
    outcome: RemoteAttemptRecord["outcome"],
    error?: unknown,
    end: number = Date.now(),
  ): void {
    const place = pending.attempt;
    if (!place) return;
    pending.attempt = null;
    if (outcome === "lost") {
      error = new Error(
        `Worker ${place.host}/${place.pid} stopped answering during attempt ${place.attempt}; the job went back to the queue`,
      );
      (error as Error).name = "WorkerLostError";
    }
    const record: RemoteAttemptRecord = {
      attempt: place.attempt,
      start: place.start,
      end,
      status: outcome === "completed" ? "Completed" : "Failed",
      ...(outcome === "completed" ? {} : { error }),
      host: place.host,
      pid: place.pid,
      worker: place.worker,
      outcome,
    };
    (pending.task.attempts ??= []).push(record);
  }

  /** Stops a request: workers hear it on the cancel channel; a waiting job is removed. */
  #cancel(pending: Pending, reason: unknown): void {
    const id = pending.task.requestId;
    this.#endAttempt(pending, "cancelled", reason);
    pending.reject(reason);
    const link = this.#link;
    if (!link) return;
    this.#track(link.then(async (l) => {
      const notice: CancelNotice = { id, e: encodeError(reason) };
      await l.commands.publish(this.#keys.cancelChannel, JSON.stringify(notice));
      const queue = pending.task.node.options.queue;
      // A job not yet taken is removed; one running (locked) stays, and
      // its worker stops it on the notice.
      if (queue !== undefined) await l.queues.get(queue)?.remove(id).catch(() => 0);
    }));
  }

  /** Runs a call a remote node made, as a child of its request, and replies. */
  async #answerCall(message: Extract<ToRunner, { t: "call" }>): Promise<void> {
    if (!this.#keys.isWorkerChannel(message.w)) return;
    const link = await this.#link!;
    let reply: ToWorker;
    try {
      const pending = this.#open.get(message.id);
      if (!pending) {
        throw new Error(
          `Cannot call node '${message.name}' as request ${message.id} is not open on runner ${this.runnerId}`,
        );
      }
      const target = await this.#callee(pending.task.node, message.name, message.url);
      const args = decodeValue(message.args);
      if (!Array.isArray(args)) {
        throw new TypeError("Cannot call a node as its arguments are not a list");
      }
      const value = await pending.task.callChild(target, args);
      reply = { t: "reply", c: message.c, ok: true, v: encodeValue(value) };
    } catch (error) {
      reply = { t: "reply", c: message.c, ok: false, e: encodeError(error) };
    }
    await link.commands.publish(message.w, JSON.stringify(reply));
  }

  /**
   * The node a remote node calls, looked up among nodes this runner
   * already knows: a worker never makes the runner import a module of its
   * choosing.
   */
  async #callee(caller: Node, name: string, hint: string | null): Promise<Node> {
    const modules = [...this.#modules];
    if (hint !== null && this.#modules.has(hint)) modules.unshift(hint);
    for (const url of modules) {
      const ns: Record<string, unknown> = await import(url);
      const found = Object.values(ns).find((v) => isNode(v) && v.name === name);
      if (found) return found as Node;
    }
    throw new Error(
      `Cannot call node '${name}' from remote node '${caller.name}' as the runner knows no node of that name: it must be exported by ${caller.moduleUrl} or by the module of another remote node`,
    );
  }

  /**
   * After Redis came back: settles the requests whose outcome was missed
   * while the connection was down, and fails those whose job Redis lost.
   */
  async #reconcile(): Promise<void> {
    const link = await this.#link!;
    for (const [id, pending] of [...this.#open]) {
      const name = pending.task.node.options.queue!;
      const queue = this.#queue(link, name);
      const job = await queue.getJob(id).catch(() => undefined);
      if (this.#open.get(id) !== pending) continue;
      if (!job) {
        this.#endAttempt(pending, "lost");
        pending.reject(
          new RemoteUnavailableError(
            this.#config.redis,
            `the job of node '${pending.task.node.name}' (request ${id}) was lost when Redis restarted`,
          ),
        );
        continue;
      }
      const state = await job.getState().catch(() => "unknown");
      if (state === "completed") {
        this.#endAttempt(pending, "completed");
        try {
          pending.resolve(decodeValue(job.returnvalue as string));
        } catch (error) {
          pending.reject(error);
        }
      } else if (state === "failed") {
        const error = new Error(job.failedReason);
        error.name = "RemoteJobError";
        this.#endAttempt(pending, "failed", error);
        pending.reject(error);
      }
    }
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
    for (const pending of this.#open.values()) {
      this.#cancel(pending, new Error("The remote strategy shut down"));
    }
    await Promise.all(this.#chores);
    const link = await this.#link?.catch(() => null);
    if (!link) return;
    clearInterval(link.timer);
    await link.commands.del(this.#keys.runnerAlive(this.runnerId)).catch(() => {});
    await Promise.all([...link.queues.values()].map((q) => q.close().catch(() => {})));
    await Promise.all(link.clients.map(quit));
  }
}

async function quit(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

registerRemoteStrategy((config) => new RemoteExecutionStrategy(config.remote!));
