/**
 * A runner's connections to Redis: commands, its channel (start notices
 * from workers), its done stream (how each attempt ended, read on a
 * connection of its own), its calls queue (`call()`s made by remote
 * nodes), its liveness key and entry among the runners, and per queue a
 * BullMQ `Queue`. While open it also removes what runners that are gone
 * left behind.
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import type { RemoteConfig } from "../execution/config.ts";
import { loadBullmq } from "./_bullmq_loader.ts";
import { DONE_MAX_LEN, RemoteKeys, runnerLiveness } from "./protocol.ts";
import { SWEEP_EVERY_MS, sweepGoneRunners } from "./_gone_runners.ts";
import type {
  Bullmq,
  BullQueue as Queue,
  BullWorker as Worker,
  RedisClient as Redis,
} from "./_bullmq_types.ts";

const log = logger("remote");

/**
 * How many calls from remote nodes a runner runs at once: each waits for
 * a child request, which may itself wait long.
 */
const CALLS_CONCURRENCY = 10_000;

/** How many entries of the done stream one read takes at most. */
const READ_COUNT = 1_000;
/**
 * How long one blocking read of the done stream waits (ms) before it is
 * sent again: the connection carries a little traffic even while no job
 * runs, so proxies that drop idle connections leave it alone.
 */
const READ_BLOCK_MS = 5_000;
/** How long the reader waits after a failed read before the next (ms). */
const READ_RETRY_MS = 200;
/** How often, at most, the entries already read are trimmed off the done stream (ms). */
const TRIM_EVERY_MS = 1_000;

/** What the link hears. */
export interface LinkListener {
  /** A message on the runner's channel or an entry of its done stream (JSON). */
  message(raw: string): void;
  /** A job of the runner's calls queue: a `call()` made by a remote node; its data as added. */
  call(data: unknown): Promise<void>;
  /** The channel's connection came back after a loss: messages may have been missed. */
  reconnected(): void;
}

