/**
 * The options of a worker process, validated with zod.
 *
 * @module
 */
import { z } from "npm:zod@^4.1.0";
import { QUEUE_NAME_PATTERN, type WorkerPermissions } from "../core/node.ts";
import { isRedisUrl, REDIS_URL_RULE } from "../execution/config.ts";

/** Options of {@linkcode RemoteWorker}. */
export interface RemoteWorkerOptions {
  /** The Redis server, e.g. `redis://127.0.0.1:6379`. */
  redis: string;
  /** The queue to serve (a node's `queue` option). */
  queue: string;
  /**
   * The key prefix, as in the runners' `remote.prefix`.
   *
   * @default "switchyard"
   */
  prefix?: string;
  /**
   * Jobs run at once, each in a Web Worker of this process's pool.
   *
   * @default navigator.hardwareConcurrency
   */
  concurrency?: number;
  /**
   * Deno permissions of the node code (narrower than the process's).
   *
   * @default "inherit"
   */
  permissions?: WorkerPermissions;
  /**
   * The modules jobs may name: URLs or paths (relative to the working
   * directory); one ending in `/` allows every module below it. A job for
   * any other module fails without importing it.
   *
   * @default the working directory and everything below it
   */
  modules?: string[];
  /**
   * How long a job's lock lasts without renewal (ms): a job whose worker
   * died is handed to another worker after about this long.
   *
   * @default 30000
   */
  lockDuration?: number;
  /**
   * How often stalled jobs are looked for (ms).
   *
   * @default 30000
   */
  stalledInterval?: number;
  /**
   * How many times a job may stall (its worker dying) before it fails.
   *
   * @default 5
   */
  maxStalledCount?: number;
  /**
   * How long the first connection may take (ms).
   *
   * @default 5000
   */
  connectTimeout?: number;
}

/**
 * Deno's permissions as a worker's pool gives them to every job: checked at
 * start, so that a typo is not a failure of each job (or, for an unknown
 * name, silently no permission at all).
 */
const PERMISSION = z.union([z.literal("inherit"), z.boolean(), z.array(z.string())]).optional();
const permissionsSchema = z.union([
  z.enum(["inherit", "none"]),
  z.object({
    env: PERMISSION,
    ffi: PERMISSION,
    import: PERMISSION,
    net: PERMISSION,
    read: PERMISSION,
    run: PERMISSION,
    sys: PERMISSION,
    write: PERMISSION,
  }).strict(),
]);

/** Validates {@linkcode RemoteWorkerOptions}. */
export const optionsSchema: z.ZodType<RemoteWorkerOptions> = z.object({
  redis: z.string().refine(isRedisUrl, REDIS_URL_RULE),
  queue: z.string().regex(QUEUE_NAME_PATTERN, "1 to 100 letters, digits, '_', '-' or '.'"),
  prefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "1 to 64 letters, digits, '_', '-' or '.'")
    .optional(),
  concurrency: z.number().int().positive().optional(),
  permissions: permissionsSchema.optional(),
  modules: z.array(z.string().min(1)).optional(),
  lockDuration: z.number().int().positive().optional(),
  stalledInterval: z.number().int().positive().optional(),
  maxStalledCount: z.number().int().nonnegative().optional(),
  connectTimeout: z.number().positive().optional(),
}).strict() as z.ZodType<RemoteWorkerOptions>;
