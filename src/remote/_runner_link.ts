/**
 * A runner's connections to Redis: commands, its channel (notices from
 * workers), its calls queue (`call()`s made by remote nodes), its liveness
 * key and entry among the runners, and per queue a BullMQ `Queue` with a
 * reader of the queue's events stream (completions). While open it also
 * removes the calls queues of runners that are gone.
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import type { RemoteConfig } from "../execution/config.ts";
import { RemoteUnavailableError } from "./errors.ts";
import { RemoteKeys, runnerLiveness } from "./protocol.ts";
import { SWEEP_EVERY_MS, sweepGoneRunners } from "./_gone_runners.ts";

const log = logger("remote");

type Lib = typeof import("./_bullmq.ts");
type Redis = InstanceType<Lib["Redis"]>;
type Queue = import("npm:bullmq@^6.7.0").Queue;
type Worker = import("npm:bullmq@^6.7.0").Worker;

/**
 * How many calls from remote nodes a runner runs at once: each waits for
 * a child request, which may itself wait long.
 */
const CALLS_CONCURRENCY = 10_000;

/** How many entries a queue's events stream keeps (BullMQ's default is 10,000). */
const EVENTS_MAX_LEN = 100_000;

/** What the link hears. */
export interface LinkListener {
  /** A message on the runner's channel. */
  message(raw: string): void;
  /** A job of the runner's calls queue: a `call()` made by a remote node; its data as added. */
  call(data: unknown): Promise<void>;
  /** A job of one of the link's queues completed; `returnvalue` as BullMQ parsed it. */
  completed(jobId: string, returnvalue: unknown): void;
  /** The channel's connection came back after a loss: messages may have been missed. */
  reconnected(): void;
}

interface QueueLink {
  queue: Queue;
  /** Its events stream's reader. */
  events: { close(): Promise<void> };
}

/** A runner's connections; made by {@linkcode RunnerLink.open}. */
export class RunnerLink {
  readonly #lib: Lib;
  readonly #config: Required<RemoteConfig>;
  readonly #listener: LinkListener;
  readonly #commands: Redis;
  readonly #keys: RemoteKeys;
  readonly #runnerId: string;
  // Invariant: #queues has one entry per queue name used, made at first
  // use; its events reader was reading before the queue's first job was added.
  readonly #queues = new Map<string, Promise<QueueLink>>();
  /** Every client made, to quit at close (BullMQ leaves given ones open). */
  readonly #clients: Redis[];
  /** The queues' clients, pipelined while several requests are open (see pipeline). */
  readonly #queueClients: Redis[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  // Invariant: set while a sweep of gone runners runs (one at a time); close waits for it.
  #sweeping: Promise<unknown> | null = null;
  #calls: Worker | undefined;
  // Resolves when the link closes: calls still being answered stop holding their jobs.
  readonly #closing = Promise.withResolvers<void>();

  private constructor(
    lib: Lib,
    config: Required<RemoteConfig>,
    runnerId: string,
    listener: LinkListener,
  ) {
    this.#lib = lib;
    this.#config = config;
    this.#runnerId = runnerId;
    this.#listener = listener;
    this.#keys = new RemoteKeys(config.prefix);
    this.#clients = [];
    this.#commands = this.#client("runner commands", true);
  }

  /**
   * Connects: probe, channel, liveness key.
   *
   * @throws {RemoteUnavailableError} If the server cannot be reached within `connectTimeout`.
   */
  static async open(
    config: Required<RemoteConfig>,
    runnerId: string,
    listener: LinkListener,
  ): Promise<RunnerLink> {
    const lib = await import("./_bullmq.ts");
    try {
      await lib.probe(config.redis, config.connectTimeout);
    } catch (error) {
      throw new RemoteUnavailableError(
        config.redis,
        `the server cannot be reached (${(error as Error)?.message ?? String(error)})`,
        { cause: error },
      );
    }
    const link = new RunnerLink(lib, config, runnerId, listener);
    await link.#start();
    return link;
  }

