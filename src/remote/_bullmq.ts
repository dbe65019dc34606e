/**
 * BullMQ and its Redis client, loaded only when a remote strategy or a
 * worker process actually connects (so runners without `remote` never load
 * them). Only ever loaded by `loadBullmq()` (`_bullmq_loader.ts`): the rest of the remote layer sees
 * them through {@linkcode bullmq}, typed by `_bullmq_types.ts`.
 *
 * @module
 */
import { Redis } from "npm:ioredis@^5.4.0";
import { Queue, UnrecoverableError, WaitingError, Worker } from "npm:bullmq@^6.7.0";
import { describeValue } from "../core/describe.ts";
import { RemoteUnavailableError } from "./errors.ts";
import type { Bullmq, BullQueue, BullWorker, RedisClient } from "./_bullmq_types.ts";
export { Queue, Redis };

/**
 * BullMQ and its client as the remote layer uses them; the compiler checks
 * the packages against {@linkcode Bullmq} here.
 */
export const bullmq: Bullmq = {
  client,
  probe,
  queue: (name, { connection, prefix }): BullQueue =>
    new Queue(name, { connection: own(connection), prefix }),
  worker: (name, processor, options): BullWorker =>
    new Worker(name, processor, { ...options, connection: own(options.connection) }),
  UnrecoverableError,
  WaitingError,
};

/**
 * The client behind a {@linkcode RedisClient}: BullMQ is only ever given
 * connections made by {@linkcode client}.
 */
function own(connection: RedisClient): Redis {
  if (connection instanceof Redis) return connection;
  throw new TypeError(
    `Cannot hand a connection to BullMQ as 'connection' must be a client made by client(): current value is ${
      describeValue(connection)
    }`,
  );
}

/**
 * A client as BullMQ wants it: commands wait through reconnections instead
 * of failing after a few retries. One per Queue, Worker and subscriber.
 *
 * @param url The server.
 * @param pipelined Send the commands of one event-loop turn in one write
 *   (each socket write costs more than a small command, but the wait for
 *   the turn's end delays a lone command; callers may switch it with
 *   `options.enableAutoPipelining`). Never for a client that blocks: a
 *   Worker's blocking client is a copy of its connection as made.
 * @returns The client.
 */
export function client(url: string, pipelined = false): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableAutoPipelining: pipelined });
}

/**
 * Connects once, without retrying, and pings: a Redis server that cannot be
 * reached, or that refuses the URL's credentials, fails here, fast, instead
 * of making every later command wait.
 *
 * @param url The server.
 * @param timeout How long the connection may take (ms).
 * @throws {RemoteUnavailableError} Saying which, with the connection's
 *   error as `cause`.
 */
export async function probe(url: string, timeout: number): Promise<void> {
  try {
    await ping(url, timeout);
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    const refused = /WRONGPASS|NOAUTH|invalid (username-)?password/i.test(message);
    throw new RemoteUnavailableError(
      url,
      `the server ${refused ? "refused the URL's credentials" : "cannot be reached"} (${message})`,
      { cause: error },
    );
  }
}

async function ping(url: string, timeout: number): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeout,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: unknown;
  redis.on("error", (error) => lastError = error);
  try {
    await redis.connect();
    await redis.ping();
    // The client connects on despite a failed SELECT (a database past the
    // server's count), then uses database 0: that is not the server asked for.
    if (lastError !== undefined) throw lastError;
  } catch (error) {
    throw lastError ?? error;
  } finally {
    redis.disconnect();
  }
}
