/**
 * The parts of BullMQ and of its Redis client (ioredis) the remote layer
 * uses, as local types. The packages themselves are reached only through
 * `loadBullmq()` (`_bullmq_loader.ts`) when something connects, whose
 * `bullmq` object the compiler checks against {@linkcode Bullmq}: their
 * declarations (and the Node.js types those reference) stay out of the
 * module graph of the library's entry points, so `deno doc` and JSR never
 * have to resolve them.
 *
 * @module
 */

/** A Redis connection: the commands the remote layer sends, and its events. */
export interface RedisClient {
  /** The connection's options; `enableAutoPipelining` may be switched at any time. */
  readonly options: { enableAutoPipelining?: boolean };
  /** The connection failed (it retries on its own). */
  on(event: "error", listener: (error: Error) => void): unknown;
  /** The connection is (again) ready for commands. */
  on(event: "ready", listener: () => void): unknown;
  /** A message on a subscribed channel. */
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  subscribe(...channels: string[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  ping(): Promise<string>;
  exists(key: string): Promise<number>;
  del(key: string): Promise<number>;
  /** `SET key value PX ms`, with `NX` (then `null` when the key was there). */
  set(key: string, value: string, px: "PX", ms: number): Promise<"OK">;
  set(key: string, value: string, px: "PX", ms: number, nx: "NX"): Promise<"OK" | null>;
  hincrby(key: string, field: string, increment: number): Promise<number>;
  zadd(key: string, score: number, member: string): Promise<number | string>;
  zrem(key: string, member: string): Promise<number>;
  zrangebyscore(
    key: string,
    min: string,
    max: number,
    limit: "LIMIT",
    offset: number,
    count: number,
  ): Promise<string[]>;
  /** `XADD key [NOMKSTREAM] MAXLEN ~ n * field value…`; the entry's id, `null` if not added. */
  xadd(key: string, ...args: (string | number)[]): Promise<string | null>;
  /** `XREAD COUNT n BLOCK ms STREAMS key id`: per stream its entries, or `null` on timeout. */
  xread(
    countToken: "COUNT",
    count: number,
    blockToken: "BLOCK",
    ms: number,
    streamsToken: "STREAMS",
    key: string,
    id: string,
  ): Promise<[key: string, entries: [id: string, fields: string[]][]][] | null>;
  xtrim(key: string, minid: "MINID", approximately: "~", threshold: string): Promise<number>;
  /** Commands sent together in one write. */
  pipeline(): RedisPipeline;
  /** Closes once the commands sent are answered. */
  quit(): Promise<unknown>;
  /** Closes at once. */
  disconnect(): void;
}

/** Commands queued on a {@linkcode RedisClient} and sent together. */
export interface RedisPipeline {
  exists(key: string): unknown;
  /** Per command its error or reply, in order; `null` if nothing was queued. */
  exec(): Promise<[error: Error | null, reply: unknown][] | null>;
}

/** Which finished jobs BullMQ keeps: the newest `count`. */
export interface KeepJobs {
  count: number;
}

/** The options of a job added to a queue. */
export interface AddOptions {
  jobId?: string;
  attempts?: number;
  backoff?: { type: "exponential"; delay: number };
  /** `true`: removed at once. */
  removeOnComplete?: boolean | KeepJobs;
  /** `true`: removed at once. */
  removeOnFail?: boolean | KeepJobs;
}

/** A job as BullMQ stores it. */
export interface BullJob {
  readonly id?: string;
  readonly data: unknown;
  /** When it was added (ms since the epoch). */
  readonly timestamp: number;
  readonly attemptsStarted: number;
  readonly attemptsMade: number;
  readonly opts: { attempts?: number };
  /** The value its processor returned, once completed. */
  readonly returnvalue: unknown;
  readonly failedReason: string;
  getState(): Promise<string>;
  /** Puts the job, taken with `token`, back in the waiting list. */
  moveToWait(token?: string): Promise<number>;
}

/** A BullMQ queue: where jobs are added. */
export interface BullQueue {
  on(event: "error", listener: (error: Error) => void): unknown;
  add(name: string, data: unknown, options?: AddOptions): Promise<unknown>;
  getJob(id: string): Promise<BullJob | undefined>;
  /** Removes a job that is not locked; 1 if removed. */
  remove(id: string): Promise<number>;
  /** Removes the queue and every job of it from Redis. */
  obliterate(options: { force: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** A BullMQ worker: takes a queue's jobs and runs its processor on each. */
export interface BullWorker {
  on(event: "error", listener: (error: Error) => void): unknown;
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}

/** Runs a job taken with `token`; what it returns is the job's return value. */
export type Processor = (job: BullJob, token?: string) => Promise<unknown>;

/** The options of a {@linkcode BullWorker}. */
export interface WorkerOptions {
  /** The worker's command connection; BullMQ copies it for its blocking one. */
  connection: RedisClient;
  prefix: string;
  concurrency: number;
  lockDuration?: number;
  stalledInterval?: number;
  maxStalledCount?: number;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
}

/** BullMQ and its client, as `loadBullmq()` loads them. */
export interface Bullmq {
  /** A client as BullMQ wants it; `pipelined` sends one turn's commands in one write. */
  client(url: string, pipelined?: boolean): RedisClient;
  /** Connects once and pings; throws a `RemoteUnavailableError` saying why not. */
  probe(url: string, timeout: number): Promise<void>;
  /** A queue on a connection made by {@linkcode Bullmq.client}. */
  queue(name: string, options: { connection: RedisClient; prefix: string }): BullQueue;
  /** A worker on a connection made by {@linkcode Bullmq.client}. */
  worker(name: string, processor: Processor, options: WorkerOptions): BullWorker;
  /** Thrown by a processor: the job fails without further attempts. */
  UnrecoverableError: new (message?: string) => Error;
  /** Thrown by a processor that moved its job back to waiting. */
  WaitingError: new () => Error;
}