/** A runner's connections; made by {@linkcode RunnerLink.open}. */
export class RunnerLink {
  readonly #lib: Bullmq;
  readonly #config: Required<RemoteConfig>;
  readonly #listener: LinkListener;
  readonly #commands: Redis;
  readonly #keys: RemoteKeys;
  readonly #runnerId: string;
  // Invariant: #queues has one entry per queue name used, made at first use.
  readonly #queues = new Map<string, Queue>();
  readonly #done: string;
  // Invariant: the id of the last done-stream entry handed to the
  // listener (or of the entry the runner made the stream with): the next
  // read, after a reconnection too, starts after it.
  #lastRead = "0-0";
  #lastTrim = 0;
  #reading: Promise<void> | null = null;
  #reader: Redis | undefined;
  #closed = false;
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
    lib: Bullmq,
    config: Required<RemoteConfig>,
    runnerId: string,
    listener: LinkListener,
  ) {
    this.#lib = lib;
    this.#config = config;
    this.#runnerId = runnerId;
    this.#listener = listener;
    this.#keys = new RemoteKeys(config.prefix);
    this.#done = this.#keys.doneStream(runnerId);
    this.#clients = [];
    this.#commands = this.#client("runner commands", true);
  }

  /**
   * Connects: probe, channel, liveness key.
   *
   * @throws {RemoteUnavailableError} If the server cannot be reached within
   *   `connectTimeout`, or refuses the URL's credentials.
   */
  static async open(
    config: Required<RemoteConfig>,
    runnerId: string,
    listener: LinkListener,
  ): Promise<RunnerLink> {
    const lib = await loadBullmq();
    await lib.probe(config.redis, config.connectTimeout);
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
    // Made before any job is sent (workers never make it), and read from
    // the entry that made it on.
    this.#lastRead = await this.#makeDoneStream();
    const reader = this.#reader = this.#client("done stream reader");
    let readerReady = false;
    reader.on("ready", () => {
      // Redis may have restarted empty: the stream is made again, and
      // reading goes on after the last entry read.
      if (readerReady) this.#makeDoneStream().catch(() => {});
      readerReady = true;
    });
    this.#reading = this.#read(reader);
    const closing = this.#closing.promise;
    this.#calls = this.#lib.worker(
      this.#keys.callsQueue(this.#runnerId),
      (job) => Promise.race([this.#listener.call(job.data), closing]),
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

  /** Adds an entry that makes the done stream if it is missing; its id. */
  async #makeDoneStream(): Promise<string> {
    return (await this.#commands.xadd(
      this.#done,
      "MAXLEN",
      "~",
      DONE_MAX_LEN,
      "*",
      "open",
      "1",
    ))!;
  }

  /**
   * Reads the done stream until the link closes: one blocking read for the
   * outcomes of every queue, each entry's `m` handed to the listener. The
   * entries read are trimmed off now and then (the stream's `MAXLEN`
   * bounds it anyway).
   */
  async #read(reader: Redis): Promise<void> {
    while (!this.#closed) {
      let got: Awaited<ReturnType<Redis["xread"]>>;
      try {
        got = await reader.xread(
          "COUNT",
          READ_COUNT,
          "BLOCK",
          READ_BLOCK_MS,
          "STREAMS",
          this.#done,
          this.#lastRead,
        );
      } catch {
        // Closed, or the read failed: it goes again from the same id. (A
        // read cut off with its connection is sent again, as it was, by
        // the client once the connection is back.)
        if (!this.#closed) await new Promise((r) => setTimeout(r, READ_RETRY_MS));
        continue;
      }
      const entries = got?.[0]?.[1];
      if (!entries || entries.length === 0) continue;
      for (const [id, fields] of entries) {
        this.#lastRead = id;
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (fields[i] !== "m") continue;
          try {
            this.#listener.message(fields[i + 1]);
          } catch (error) {
            // Anyone with access to Redis may write the stream: one bad
            // entry is logged, and reading goes on.
            log.warn("Could not handle done stream entry {id}: {error}", {
              id,
              error: (error as Error)?.message,
            });
          }
        }
      }
      const now = Date.now();
      if (now - this.#lastTrim >= TRIM_EVERY_MS) {
        this.#lastTrim = now;
        this.#commands.xtrim(this.#done, "MINID", "~", this.#lastRead).catch(() => {});
      }
    }
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

  /** The queue of a name, made at first use. */
  queue(name: string): Queue {
    let made = this.#queues.get(name);
    if (!made) {
      made = this.#makeQueue(name);
      this.#queues.set(name, made);
    }
    return made;
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
  existingQueue(name: string): Queue | undefined {
    return this.#queues.get(name);
  }

  #makeQueue(name: string): Queue {
    const connection = this.#client(`queue ${name}`);
    this.#queueClients.push(connection);
    const queue = this.#lib.queue(name, { connection, prefix: this.#config.prefix });
    // Its connection's errors are logged by #client; without a listener
    // BullMQ would print each one.
    queue.on("error", () => {});
    return queue;
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

  /**
   * Drops the liveness key, the done stream and this runner's entry, and
   * closes every connection.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#sweepTimer);
    this.#closed = true;
    // Ends the blocking read at once (a quit would wait for it).
    this.#reader?.disconnect();
    await this.#reading;
    this.#closing.resolve();
    await this.#sweeping;
    await this.#calls?.close().catch(() => {});
    // The calls queue is this runner's alone: nothing of it stays in Redis.
    // If it cannot be removed now, the runner stays listed, and another
    // runner's sweep removes it once the liveness key has expired.
    const calls = this.#lib.queue(this.#keys.callsQueue(this.#runnerId), {
      connection: this.#commands,
      prefix: this.#config.prefix,
    });
    const removed = await calls.obliterate({ force: true }).then(() => true, () => false);
    await calls.close().catch(() => {});
    // Outcomes still coming are dropped: workers never make the stream again.
    const dropped = await this.#commands.del(this.#done).then(() => true, () => false);
    if (removed && dropped) {
      await this.#commands.zrem(this.#keys.runners, this.#runnerId).catch(() => {});
    }
    await this.#commands.del(this.#keys.runnerAlive(this.#runnerId)).catch(() => {});
    await Promise.all([...this.#queues.values()].map((q) => q.close().catch(() => {})));
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
