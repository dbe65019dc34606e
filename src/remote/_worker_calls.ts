/**
 * The worker process's side of `call()` in remote nodes: each call is a
 * job in the calling request's runner's calls queue, and the reply comes
 * back on this worker's channel.
 *
 * @module
 */
import type { Node } from "../core/node.ts";
import { decodeError, decodeValue, encodeArgs } from "./codec.ts";
import { RemoteUnavailableError } from "./errors.ts";
import type { RemoteJobTask } from "./_job_task.ts";
import type { CallMessage, RemoteJobData, RemoteKeys, ToWorker } from "./protocol.ts";
import type { Bullmq, BullQueue as Queue, RedisClient as Redis } from "./_bullmq_types.ts";

/** Calls from a worker's running jobs to their runners. */
export class WorkerCalls {
  readonly #lib: Bullmq;
  readonly #commands: Redis;
  readonly #keys: RemoteKeys;
  readonly #redis: string;
  /** This worker's reply channel. */
  readonly channel: string;
  // Invariant: #waiting has every call awaiting its runner's reply, by call id.
  readonly #waiting = new Map<number, PromiseWithResolvers<unknown>>();
  // Invariant: #queues has an open queue per runner with a running job
  // that made a call, and the ids of those jobs.
  readonly #queues = new Map<string, { queue: Queue; jobs: Set<string> }>();
  #next = 0;

  /**
   * @param lib BullMQ and its client.
   * @param commands The worker's command connection (the queues share it).
   * @param keys The key names.
   * @param workerId The worker's id: names its reply channel.
   * @param redis The server's URL, for errors.
   */
  constructor(lib: Bullmq, commands: Redis, keys: RemoteKeys, workerId: string, redis: string) {
    this.#lib = lib;
    this.#commands = commands;
    this.#keys = keys;
    this.#redis = redis;
    this.channel = keys.workerChannel(workerId);
  }

  /** A `call()` from a running job: sent, then awaited until the reply or the job's stop. */
  call(task: RemoteJobTask, target: Node, args: unknown[]): Promise<unknown> {
    const { signal } = task;
    if (signal.aborted) return Promise.reject(signal.reason);
    let encoded: string;
    try {
      encoded = encodeArgs(args, `call node '${target.name}' from remote node '${task.node.name}'`);
    } catch (error) {
      return Promise.reject(error);
    }
    const c = ++this.#next;
    const waiting = Promise.withResolvers<unknown>();
    this.#waiting.set(c, waiting);
    const onAbort = () => waiting.reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const message: CallMessage = {
      t: "call",
      id: task.requestId,
      c,
      w: this.channel,
      name: target.name,
      url: target.moduleUrl,
      args: encoded,
    };
    this.#queue(task).add("call", message, { removeOnComplete: true, removeOnFail: true })
      .catch((error: unknown) => waiting.reject(error));
    return waiting.promise.finally(() => {
      signal.removeEventListener("abort", onAbort);
      this.#waiting.delete(c);
    });
  }

  /** A reply heard on this worker's channel. */
  reply(reply: ToWorker): void {
    const waiting = this.#waiting.get(reply.c);
    if (!waiting) return;
    try {
      if (reply.ok) waiting.resolve(decodeValue(reply.v));
      else waiting.reject(decodeError(reply.e));
    } catch (error) {
      waiting.reject(error);
    }
  }

  /** Fails every waiting call (its reply may have been published while the channel was down). */
  failAll(why: string): void {
    for (const waiting of this.#waiting.values()) {
      waiting.reject(new RemoteUnavailableError(this.#redis, why));
    }
  }

  /** A job ended: its runner's calls queue closes when no job of that runner runs. */
  release(data: RemoteJobData): void {
    const calls = this.#queues.get(data.runnerId);
    if (!calls?.jobs.delete(data.requestId) || calls.jobs.size > 0) return;
    this.#queues.delete(data.runnerId);
    calls.queue.close().catch(() => {});
  }

  /** The calls queue of a job's runner, made at the job's first call. */
  #queue(task: RemoteJobTask): Queue {
    const runnerId = task.data.runnerId;
    let calls = this.#queues.get(runnerId);
    if (!calls) {
      calls = {
        queue: this.#lib.queue(this.#keys.callsQueue(runnerId), {
          connection: this.#commands,
          prefix: this.#keys.prefix,
        }),
        jobs: new Set(),
      };
      calls.queue.on("error", () => {});
      this.#queues.set(runnerId, calls);
    }
    calls.jobs.add(task.requestId);
    return calls.queue;
  }
}
