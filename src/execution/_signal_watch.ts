/**
 * Abort signals watched for many items at once.
 *
 * @module
 */

/**
 * Calls back for every item watching a signal when it aborts, with one
 * listener per signal however many items share it (tasks made outside a
 * runtime all share one signal).
 */
export class SignalWatch<T> {
  // Invariant: a signal is in #entries exactly while it has a listener,
  // and it has one while at least one item watches it.
  readonly #entries = new Map<
    AbortSignal,
    { items: Set<T>; listener: () => void }
  >();
  readonly #onAbort: (item: T) => void;

  /**
   * Makes a watch.
   *
   * @param onAbort Called for each item whose signal aborts.
   */
  constructor(onAbort: (item: T) => void) {
    this.#onAbort = onAbort;
  }

  /** Starts watching a signal for an item. */
  watch(signal: AbortSignal, item: T): void {
    let entry = this.#entries.get(signal);
    if (!entry) {
      const items = new Set<T>();
      const listener = () => {
        for (const i of [...items]) this.#onAbort(i);
      };
      entry = { items, listener };
      this.#entries.set(signal, entry);
      signal.addEventListener("abort", listener, { once: true });
    }
    entry.items.add(item);
  }

  /** Stops watching a signal for an item. */
  unwatch(signal: AbortSignal, item: T): void {
    const entry = this.#entries.get(signal);
    if (!entry?.items.delete(item) || entry.items.size > 0) return;
    this.#entries.delete(signal);
    signal.removeEventListener("abort", entry.listener);
  }
}
