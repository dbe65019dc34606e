/**
 * A first-in first-out queue with O(1) take, for the state manager.
 *
 * @module
 */

/** A FIFO queue: items leave in the order they were put. */
export class Fifo<T> {
  // Invariant: the queued items are #items[#head..]; the consumed prefix is
  // dropped once it is both large and the larger half of the array.
  #items: T[] = [];
  #head = 0;

  /** How many items are queued. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Adds an item at the end. */
  push(item: T): void {
    this.#items.push(item);
  }

  /**
   * Adds items at the end, in order. The queue may take `items` over as
   * its storage: the caller must not use the array afterwards.
   */
  pushAll(items: T[]): void {
    if (this.#head === this.#items.length) {
      this.#items = items;
      this.#head = 0;
      return;
    }
    // Indexed: a for-of loop run once, unoptimized, makes an object per item.
    for (let i = 0; i < items.length; i++) this.#items.push(items[i]);
  }

  /** Removes and returns the first item, `undefined` when empty. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns every queued item, in order. */
  drain(): T[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
