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
 * Builds the text of a stamp made with {@linkcode StampManager.mark}, when
 * someone reads it.
 */
export type StampDescriber = (kind: number, ref: number) => string;

const INITIAL = 256;

/**
 * Hands out {@linkcode Stamp}s with increasing steps and keeps every stamp
 * it created, in creation order. Stamps are kept as numbers (time, step and,
 * for the runtime's own stamps, what they refer to); their text is built
 * when they are read, and every read returns fresh frozen objects, so a
 * caller cannot change the record.
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
 * assert.ok(Object.isFrozen(stamper.allStamps[0]));
 * ```
 */
export class StampManager {
  // Invariant: #step is the step the next createStamp() will use, and every
  // stamp kept has a step lower than it.
  #step = 0;
  // Invariant: stamp i (i < #count) is (#time[i], #steps[i]) and its text is
  // #texts[i] when that is a string, else #describe(#kind[i], #ref[i]).
  #count = 0;
  #time = new Float64Array(INITIAL);
  #steps = new Float64Array(INITIAL);
  #kind = new Uint8Array(INITIAL);
  #ref = new Int32Array(INITIAL);
  #texts: (string | undefined)[] = [];
  #describe: StampDescriber = (kind, ref) => `stamp ${kind}:${ref}`;
  /** The time of the stamp made last (ms since the epoch). */
  lastTime = 0;

  /**
   * Creates a stamp at a new step.
   *
   * @param message What happened.
   * @returns The new stamp, also kept in {@linkcode StampManager.allStamps}.
   */
  createStamp(message: string): Stamp {
    const step = this.#step++;
    const i = this.#push(now(), step, 0, 0);
    this.#texts[i] = String(message);
    return this.#at(i);
  }

  /**
   * Creates a stamp at a new step whose text is built only when read, by the
   * describer set with {@linkcode StampManager.describeWith}. The runtime's
   * own stamps are made this way.
   *
   * @param kind What kind of event (passed to the describer).
   * @param ref What it is about (passed to the describer).
   * @returns The new stamp's step; its time is {@linkcode StampManager.lastTime}.
   */
  mark(kind: number, ref: number): number {
    const step = this.#step++;
    this.#push(now(), step, kind, ref);
    return step;
  }

  /**
   * Sets how the text of stamps made with {@linkcode StampManager.mark} is
   * built.
   *
   * @param describe Builds a text from a stamp's kind and ref.
   */
  describeWith(describe: StampDescriber): void {
    this.#describe = describe;
  }

  #push(time: number, step: number, kind: number, ref: number): number {
    const i = this.#count;
    if (i === this.#time.length) this.#grow();
    this.#time[i] = time;
    this.#steps[i] = step;
    this.#kind[i] = kind;
    this.#ref[i] = ref;
    this.#count = i + 1;
    this.lastTime = time;
    return i;
  }

  #grow(): void {
    const size = this.#time.length * 2;
    const time = new Float64Array(size);
    time.set(this.#time);
    const steps = new Float64Array(size);
    steps.set(this.#steps);
    const kind = new Uint8Array(size);
    kind.set(this.#kind);
    const ref = new Int32Array(size);
    ref.set(this.#ref);
    this.#time = time;
    this.#steps = steps;
    this.#kind = kind;
    this.#ref = ref;
  }

  #at(i: number): Stamp {
    return Object.freeze({
      time: this.#time[i],
      step: this.#steps[i],
      identifier: this.#texts[i] ?? this.#describe(this.#kind[i], this.#ref[i]),
    });
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
      const i = this.#push(now(), step, 0, 0);
      this.#texts[i] = String(message);
      return this.#at(i);
    };
  }

  /** The step the next stamp will take. */
  get currentStep(): number {
    return this.#step;
  }

  /** How many stamps were made. */
  get size(): number {
    return this.#count;
  }

  /** Every stamp created so far, in creation order (fresh frozen copies). */
  get allStamps(): Stamp[] {
    const stamps = new Array<Stamp>(this.#count);
    for (let i = 0; i < this.#count; i++) stamps[i] = this.#at(i);
    return stamps;
  }

  /**
   * Adds stamps recorded elsewhere (used when building a sub-view of a run).
   *
   * @param stamps Stamps to keep, in order.
   */
  adopt(stamps: Iterable<Stamp>): void {
    for (const stamp of stamps) {
      const i = this.#push(stamp.time, stamp.step, 0, 0);
      this.#texts[i] = stamp.identifier;
      if (stamp.step >= this.#step) this.#step = stamp.step + 1;
    }
  }
}
