/**
 * The configuration of a runner, validated with zod.
 *
 * @module
 */
import { z } from "npm:zod@^4.1.0";
import { canonicalLoggingSetting, LOGGING_SETTINGS, type LoggingSetting } from "../core/logging.ts";
import { isRunId, RUN_ID_RULE } from "../core/run_id.ts";
import type { WorkerPermissions } from "../core/node.ts";
import type { RuntimeMessage } from "../pubsub/messages.ts";
import { describeIssues } from "../core/validation.ts";

/** Worker pool settings. */
export interface WorkerPoolConfig {
  /** How many workers at most; defaults to `navigator.hardwareConcurrency`. */
  size?: number;
  /** Deno permissions for worker code (default: inherit the host's). */
  permissions?: WorkerPermissions;
  /** How long a cancelled worker task may take to stop before its worker is terminated (ms, default 100). */
  gracePeriod?: number;
}

/** Where the `"remote"` execution strategy sends nodes that have a `queue`. */
export interface RemoteConfig {
  /** The Redis server BullMQ keeps its queues in, e.g. `redis://127.0.0.1:6379`. */
  redis: string;
  /**
   * The key prefix of every queue (BullMQ's `prefix`); runners and worker
   * processes must agree on it.
   *
   * @default "switchyard"
   */
  prefix?: string;
  /**
   * The first delay before a failed attempt is retried, doubled at each
   * further attempt (ms); a node's own `retryDelay` wins.
   *
   * @default 1000
   */
  backoff?: number;
  /**
   * How long the first connection to Redis may take before the run fails (ms).
   *
   * @default 5000
   */
  connectTimeout?: number;
  /**
   * Warn when a queue has had jobs waiting this long (ms) and no worker
   * process has started any of them since they were sent (or since the last
   * one started): most often no `switchyard worker` serves that queue with
   * this prefix. Once per stall; `0` turns it off.
   *
   * @default 10000
   */
  stalledWarning?: number;
}

/** The validated configuration of a runner. */
export interface ExecutorConfig {
  /**
   * Time limit for each run in ms; none when `undefined`.
   *
   * @default {undefined}
   */
  timeout: number | undefined;
  /**
   * End the run at the first failure anywhere, even one a parent caught.
   *
   * @default {false}
   */
  endOnError: boolean;
  /**
   * How much to log; `"DEBUG"`, `"INFO"` and `"WARNING"` are read as
   * `"VERBOSE"`, `"REGULAR"` and `"QUIET"`.
   *
   * @default {"REGULAR"}
   */
  loggingSetting: LoggingSetting;
  /**
   * A file to append log lines to. It must be writable: a runner refuses
   * to start with one it cannot open.
   *
   * @default {undefined}
   */
  logFile: string | undefined;
  /**
   * Receives every message the runtime publishes. Closing the runner waits
   * (a bounded time) for the promises it returned.
   *
   * @default {undefined}
   */
  subscriber: ((message: RuntimeMessage) => void | Promise<void>) | undefined;
  /**
   * The run's id, used for saved files: 1 to 200 letters, digits, `.`,
   * `_` or `-`, not `.` or `..`. With `saveState`, an id that names a saved
   * or running run is refused when the run starts. A fresh UUID by default.
   */
  runIdentifier: string;
  /**
   * Save the run under `stateDir`.
   *
   * @default {false}
   */
  saveState: boolean;
  /**
   * Where saved runs go.
   *
   * @default {".switchyard"}
   */
  stateDir: string;
  /**
   * How a saved run's event log reaches its file (with `saveState`):
   *
   * - `"batch"`: lines are gathered and written together: once per
   *   macrotask, every 20 ms, at 256 KiB, and when the run saves, closes or
   *   the process exits. A process killed with SIGKILL loses the events
   *   since the last write (those of the current macrotask, or of at most
   *   the last 20 ms).
   * - `"event"`: each line is written (one synchronous `write`) when its
   *   event is recorded, before a caller learns a request started or
   *   ended: a process killed at any moment loses at most the line being
   *   written. Every event costs a system call; see `BENCHMARKS.md`.
   *
   * Neither mode calls `fsync`: what was written survives the process
   * (SIGKILL, out of memory, a crash of the runtime), while a machine that
   * loses power may lose what the OS had not flushed to the disk yet.
   *
   * @default {"batch"}
   *
   * @example Writing each event before going on
   * ```ts
   * import { call, node, Runner } from "@switchyard/core";
   * import { eventLogPath } from "@switchyard/core/persistence";
   * import assert from "node:assert/strict";
   *
   * const stateDir = await Deno.makeTempDir();
   * const log = eventLogPath(stateDir, "nightly");
   * await using runner = new Runner({
   *   saveState: true,
   *   stateDir,
   *   durability: "event",
   *   runIdentifier: "nightly",
   *   loggingSetting: "NONE",
   * });
   * const fetchPage = node(async (page: number) => `page ${page}`, { name: "fetchPage" });
   * const crawl = node(async () => {
   *   await call(fetchPage, 1);
   *   // The call's end is in the file once call() has returned.
   *   return Deno.readTextFileSync(log).trim().split("\n").map((l) => JSON.parse(l).event);
   * }, { name: "crawl" });
   * const { answer } = await runner.run(crawl);
   * assert.deepEqual(answer, ["start", "created", "created", "completed"]);
   * await Deno.remove(stateDir, { recursive: true });
   * ```
   */
  durability: Durability;
  /**
   * Worker pool settings.
   *
   * @default {{}}
   */
  workers: WorkerPoolConfig;
  /**
   * Send nodes that have a `queue` to worker processes over BullMQ on Redis.
   *
   * @default undefined (such nodes run in the local worker pool)
   */
  remote: RemoteConfig | undefined;
  /**
   * Record a span per request and the request metrics when an
   * OpenTelemetry tracer or meter provider is registered (Deno's built-in
   * one with `OTEL_DENO=true`, or an SDK's); `false` turns them off even
   * then.
   *
   * @default true
   */
  tracing: boolean;
}