  async #start(): Promise<void> {
    const subscriber = this.#client("runner subscriber");
    let readyOnce = false;
    subscriber.on("ready", () => {
      if (readyOnce) this.#listener.reconnected();
      readyOnce = true;
    });
    subscriber.on("message", (_channel: string, raw: string) => this.#listener.message(raw));
    await subscriber.subscribe(this.#keys.runnerChannel(this.#runnerId));
    // Listed before its calls queue exists: a crash from here on leaves
    // nothing a later runner's sweep does not find.
    const { refreshMs, ttlMs } = runnerLiveness;
    await this.#beat(ttlMs);
    this.#timer = setInterval(() => this.#beat(ttlMs).catch(() => {}), refreshMs);
    Deno.unrefTimer(this.#timer as unknown as number);
    const closing = this.#closing.promise;
    this.#calls = new this.#lib.Worker(
      this.#keys.callsQueue(this.#runnerId),
      (job: { data: unknown }) => Promise.race([this.#listener.call(job.data), closing]),
      {
        connection: this.#client("calls worker"),
        prefix: this.#config.prefix,
        concurrency: CALLS_CONCURRENCY,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
      },
    );
    this.#calls.on("error", () => {});
    await this.#calls.waitUntilReady();
    this.#sweep(ttlMs);
    this.#sweepTimer = setInterval(() => this.#sweep(ttlMs), SWEEP_EVERY_MS);
    Deno.unrefTimer(this.#sweepTimer as unknown as number);
  }

  /** Refreshes the liveness key and this runner's entry among the runners. */
  #beat(ttlMs: number): Promise<unknown> {
    return Promise.all([
      this.#commands.set(this.#keys.runnerAlive(this.#runnerId), "1", "PX", ttlMs),
      this.#commands.zadd(this.#keys.runners, Date.now(), this.#runnerId),
    ]);
  }

  /** Removes gone runners' calls queues in the background, unless a sweep already runs. */
  #sweep(ttlMs: number): void {
    this.#sweeping ??= sweepGoneRunners({
      lib: this.#lib,
      commands: this.#commands,
      keys: this.#keys,
      self: this.#runnerId,
      ttlMs,
    }).finally(() => this.#sweeping = null);
  }

  /** Publishes a message on a channel. */
  publish(channel: string, message: string): Promise<unknown> {
    return this.#commands.publish(channel, message);
  }

  /** The queue of a name, its completions heard, made at first use. */
  async queue(name: string): Promise<Queue> {
    let made = this.#queues.get(name);
    if (!made) {
      made = this.#makeQueue(name);
      this.#queues.set(name, made);
      made.catch(() => this.#queues.delete(name));
    }
    return (await made).queue;
  }

  /**
   * Whether jobs are added in pipelines: a fan-out's adds go out in one
   * write per turn (far less CPU than a write each), while a lone request's
   * add goes out at once (waiting for the turn to end adds about half a
   * millisecond to its round trip).
   *
   * @param busy Whether other requests are open.
   */
  pipeline(busy: boolean): void {
    for (const redis of this.#queueClients) redis.options.enableAutoPipelining = busy;
  }

  /** The queue of a name if it was made. */
  async existingQueue(name: string): Promise<Queue | undefined> {
    return (await this.#queues.get(name)?.catch(() => undefined))?.queue;
  }

  async #makeQueue(name: string): Promise<QueueLink> {
    const lib = this.#lib;
    const prefix = this.#config.prefix;
    const connection = this.#client(`queue ${name}`);
    this.#queueClients.push(connection);
    const queue = new lib.Queue(name, {
      connection,
      prefix,
      // Completions are read from the events stream: it keeps enough (about
      // four events a job) for a runner whose reader lags by thousands of jobs.
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
    });
    // Its connection's errors are logged by #client; without a listener
    // BullMQ would print each one.
    queue.on("error", () => {});
    // Read from the stream's last entry as of now, before any job of ours
    // is added: no completion of ours can come before it.
    const [last] = await this.#commands.xrevrange(queue.keys.events, "+", "-", "COUNT", 1);
    const events = new lib.QueueEvents(name, {
      connection: this.#client(`events of ${name}`),
      prefix,
      lastEventId: last?.[0] ?? "0-0",
    });
    events.on("error", () => {});
    events.on("completed", ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
      this.#listener.completed(jobId, returnvalue);
    });
    return { queue, events };
  }

  #client(what: string, pipelined = false): Redis {
    const redis = this.#lib.client(this.#config.redis, pipelined);
    this.#clients.push(redis);
    let reported = false;
    redis.on("error", (error: Error) => {
      if (reported) return;
      reported = true;
      log.warn("Redis connection of {what} failed: {error}", { what, error: error.message });
    });
    redis.on("ready", () => reported = false);
    return redis;
  }

  /** Drops the liveness key and this runner's entry, and closes every connection. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#sweepTimer);
    this.#closing.resolve();
    await this.#sweeping;
    await this.#calls?.close().catch(() => {});
    // The calls queue is this runner's alone: nothing of it stays in Redis.
    // If it cannot be removed now, the runner stays listed, and another
    // runner's sweep removes it once the liveness key has expired.
    const calls = new this.#lib.Queue(this.#keys.callsQueue(this.#runnerId), {
      connection: this.#commands,
      prefix: this.#config.prefix,
    });
    const removed = await calls.obliterate({ force: true }).then(() => true, () => false);
    await calls.close().catch(() => {});
    if (removed) await this.#commands.zrem(this.#keys.runners, this.#runnerId).catch(() => {});
    await this.#commands.del(this.#keys.runnerAlive(this.#runnerId)).catch(() => {});
    const queues = await Promise.all(
      [...this.#queues.values()].map((q) => q.catch(() => null)),
    );
    await Promise.all(queues.map(async (q) => {
      await q?.events.close().catch(() => {});
      await q?.queue.close().catch(() => {});
    }));
    await Promise.all(this.#clients.map(quit));
  }
}

async function quit(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
