/**
 * The messages the worker pool and the worker bootstrap exchange. Types
 * only: both sides import them with `import type`, so the bootstrap keeps
 * no runtime imports.
 *
 * @module
 */

/** An error flattened so it survives structured clone with its name. */
export interface WireError {
  /** The error's `name` (`"TypeError"`, a custom class name, …). */
  name: string;
  /** Its message. */
  message: string;
  /** Its stack, if any. */
  stack?: string;
  /** Its cause, flattened the same way. */
  cause?: WireError;
  /** A thrown value that was not an Error, if it could be cloned. */
  value?: unknown;
}

/** How the worker finds a node's function. */
export type NodeDefinition =
  | { kind: "module"; url: string; name: string }
  | { kind: "source"; source: string; name: string };

/** Why a task failed inside the worker. */
export type WorkerSideReason = "threw" | "clone" | "load" | "self-contained";

/**
 * A task to run, as a tuple since it is the hottest message (a tuple clones
 * in half the time of an object): task id (unique per worker), key of the
 * node's function in the worker's cache, arguments, the definition (sent
 * the first time a worker sees the key), whether to transfer the result's
 * `ArrayBuffer`s, and the task's trace context (W3C headers, when its run
 * is traced).
 */
export type RunTuple = [
  id: number,
  k: number,
  args: unknown[],
  def?: NodeDefinition,
  transfer?: true,
  trace?: Record<string, string>,
];

/** Main thread → worker. */
export type ToWorker =
  | RunTuple
  | { t: "abort"; id: number; reason: WireError }
  | { t: "reply"; id: number; c: number; ok: true; v: unknown }
  | { t: "reply"; id: number; c: number; ok: false; e: WireError };

/**
 * A task's success, as a tuple (the other hot message): task id, value,
 * and how long the node ran in ms, which tells the pool what is quick.
 */
export type DoneTuple = [id: number, v: unknown, ms: number];

/** Worker → main thread. */
export type FromWorker =
  | DoneTuple
  | { t: "done"; id: number; ok: false; e: WireError; why: WorkerSideReason }
  | { t: "dropped"; id: number }
  /** A task started while an earlier one waits on a call. */
  | { t: "started"; id: number }
  | {
    t: "call";
    id: number;
    c: number;
    target: { name: string; url: string | null };
    args: unknown[];
  }
  | { t: "broadcast"; id: number; item: unknown }
  | {
    t: "fatal";
    why: "closed" | "exited" | "unhandledrejection" | "uncaught";
    e?: WireError;
    code?: number;
  };
