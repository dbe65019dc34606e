/**
 * Errors the state manager's callers catch.
 *
 * @module
 */

/**
 * A state failed while the manager ran with `endOnError`: the manager
 * stopped, and `processStates()` rejects with this error. `cause` is what
 * the state threw.
 *
 * @example Reading which state failed
 * ```ts
 * import { StateFailedError } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const error = new StateFailedError("Migrate", { cause: new Error("disk full") });
 * assert.equal(error.stateName, "Migrate");
 * assert.match(error.message, /State 'Migrate' failed: disk full/);
 * ```
 */
export class StateFailedError extends Error {
  /** The name of the state that failed. */
  readonly stateName: string;
  /**
   * Makes a StateFailedError.
   *
   * @param stateName The state.
   * @param options What it threw, as `cause`.
   */
  constructor(stateName: string, options?: ErrorOptions) {
    const cause = options?.cause;
    super(
      `State '${stateName}' failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      options,
    );
    this.name = "StateFailedError";
    this.stateName = stateName;
  }
}

/**
 * A second StateManager was made while one exists: there is one per
 * process. Get it with `StateManager.instance()`, or call
 * `StateManager.reset()` first to replace it.
 *
 * @example Only one manager
 * ```ts
 * import { StateManager, StateManagerExistsError } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const manager = StateManager.instance({ loggingSetting: "NONE" });
 * assert.throws(() => new StateManager(), StateManagerExistsError);
 * assert.equal(StateManager.instance(), manager);
 * await StateManager.reset();
 * ```
 */
export class StateManagerExistsError extends Error {
  /** Makes a StateManagerExistsError. */
  constructor() {
    super(
      "Cannot create a StateManager as one must not exist already: get it with StateManager.instance(), or call StateManager.reset() first",
    );
    this.name = "StateManagerExistsError";
  }
}
