/**
 * How worker tasks end: why a stopped or failed task ended, the error it
 * fails with and what its worker's messages say, the line logged for a
 * terminated worker or child process, and how both pool strategies retry.
 *
 * @module
 */
import type { FromWorker } from "../../workers/protocol.ts";
import { fromWire } from "../../workers/wire.ts";
import { GlobalTimeoutError, NodeTimeoutError } from "../core/errors.ts";
import { logger } from "../core/logging.ts";
import { runAttempts } from "./retry_policy.ts";
import type { Task } from "./task.ts";
import type { PoolJob } from "./_worker_handle.ts";
import { type WorkerFailureReason, WorkerTaskError } from "./worker_error.ts";

const log = logger("workers");

/** The reasons a worker may give; anything else is outside the protocol. */
const WORKER_SIDE = new Set<string>(["threw", "clone", "load", "self-contained"]);
const FATAL = new Set<string>(["closed", "exited", "unhandledrejection", "uncaught"]);

/** Timeout errors already told which worker or process ran their node. */
const annotated = new WeakSet<Error>();

/**
 * What runs a pool's tasks, a Web Worker or a child process, as its
 * failures name it: the words of their messages and log lines.
 */
export interface HostKind {
  /** `"worker"` or `"process"`. */
  readonly noun: "worker" | "process";
  /** The call with which its code closes itself. */
  readonly closeCall: string;
  /** Where a task ran, as a timeout error ends. */
  where(host: Host): string;
  /** The line logged when the pool has shut down. */
  readonly endedLine: string;
  /** The line logged when a stopped task's host is replaced. */
  readonly stoppedLine: string;
  /** The warning logged when a host that broke is replaced. */
  readonly brokeLine: string;
}

/** One worker or child process: its id in its pool, and a child's pid. */
export interface Host {
  readonly id: number;
  readonly pid?: number;
}

/** A Web Worker of the worker pool. */
export const WORKER_HOST: HostKind = {
  noun: "worker",
  closeCall: "self.close()",
  where: (host) => `on worker #${host.id}`,
  endedLine: "Worker #{id} terminated: {detail}",
  stoppedLine: "Worker #{id} terminated and replaced: {detail}",
  brokeLine: "Worker #{id} terminated and replaced: {detail}",
};

/** A child process of the process pool. */
export const PROCESS_HOST: HostKind = {
  noun: "process",
  closeCall: "close()",
  where: (host) => `in child process #${host.id} (pid ${host.pid})`,
  endedLine: "Child process #{id} (pid {pid}) killed: {detail}",
  stoppedLine: "Child process #{id} (pid {pid}) killed and replaced: {detail}",
  brokeLine: "Child process #{id} (pid {pid}) ended and is replaced: {detail}",
};

/**
 * Why a stopped task stopped: a node or run timeout, or a cancellation.
 *
 * @param reason The task signal's abort reason.
 * @returns `"timeout"` or `"cancelled"`.
 */
export function stopReason(reason: unknown): WorkerFailureReason {
  return reason instanceof NodeTimeoutError ||
      reason instanceof GlobalTimeoutError
    ? "timeout"
    : "cancelled";
}

/**
 * An error as `Name: message`, anything else as a string.
 *
 * @param error Anything thrown.
 * @returns A short description.
 */
export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Whether a value survives structured clone.
 *
 * @param value Anything.
 * @returns `false` if cloning it throws.
 */
export function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Worker failures a retry cannot fix: a stop (timeout, cancellation,
 * shutdown), or a task that could not start (spawn) or be sent (clone).
 *
 * @param error What an attempt failed with.
 * @returns `true` if no retry should follow.
 */
export function isFinalWorkerError(error: unknown): boolean {
  const reason = error instanceof WorkerTaskError ? error.reason : null;
  return reason === "timeout" || reason === "cancelled" || reason === "shutdown" ||
    reason === "spawn" || reason === "clone";
}

/**
 * A worker or child whose entry failed because the node's module started
 * a run at its top level (a `WorkerModuleError`) failed to load the node,
 * not to run it: the reason and cause to report instead.
 *
 * @param detail What the worker reported.
 * @param cause The error, when it came across.
 * @returns `{ reason: "load", cause }`, or `null` for any other failure.
 */
export function moduleFailure(
  detail: string,
  cause?: unknown,
): { reason: "load"; cause: unknown } | null {
  if (cause instanceof Error && cause.name === "WorkerModuleError") {
    return { reason: "load", cause };
  }
  const match = /WorkerModuleError: (.*)$/s.exec(detail);
  if (!match) return null;
  const error = new Error(match[1]);
  error.name = "WorkerModuleError";
  return { reason: "load", cause: error };
}

