/**
 * Gate: an event a state waits for before it starts.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";

/**
 * A resettable event. While it is clear, {@linkcode Gate.wait} waits; once it
 * is set, every waiter is released and later waits return at once, until
 * {@linkcode Gate.clear}.
 *
 * @example Opening a gate
 * ```ts
 * import { Gate } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const ready = new Gate();
 * const waiting = ready.wait();
 * assert.equal(ready.isSet, false);
 * ready.set();
 * await waiting;
 * assert.equal(ready.isSet, true);
 * ```
 */
export class Gate {
  /** The gate's name, for logs and warnings (`""` when unnamed). */
  readonly name: string;
  // Invariant: #waiters is empty whenever #set is true; each waiter removes
  // its abort listener when released, so nothing outlives the wait.
  #set = false;
  #waiters = new Set<() => void>();

  /**
   * Makes a closed gate.
   *
   * @param name A name for logs and warnings (a stalled state names its gate).
   * @throws {TypeError} If `name` is not a string.
   */
  constructor(name: string = "") {
    if (typeof name !== "string") {
      throw new TypeError(
        `Cannot create a gate as 'name' must be a string: current value is ${describeValue(name)}`,
      );
    }
    this.name = name;
  }

  /** Whether the gate is open. */
  get isSet(): boolean {
    return this.#set;
  }

  /** Opens the gate and releases every waiter. Setting an open gate does nothing. */
  set(): void {
    if (this.#set) return;
    this.#set = true;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const release of waiters) release();
  }

  /** Closes the gate: later waits wait again until the next {@linkcode Gate.set}. */
  clear(): void {
    this.#set = false;
  }

  /**
   * Waits until the gate is open.
   *
   * @param signal Stops the wait when it aborts.
   * @returns A promise that resolves once the gate is set (at once if it is),
   *   or rejects with `signal.reason` if the signal aborts first.
   * @throws {TypeError} If `signal` is given and is not an `AbortSignal`.
   *
   * @example Giving up on a gate
   * ```ts
   * import { Gate } from "@switchyard/core";
   * import assert from "node:assert/strict";
   *
   * const never = new Gate();
   * const controller = new AbortController();
   * const waiting = never.wait(controller.signal);
   * controller.abort(new Error("shutting down"));
   * await assert.rejects(waiting, /shutting down/);
   * ```
   */
  wait(signal?: AbortSignal): Promise<void> {
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(
        `Cannot wait for a gate as 'signal' must be an AbortSignal: current value is ${
          describeValue(signal)
        }`,
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#set) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(release);
        reject(signal!.reason);
      };
      const release = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      this.#waiters.add(release);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
