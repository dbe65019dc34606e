/**
 * The worker process side of remote execution: takes jobs from one BullMQ
 * queue and runs each in a local pool of Web Workers, so this process's
 * event loop stays free to renew the jobs' locks.
 *
 * @module
 */
import { hostname } from "node:os";
import type { Node } from "../core/node.ts";
import { logger } from "../core/logging.ts";
import { describeIssues } from "../core/validation.ts";
import { NodeTimeoutError } from "../core/errors.ts";
import { WorkerExecutionStrategy } from "../execution/worker_strategy.ts";
import { WorkerTaskError } from "../execution/worker_error.ts";
import { withTraceContext } from "../tracing/propagation.ts";
import { decodeError, decodeValue, encodeError, encodeValue } from "./codec.ts";
import { RunnerGoneError } from "./errors.ts";
import {
  ALIVE_TTL_MS,
  type AttemptPlace,
  type CancelNotice,
  DONE_MAX_LEN,
  jobDataSchema,
  RemoteKeys,
  type RemoteOutcome,
  START_NOTICE_MS,
  type ToRunner,
  type ToWorker,
} from "./protocol.ts";
import { LoadError, RemoteJobTask, type TaskOwner } from "./_job_task.ts";
import { loadBullmq } from "./_bullmq_loader.ts";
import { NodeLoader } from "./_node_loader.ts";
import { WorkerCalls } from "./_worker_calls.ts";
import { RunnerWatch } from "./_runner_watch.ts";
import { optionsSchema, type RemoteWorkerOptions } from "./worker_options.ts";
import type { BullJob, Bullmq, BullWorker, RedisClient as Redis } from "./_bullmq_types.ts";

export type { RemoteWorkerOptions };

const log = logger("remote");

/**
 * Jobs younger than this skip the check that their runner is alive (ms):
 * its liveness key outlives it by that long anyway (a runner that shut
 * down cleanly is the exception, and the watch during the job sees it).
 */
const FRESH_MS = ALIVE_TTL_MS;

/** Why a job's load stopped: the worker is stopping and gives the job back. */
const GIVEN_BACK = Symbol("given back");

/**
 * Serves one queue: each job's node is imported from its module (only
 * modules the allow-list names), run in a Web Worker of a local pool, and
 * its value or structured error (name, message, stack, cause) goes back
 * to the runner that sent it. `call()` in the node becomes a tracked
 * request on that runner; its `currentSignal()` fires when the runner
 * cancels the request, when the call's deadline passes, and when the
 * runner is gone.
 *
 * @example Serving a queue until told to stop
 * ```ts ignore
 * import { RemoteWorker } from "@switchyard/core/engine";
 *
 * const worker = new RemoteWorker({ redis: "redis://127.0.0.1:6379", queue: "analyse" });
 * await worker.start();
 * // … later
 * await worker.close();
 * ```
 */