/**
 * The ways a saved run's event log can reach its file (see
 * {@linkcode ExecutorConfig.durability}).
 *
 * @example Every mode, the default first
 * ```ts
 * import { DURABILITIES } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(DURABILITIES, ["batch", "event"]);
 * ```
 */
export const DURABILITIES = ["batch", "event"] as const;

/** How a saved run's event log reaches its file: `"batch"` or `"event"`. */
export type Durability = typeof DURABILITIES[number];

/** What a caller may pass for an {@linkcode ExecutorConfig}: every field optional. */
export type ExecutorConfigInput = Partial<ExecutorConfig>;

/** What {@linkcode isRedisUrl} accepts, as the end of an error message. */
export const REDIS_URL_RULE =
  "a redis:// or rediss:// URL with a host, at most a database number as its path, and no query";

/**
 * Whether a string is a Redis URL a client can connect to. The Redis client
 * takes a URL's path as the database and its query as client options
 * unchecked (a database 'abc' or a timeout 'abc' fail inside it, out of
 * reach of any handler), so only a database number is allowed and no query.
 *
 * @param value The string.
 * @returns `true` for `redis://` and `rediss://` URLs with a host.
 *
 * @example A database number, but no query
 * ```ts
 * import { isRedisUrl } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isRedisUrl("redis://127.0.0.1:6379/2"), true);
 * assert.equal(isRedisUrl("redis://127.0.0.1:6379/abc"), false);
 * assert.equal(isRedisUrl("redis://127.0.0.1:6379?db=abc"), false);
 * assert.equal(isRedisUrl("http://127.0.0.1:6379"), false);
 * ```
 */
export function isRedisUrl(value: string): boolean {
  if (typeof value !== "string" || !URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "redis:" || url.protocol === "rediss:") && url.hostname !== "" &&
    /^(\/\d{0,5})?$/.test(url.pathname) && url.search === "" && !value.includes("?");
}

const permissionsSchema = z.union([
  z.enum(["inherit", "none"]),
  z.record(z.string(), z.unknown()),
]);

const schema = z.object({
  timeout: z.number().positive().finite().optional(),
  endOnError: z.boolean().default(false),
  loggingSetting: z.enum(LOGGING_SETTINGS).default("REGULAR").transform(
    canonicalLoggingSetting,
  ),
  logFile: z.string().min(1).optional(),
  subscriber: z.custom<ExecutorConfig["subscriber"]>(
    (v) => v === undefined || typeof v === "function",
    { message: "a function" },
  ).optional(),
  runIdentifier: z.string().refine(isRunId, RUN_ID_RULE).optional(),
  saveState: z.boolean().default(false),
  stateDir: z.string().min(1).default(".switchyard"),
  durability: z.enum(DURABILITIES).default("batch"),
  workers: z.object({
    size: z.number().int().positive().optional(),
    permissions: permissionsSchema.optional(),
    gracePeriod: z.number().nonnegative().finite().optional(),
  }).strict().default({}),
  remote: z.object({
    redis: z.string().refine(isRedisUrl, REDIS_URL_RULE),
    prefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "1 to 64 letters, digits, '_', '-' or '.'")
      .optional(),
    backoff: z.number().nonnegative().finite().optional(),
    connectTimeout: z.number().positive().finite().optional(),
    stalledWarning: z.number().nonnegative().finite().optional(),
  }).strict().optional(),
  tracing: z.boolean().default(true),
}).strict();

/**
 * Validates a runner configuration and fills in the defaults.
 *
 * @param input The fields to set.
 * @param made What the user is making with it, named in the error
 *   (`"Runner"`, `"the StateManager"`); default `"ExecutorConfig"`.
 * @returns The complete configuration.
 * @throws {TypeError} Naming what is made, the field and its value when one
 *   is invalid.
 *
 * @example Defaults and a bad field
 * ```ts
 * import { parseExecutorConfig } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseExecutorConfig().endOnError, false);
 * assert.throws(() => parseExecutorConfig({ timeout: -5 }), /'timeout' must be positive: current value is -5/);
 * assert.throws(() => parseExecutorConfig({ timeout: -5 }, "Runner"), /^TypeError: Cannot create Runner as/);
 * ```
 */
export function parseExecutorConfig(
  input: ExecutorConfigInput = {},
  made = "ExecutorConfig",
): ExecutorConfig {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new TypeError(
      `Cannot create ${made} as ${describeIssues(parsed.error, input)}`,
    );
  }
  const value = parsed.data;
  return {
    timeout: value.timeout,
    endOnError: value.endOnError,
    loggingSetting: value.loggingSetting,
    logFile: value.logFile,
    subscriber: value.subscriber,
    runIdentifier: value.runIdentifier ?? crypto.randomUUID(),
    saveState: value.saveState,
    stateDir: value.stateDir,
    durability: value.durability,
    workers: { ...value.workers } as WorkerPoolConfig,
    remote: value.remote ? { ...value.remote } : undefined,
    tracing: value.tracing,
  };
}
