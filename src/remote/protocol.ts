/**
 * What runners and worker processes exchange through Redis: the job data
 * BullMQ carries, the notices a worker sends its runner, and the key and
 * channel names both sides derive from the prefix.
 *
 * @module
 */
import { z } from "npm:zod@^4.1.0";

/** What a runner id (and a worker id) looks like: it names keys, channels and a queue. */
export const ID_PATTERN: RegExp = /^[\w-]{1,100}$/;

/** The data of one job: everything a worker needs to run one call. */
export interface RemoteJobData {
  /** Format version. */
  v: 1;
  /** The module that exports the node. */
  module: string;
  /** The name it is exported under. */
  export: string;
  /** The node's name. */
  name: string;
  /** The arguments, encoded (see `encodeValue`). */
  args: string;
  /** The request this job serves (also the job's id). */
  requestId: string;
  /** The calling node instance, `null` at top level. */
  parentId: string | null;
  /** The runner waiting for the outcome. */
  runnerId: string;
  /** The attempt the runner sent (workers count the real one from the job). */
  attempt: number;
  /** When the call times out (epoch ms), `null` without a timeout. */
  deadline: number | null;
  /** Trace context of the call, for tracing (W3C `traceparent` and friends). */
  trace: Record<string, string> | null;
}

/** Validates job data read from Redis, which anyone with access may have written. */
export const jobDataSchema: z.ZodType<RemoteJobData> = z.object({
  v: z.literal(1),
  module: z.string().min(1).max(4096),
  export: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  args: z.string(),
  requestId: z.string().min(1).max(200),
  parentId: z.string().max(300).nullable(),
  runnerId: z.string().regex(ID_PATTERN),
  attempt: z.number().int().positive(),
  deadline: z.number().nullable(),
  trace: z.record(z.string(), z.string()).nullable(),
}).strict() as z.ZodType<RemoteJobData>;

/** Where a worker says which attempt it runs, on which host and process. */
export interface AttemptPlace {
  /** The attempt number, from 1. */
  attempt: number;
  /** The worker's host name. */
  host: string;
  /** The worker's process id. */
  pid: number;
  /** The worker's id (one per `switchyard worker` process). */
  worker: string;
  /** When the attempt started, on the worker's clock (ms since the epoch). */
  start: number;
}

/**
 * What a worker's job returns, so BullMQ stores it as the job's return
 * value and its runner reads it from the queue's events stream: the value
 * (encoded), when the attempt ended and where it ran. A busy worker's
 * completions need no notice of their own.
 */
export interface RemoteOutcome {
  /** The node's value, encoded (see `encodeValue`). */
  v: string;
  /** When the attempt ended, on the worker's clock (ms since the epoch). */
  end: number;
  /** The attempt that completed. */
  place: AttemptPlace;
}

/**
 * Worker → runner, on the runner's channel: an attempt that runs long
 * enough to be seen, a failure (with its structured error), and the
 * outcome of a job that an otherwise idle worker completed (sooner than
 * the events stream brings it; a busy worker leaves it to the stream).
 */
export type ToRunner =
  | ({ t: "start"; id: string } & AttemptPlace)
  | ({ t: "done"; id: string } & RemoteOutcome)
  | {
    t: "fail";
    id: string;
    attempt: number;
    end: number;
    e: string;
    final: boolean;
    /** Set when no `start` was sent (the attempt ended quickly). */
    place?: AttemptPlace;
  };

/**
 * Worker → runner: a `call()` made by a remote node, as the data of a job
 * in the runner's calls queue (kept in Redis until the runner takes it,
 * so a runner that briefly lost its connection still gets it).
 */
export interface CallMessage {
  t: "call";
  /** The calling request. */
  id: string;
  /** The call's id, unique on the worker. */
  c: number;
  /** The worker's reply channel. */
  w: string;
  /** The callee's name. */
  name: string;
  /** The callee's module as the worker knows it (a hint: runners look it up themselves). */
  url: string | null;
  args: string;
}

/** Runner → worker, on the worker's channel. */
export type ToWorker =
  | { t: "reply"; c: number; ok: true; v: string }
  | { t: "reply"; c: number; ok: false; e: string };

/** Runner → every worker: stop a request (cancellation, timeout, end of run). */
export interface CancelNotice {
  /** The request. */
  id: string;
  /** Why, an encoded error. */
  e: string;
}

/** The key and channel names under a prefix. */
export class RemoteKeys {
  /**
   * Makes the names.
   *
   * @param prefix The key prefix (BullMQ's `prefix`).
   */
  constructor(readonly prefix: string) {}

  /**
   * The BullMQ queue (under the prefix) of a runner's calls: `call()`s made
   * by remote nodes, which the runner runs as child requests.
   */
  callsQueue(runnerId: string): string {
    return `sy-calls-${runnerId}`;
  }

  /** Where a runner hears from workers. */
  runnerChannel(runnerId: string): string {
    return `${this.prefix}:sy:runner:${runnerId}`;
  }

  /** A runner's liveness key, refreshed while it runs. */
  runnerAlive(runnerId: string): string {
    return `${this.prefix}:sy:alive:${runnerId}`;
  }

  /**
   * The sorted set of runners that opened a link and did not shut down,
   * each scored with when it last refreshed its liveness key (ms since the
   * epoch, on its own clock).
   */
  get runners(): string {
    return `${this.prefix}:sy:runners`;
  }

  /** Held by the runner removing what a gone runner left, while it does. */
  runnerSweep(runnerId: string): string {
    return `${this.prefix}:sy:sweep:${runnerId}`;
  }

  /** Where a worker hears replies to its calls. */
  workerChannel(workerId: string): string {
    return `${this.prefix}:sy:worker:${workerId}`;
  }

  /** Whether a channel name is a worker's reply channel. */
  isWorkerChannel(channel: string): boolean {
    return channel.startsWith(`${this.prefix}:sy:worker:`) &&
      ID_PATTERN.test(channel.slice(`${this.prefix}:sy:worker:`.length));
  }

  /** Where cancellations go to every worker. */
  get cancelChannel(): string {
    return `${this.prefix}:sy:cancel`;
  }
}

/** How often a runner refreshes its liveness key (ms). */
export const ALIVE_REFRESH_MS = 2_000;
/** How long the key lives without a refresh (ms). */
export const ALIVE_TTL_MS = 7_000;
/**
 * How runners keep their liveness key, read when a runner connects:
 * refreshed every `refreshMs`, it lasts `ttlMs` past each refresh. Workers
 * assume the defaults; only tests shorten them, to see a runner gone sooner.
 */
export const runnerLiveness: { refreshMs: number; ttlMs: number } = {
  refreshMs: ALIVE_REFRESH_MS,
  ttlMs: ALIVE_TTL_MS,
};
/**
 * How long an attempt runs before its worker says it started (ms): one
 * that ends sooner sends no notice (each costs a socket write), and its
 * record is made from its outcome.
 */
export const START_NOTICE_MS = 25;
/** The name a node can ask for its attempt number by (see `currentAttempt`). */
export const ATTEMPT_PROBE = "switchyard.currentAttempt";
