/**
 * Stamps order everything that happens in a run: each carries a wall-clock
 * time, a monotonically increasing step and a short description.
 *
 * @module
 */

const origin = performance.timeOrigin;

/** Milliseconds since the epoch, with the sub-millisecond precision of `performance.now()`. */
function now(): number {
  return origin + performance.now();
}

/** One ordered moment of a run. */
export interface Stamp {
  /** Wall-clock time in milliseconds since the epoch (fractional: sub-millisecond precision). */
  readonly time: number;
  /** The step counter at that moment; several stamps may share one step. */
  readonly step: number;
  /** What happened, in a few words. */
  readonly identifier: string;
}

/**
 * Hands out {@linkcode Stamp}s with increasing steps and keeps every stamp
 * it created, in creation order.
 *
 * @example Creating stamps
 * ```ts
 * import { StampManager } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const stamper = new StampManager();
 * const first = stamper.createStamp("started");
 * const second = stamper.createStamp("finished");
 * assert.equal(second.step, first.step + 1);
 * assert.equal(stamper.allStamps.length, 2);
 * ```
 */
export class StampManager {
  // Invariant: #step is the step the next createStamp() will use, and every
  // stamp in #stamps has a step lower than it.
  #step = 0;
  #stamps: Stamp[] = [];

  /**
   * Creates a stamp at a new step.
   *
   * @param message What happened.
   * @returns The new stamp, also kept in {@linkcode StampManager.allStamps}.
   */
  createStamp(message: string): Stamp {
    const stamp: Stamp = {
      time: now(),
      step: this.#step++,
      identifier: message,
    };
    this.#stamps.push(stamp);
    return stamp;
  }

  /**
   * Reserves one step and returns a function that creates stamps sharing it,
   * for several things that happen at one logical moment.
   *
   * @returns A function that makes a stamp at the reserved step.
   *
   * @example Two stamps at one step
   * ```ts
   * import { StampManager } from "@switchyard/core/engine";
   * import assert from "node:assert/strict";
   *
   * const make = new StampManager().stampCreator();
   * assert.equal(make("a").step, make("b").step);
   * ```
   */
  stampCreator(): (message: string) => Stamp {
    const step = this.#step++;
    return (message: string): Stamp => {
      const stamp: Stamp = { time: now(), step, identifier: message };
      this.#stamps.push(stamp);
      return stamp;
    };
  }

  /** The step the next stamp will take. */
  get currentStep(): number {
    return this.#step;
  }

  /** Every stamp created so far, in creation order (a copy). */
  get allStamps(): Stamp[] {
    return this.#stamps.slice();
  }

  /**
   * Adds stamps recorded elsewhere (used when building a sub-view of a run).
   *
   * @param stamps Stamps to keep, in order.
   */
  adopt(stamps: Iterable<Stamp>): void {
    for (const stamp of stamps) {
      this.#stamps.push(stamp);
      if (stamp.step >= this.#step) this.#step = stamp.step + 1;
    }
  }
}