export class RemoteWorker {
  /** This worker's id. */
  readonly id: string = crypto.randomUUID();
  readonly #options: RemoteWorkerOptions;
  readonly #keys: RemoteKeys;
  readonly #loader: NodeLoader;
  readonly #pool: WorkerExecutionStrategy;
  readonly #host = hostname();
  // Invariant: #running has a controller for every job being processed, by request id.
  readonly #running = new Map<string, AbortController>();
  // Invariant: #loading has a way to stop the wait of every job whose
  // node's module is being loaded (its node has not started).
  readonly #loading = new Map<string, (reason: unknown) => void>();
  #calls: WorkerCalls | null = null;
  #watch: RunnerWatch | null = null;
  readonly #owner: TaskOwner = {
    call: (task, target, args) => this.#calls!.call(task, target, args),
  };
  #lib: Bullmq | null = null;
  #worker: BullWorker | null = null;
  #commands: Redis | null = null;
  /** BullMQ's own command connection, which also carries each attempt's report. */
  #reporter: Redis | null = null;
  // Invariant: these clients pipeline (send one turn's commands in one
  // write) exactly while a job is running besides the one that just began
  // or ended; see #pipeline.
  #pipelined: Redis[] = [];
  #clients: Redis[] = [];
  #closing: Promise<void> | null = null;
  /** Jobs finished (completed or failed) by this worker. */
  processed = 0;

  /**
   * Makes a RemoteWorker; nothing connects before {@linkcode RemoteWorker.start}.
   *
   * @param options Redis URL, queue, concurrency, permissions, allowed modules, lock settings.
   * @throws {TypeError} Naming the option and its value when one is invalid.
   */
  constructor(options: RemoteWorkerOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new TypeError(`Cannot start a worker as ${describeIssues(parsed.error, options)}`);
    }
    this.#options = options;
    this.#keys = new RemoteKeys(options.prefix ?? "switchyard");
    this.#loader = new NodeLoader(options.modules);
    this.#pool = new WorkerExecutionStrategy({
      size: options.concurrency ?? navigator.hardwareConcurrency ?? 1,
      permissions: options.permissions,
    });
  }

  /** Where this worker runs: host and process id. */
  get place(): { host: string; pid: number } {
    return { host: this.#host, pid: Deno.pid };
  }

  /**
   * Connects and starts taking jobs.
   *
   * @throws {TypeError} If an allowed local module or folder does not exist.
   * @throws {RemoteUnavailableError} If Redis cannot be reached or refuses
   *   the URL's credentials.
   */
  async start(): Promise<void> {
    await this.#loader.checkLocal();
    const lib = this.#lib = await loadBullmq();
    const { redis, queue } = this.#options;
    await lib.probe(redis, this.#options.connectTimeout ?? 5000);
    const commands = this.#commands = this.#client(lib, "commands");
    this.#calls = new WorkerCalls(lib, commands, this.#keys, this.id, redis);
    this.#watch = new RunnerWatch(commands, this.#keys);
    const subscriber = this.#client(lib, "subscriber");
    let readyOnce = false;
    subscriber.on("ready", () => {
      // Replies published while the connection was down are lost.
      if (readyOnce) this.#calls!.failAll("the connection to Redis was lost while waiting");
      readyOnce = true;
    });
    subscriber.on("message", (channel: string, raw: string) => this.#onMessage(channel, raw));
    await subscriber.subscribe(this.#keys.cancelChannel, this.#calls.channel);
    await commands.ping();
    // Not pipelined when made: BullMQ's blocking client is a copy of it.
    const connection = this.#reporter = this.#client(lib, "worker");
    this.#pipelined = [commands, connection];
    const worker = this.#worker = lib.worker(queue, (job, token) => this.#process(job, token), {
      connection,
      prefix: this.#keys.prefix,
      concurrency: this.#options.concurrency ?? navigator.hardwareConcurrency ?? 1,
      lockDuration: this.#options.lockDuration ?? 30_000,
      stalledInterval: this.#options.stalledInterval ?? 30_000,
      maxStalledCount: this.#options.maxStalledCount ?? 5,
    });
    worker.on(
      "error",
      (error: Error) =>
        log.warn("Worker of queue {queue} hit an error: {error}", { queue, error: error.message }),
    );
    await worker.waitUntilReady();
  }

  /**
   * Pipelines the commands of a busy worker: one write per turn for the
   * outcomes and fetches of several jobs costs far less CPU than a write
   * each. A lone job's commands go out at once instead, as waiting for the
   * turn to end adds about half a millisecond to its round trip.
   */
  #pipeline(busy: boolean): void {
    for (const redis of this.#pipelined) redis.options.enableAutoPipelining = busy;
  }

  #client(lib: Bullmq, what: string): Redis {
    const redis = lib.client(this.#options.redis);
    this.#clients.push(redis);
    let reported = false;
    redis.on("error", (error: Error) => {
      if (!reported) {
        log.warn("Redis {what} connection failed: {error}", { what, error: error.message });
      }
      reported = true;
    });
    redis.on("ready", () => reported = false);
    return redis;
  }

  async #process(job: BullJob, token: string | undefined): Promise<RemoteOutcome> {
    const parsed = jobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      throw new this.#lib!.UnrecoverableError(
        `Cannot run job ${job.id} of queue '${this.#options.queue}' as its data is not a Switchyard job: ${
          describeIssues(parsed.error, job.data)
        }`,
      );
    }
    const data = parsed.data;
    const commands = this.#commands!;
    const place: AttemptPlace = {
      attempt: Math.max(1, job.attemptsStarted ?? job.attemptsMade + 1),
      host: this.#host,
      pid: Deno.pid,
      worker: this.id,
      start: Date.now(),
    };
    // A job added moments ago had a live runner then, unless this worker
    // found it gone lately; an older one (left in the queue, or
    // redelivered) is checked first. Either way the watch below stops the
    // job if the runner goes.
    const fresh = Date.now() - job.timestamp < FRESH_MS;
    const channel = this.#keys.runnerChannel(data.runnerId);
    const cannotTell = (error: Error) =>
      log.warn("Could not tell runner {runner} about {id}: {error}", {
        runner: data.runnerId,
        id: data.requestId,
        error: error.message,
      });
    // A start notice is not awaited: one connection keeps it before the
    // attempt's end, and one lost costs only the record's start time.
    const send = (message: ToRunner) => {
      commands.publish(channel, JSON.stringify(message)).catch(cannotTell);
    };
    // How the attempt ended goes to the runner's own stream, on BullMQ's
    // own connection just before BullMQ moves the job on: Redis runs the
    // two in that order, so a job done or failed in BullMQ always has its
    // entry (a crash before both leaves the job to stalled-job recovery,
    // whose next attempt reports again). NOMKSTREAM: a runner that closed
    // or is gone deleted its stream, and nothing makes it again.
    let reportPipelined = false;
    const report = (message: ToRunner): void => {
      reportPipelined = this.#reporter!.options.enableAutoPipelining ?? false;
      this.#reporter!.xadd(
        this.#keys.doneStream(data.runnerId),
        "NOMKSTREAM",
        "MAXLEN",
        "~",
        DONE_MAX_LEN,
        "*",
        "m",
        JSON.stringify(message),
      ).catch(cannotTell);
    };
    const startNotice = () => send({ t: "start", id: data.requestId, ...place });
    const watch = this.#watch!;
    if (watch.isGone(data.runnerId) || (!fresh && !(await watch.isAlive(data.runnerId)))) {
      throw new this.#lib!.UnrecoverableError(
        new RunnerGoneError(data.runnerId, data.name).message,
      );
    }
    // An attempt says it started only once its node is loaded, and only if
    // it lasts; a quick one says it all in its outcome (the job's return
    // value, or a failure notice).
    let startTimer: ReturnType<typeof setTimeout> | undefined;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const controller = new AbortController();
    this.#running.set(data.requestId, controller);
    this.#pipeline(this.#running.size > 1);
    if (data.deadline !== null) {
      timers.push(setTimeout(() => {
        const timeout = Math.max(0, data.deadline! - Date.now());
        controller.abort(new NodeTimeoutError(data.name, timeout));
      }, Math.max(0, data.deadline - Date.now())));
    }
    const unwatch = watch.watch(
      data.runnerId,
      () => controller.abort(new RunnerGoneError(data.runnerId, data.name)),
    );
    try {
      // A stop while the node's module loads gives the job back (below).
      const loading = Promise.withResolvers<never>();
      this.#loading.set(data.requestId, loading.reject);
      let node: Node;
      try {
        node = await Promise.race([this.#loader.load(data), loading.promise]);
      } finally {
        this.#loading.delete(data.requestId);
      }
      startTimer = setTimeout(startNotice, START_NOTICE_MS);
      const args = decodeValue(data.args);
      if (!Array.isArray(args)) {
        throw new LoadError("Cannot run a job as its arguments are not a list");
      }
      const task = new RemoteJobTask(
        data,
        node,
        args,
        controller.signal,
        this.#owner,
        place.attempt,
      );
      // Spans this process makes for the job nest under the request's span.
      const value = await withTraceContext(
        data.trace ?? undefined,
        () => this.#pool.execute(task),
      );
      let v: string;
      try {
        v = encodeValue(value);
      } catch (error) {
        throw new LoadError(
          `Cannot return the value of node '${data.name}' as it cannot be encoded for Redis: ${
            (error as Error).message
          }`,
        );
      }
      const outcome: RemoteOutcome = { v, end: Date.now(), place };
      report({ t: "done", id: data.requestId, ...outcome });
      return outcome;
    } catch (thrown) {
      if (thrown === GIVEN_BACK) {
        await this.#giveBack(job, token);
        throw new this.#lib!.WaitingError();
      }
      // The node's own error, not the pool's wrapper around it.
      const error = thrown instanceof WorkerTaskError && thrown.reason === "threw"
        ? thrown.cause
        : thrown;
      clearTimeout(startTimer);
      const final = controller.signal.aborted || error instanceof LoadError ||
        job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      report({
        t: "fail",
        id: data.requestId,
        attempt: place.attempt,
        end: Date.now(),
        e: encodeError(error),
        final,
        // Always: the start notice took another way, and may come after.
        place,
      });
      const failure = final ? new this.#lib!.UnrecoverableError("") : new Error("");
      failure.message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (error instanceof Error && error.stack) failure.stack = error.stack;
      throw failure;
    } finally {
      this.processed++;
      clearTimeout(startTimer);
      for (const timer of timers) clearTimeout(timer);
      unwatch();
      this.#running.delete(data.requestId);
      // BullMQ sends this job's outcome (and fetches the next) right after.
      // A report waiting in this turn's pipeline keeps it on: a command
      // sent at once would pass it.
      if (!reportPipelined) this.#pipeline(this.#running.size > 0);
      this.#calls!.release(data);
    }
  }

  /**
   * Puts a job whose node never started back at the head of its queue, as
   * if never taken: its attempt is not counted.
   */
  async #giveBack(job: BullJob, token: string | undefined): Promise<void> {
    const key = `${this.#keys.prefix}:${this.#options.queue}:${job.id}`;
    await this.#commands!.hincrby(key, "ats", -1);
    await job.moveToWait(token);
  }

  /** A cancellation, or a reply to a call. */
  #onMessage(channel: string, raw: string): void {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (channel === this.#keys.cancelChannel) {
      const notice = message as CancelNotice;
      const controller = typeof notice.id === "string" ? this.#running.get(notice.id) : undefined;
      controller?.abort(decodeError(String(notice.e)));
      return;
    }
    this.#calls?.reply(message as ToWorker);
  }

  /**
   * Stops taking jobs, gives back those whose node's module is still
   * loading (they go back to the head of the queue, their attempt not
   * counted), lets the running ones finish (their outcomes are sent), then
   * closes the pool and every connection. Safe to call twice.
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      // Jobs whose node has not started go back to the queue; the rest finish.
      for (const giveBack of this.#loading.values()) giveBack(GIVEN_BACK);
      await this.#worker?.close();
      this.#watch?.close();
      await this.#pool.shutdown();
      await Promise.all(this.#clients.map(async (redis) => {
        try {
          await redis.quit();
        } catch {
          redis.disconnect();
        }
      }));
    })();
  }
}