/**
 * How both pool strategies run a task: refused once the pool has shut
 * down, prepared (a bad node rejects, never throws), then submitted once or
 * retried as the node's `retries` allows, never after a final failure.
 *
 * @param task The task.
 * @param pool `"worker"` or `"process"`, for the refusal's message.
 * @param closed Whether the pool has shut down.
 * @param prepare Checks the node and builds what the pool needs to run it.
 * @param submit Runs one attempt.
 * @returns What the node returned.
 */
export function executeOnPool<P>(
  task: Task,
  pool: "worker" | "process",
  closed: boolean,
  prepare: () => P,
  submit: (prepared: P) => Promise<unknown>,
): Promise<unknown> {
  if (closed) {
    return Promise.reject(
      new WorkerTaskError(`the ${pool} pool has shut down`, {
        nodeName: task.node.name,
        workerId: null,
        reason: "shutdown",
      }),
    );
  }
  let prepared: P;
  try {
    prepared = prepare();
  } catch (error) {
    return Promise.reject(error);
  }
  if ((task.node.options.retries ?? 0) === 0) return submit(prepared);
  return runAttempts(task, () => submit(prepared), isFinalWorkerError);
}

/**
 * Why a task failed inside its worker, as the worker said (`"threw"` for a
 * reason outside the protocol).
 *
 * @param why The reason the worker gave.
 * @returns The reason.
 */
export function workerSideReason(why: string): WorkerFailureReason {
  return WORKER_SIDE.has(why) ? why as WorkerFailureReason : "threw";
}

/**
 * What a worker's or child's `fatal` message says happened to it.
 *
 * @param message The message.
 * @param kind What sent it.
 * @returns The detail of the failure.
 * @throws {TypeError} For a reason outside the protocol (the sender is then killed as broken).
 */
export function fatalDetail(
  message: Extract<FromWorker, { t: "fatal" }>,
  kind: HostKind,
): string {
  if (!FATAL.has(message.why)) {
    throw new TypeError(`unknown fatal reason ${describe(message.why)}`);
  }
  return message.why === "closed"
    ? `the ${kind.noun} closed itself (${kind.closeCall})`
    : message.why === "exited"
    ? `the ${kind.noun} exited (Deno.exit(${message.code}))`
    : message.why === "unhandledrejection"
    ? `a promise rejection was not handled: ${describe(fromWire(message.e!))}`
    : `an exception was not caught: ${describe(fromWire(message.e!))}`;
}

/**
 * The error a pool job fails with.
 *
 * @param job The job.
 * @param reason Why it failed.
 * @param detail What happened.
 * @param cause The underlying error, if any.
 * @returns The error.
 */
export function jobError(
  job: PoolJob,
  reason: WorkerFailureReason,
  detail: string,
  cause?: unknown,
): WorkerTaskError {
  return new WorkerTaskError(detail, {
    nodeName: job.task.node.name,
    workerId: job.worker?.id ?? null,
    reason,
    cause,
  });
}

/**
 * Adds which worker or process ran a node to the timeout error that stops
 * it, once: the runtime records this very error. (The node's children are
 * aborted with it too; only its own node says so.)
 *
 * @param reason The job's abort reason.
 * @param job The job being stopped.
 * @param kind What runs it.
 * @param host The worker or process running it.
 */
export function noteTimeout(
  reason: unknown,
  job: { readonly task: Task },
  kind: HostKind,
  host: Host,
): void {
  if (
    reason instanceof NodeTimeoutError &&
    reason.nodeName === job.task.node.name && !annotated.has(reason)
  ) {
    annotated.add(reason);
    reason.message += ` ${kind.where(host)}`;
  }
}

/**
 * Logs that a worker or process was ended: at info for a stop (timeout,
 * cancellation, shutdown), as a warning for one that broke; in the span of
 * the (first) request it ran, so the line carries its ids.
 *
 * @param kind What it is.
 * @param host The worker or process.
 * @param reason Why it was ended.
 * @param detail What happened.
 * @param closed Whether the pool has shut down (it is not replaced).
 * @param running The jobs it was running.
 */
export function logTerminated(
  kind: HostKind,
  host: Host,
  reason: WorkerFailureReason,
  detail: string,
  closed: boolean,
  running: readonly { readonly task: Task }[],
): void {
  const properties = host.pid === undefined
    ? { id: host.id, detail }
    : { id: host.id, pid: host.pid, detail };
  const write = () => {
    if (closed) {
      log.info(kind.endedLine, properties);
    } else if (reason === "timeout" || reason === "cancelled") {
      log.info(kind.stoppedLine, properties);
    } else {
      log.warn(kind.brokeLine, properties);
    }
  };
  const trace = running.find((job) => job.task.trace !== undefined)?.task.trace;
  if (trace === undefined) write();
  else trace.run(write);
}
