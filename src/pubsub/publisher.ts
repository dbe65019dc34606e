/**
 * An in-process publisher that delivers messages to subscribers in
 * publish order.
 *
 * @module
 */
import { describeValue } from "../core/describe.ts";
import { logger } from "../core/logging.ts";
import type { RuntimeMessage } from "./messages.ts";

const log = logger("pubsub");

/** A subscriber: called once per message; may be async. */
export type Subscriber<T> = (message: T) => void | Promise<void>;

/** The publisher was shut down before a listener matched. */
export class PublisherShutdownError extends Error {
  /**
   * Makes a PublisherShutdownError.
   *
   * @param message What was waiting.
   * @param options The cause, if any.
   */
  constructor(message = "The publisher shut down", options?: ErrorOptions) {
    super(message, options);
    this.name = "PublisherShutdownError";
  }
}

interface SubscriberEntry<T> {
  id: string;
  name: string;
  callback: Subscriber<T>;
  topics: readonly string[] | null;
  passive: boolean;
}

/** Options of the {@linkcode Publisher} constructor. */
export interface PublisherOptions<T> {
  /** Names the topic of a message (for topic subscriptions). */
  topicOf?: (message: T) => string;
}

/** Options of {@linkcode Publisher.subscribe}. */
export interface SubscribeOptions {
  /** Take only messages of these topics. */
  topics?: readonly string[];
  /**
   * Receive messages without asking for them: a passive subscriber does not
   * make {@linkcode Publisher.hasSubscribers} true, so publishers that skip
   * messages nobody takes skip them for it too. For parts of a runtime
   * that learn outcomes directly and only read messages others publish.
   *
   * @default false
   */
  passive?: boolean;
}

interface Listener<T> {
  filter: (message: T) => boolean;
  resolve: (message: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Delivers each published message to every subscriber, in publish order,
 * even when a subscriber publishes while being delivered to. A subscriber
 * that throws (or whose promise rejects) is logged and never keeps the
 * message from the others; async subscribers are not awaited, so one that
 * hangs blocks nobody.
 *
 * @typeParam T The message type.
 *
 * @example Subscribing and waiting for a message
 * ```ts
 * import { Publisher } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const publisher = new Publisher<number>();
 * publisher.start();
 * const seen: number[] = [];
 * publisher.subscribe((n) => void seen.push(n), "collector");
 * const firstBig = publisher.listener((n) => n > 1, (n) => n * 10);
 * publisher.publish(1);
 * publisher.publish(2);
 * assert.equal(await firstBig, 20);
 * assert.deepEqual(seen, [1, 2]);
 * publisher.shutdown();
 * ```
 */
export class Publisher<T> {
  // Invariant: messages leave #queue in the order they entered it, and only
  // the outermost publish() call drains it (#draining guards re-entry).
  #running = false;
  #draining = false;
  #queue: T[] = [];
  // Invariant: #delivery (subscribers to every topic) and #byTopic (per
  // topic: its subscribers plus those to every topic, in subscription order)
  // are fresh arrays rebuilt on every change, so delivery iterates a plain
  // array and a subscriber that (un)subscribes during delivery does not
  // disturb the current message.
  #subscribers = new Map<string, SubscriberEntry<T>>();
  #delivery: SubscriberEntry<T>[] = [];
  #byTopic = new Map<string, SubscriberEntry<T>[]>();
  // Invariant: #active / #activeByTopic count the non-passive entries of
  // #delivery / #byTopic.
  #active = 0;
  #activeByTopic = new Map<string, number>();
  // Invariant: #inFlight holds the promises of async subscribers that have
  // not settled yet.
  #inFlight = new Set<Promise<unknown>>();
  #listeners = new Set<Listener<T>>();
  #nextId = 0;
  readonly #topicOf: ((message: T) => string) | undefined;

  /**
   * Makes a publisher.
   *
   * @param options `topicOf` names a message's topic, so subscribers can
   *   take only some topics and publishers can skip building messages
   *   nobody takes ({@linkcode Publisher.hasSubscribers}).
   */
  constructor(options: PublisherOptions<T> = {}) {
    this.#topicOf = options.topicOf;
  }

  /** Starts accepting messages. Starting a running publisher does nothing. */
  start(): void {
    this.#running = true;
  }

  /** Whether the publisher accepts messages. */
  get isRunning(): boolean {
    return this.#running;
  }

  /**
   * Publishes a message to every subscriber and listener.
   *
   * @param message The message.
   * @throws {Error} If the publisher is not running.
   */
  publish(message: T): void {
    if (!this.#running) {
      throw new Error(
        "Cannot publish as the publisher must be running: current state is stopped",
      );
    }
    this.#queue.push(message);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let i = 0; i < this.#queue.length; i++) {
        this.#deliver(this.#queue[i]);
      }
    } finally {
      this.#queue.length = 0;
      this.#draining = false;
    }
  }

  #deliver(message: T): void {
    const delivery = this.#topicOf
      ? this.#byTopic.get(this.#topicOf(message)) ?? this.#delivery
      : this.#delivery;
    for (let i = 0; i < delivery.length; i++) {
      const entry = delivery[i];
      try {
        const result = entry.callback(message);
        if (result instanceof Promise) this.#track(entry, result);
      } catch (error) {
        this.#report(entry.id, entry.name, error);
      }
    }
    if (this.#listeners.size === 0) return;
    for (const listener of this.#listeners) {
      let matched = false;
      try {
        matched = listener.filter(message);
      } catch (error) {
        this.#listeners.delete(listener);
        listener.reject(error);
        continue;
      }
      if (matched) {
        this.#listeners.delete(listener);
        listener.resolve(message);
      }
    }
  }

  #track(entry: SubscriberEntry<T>, result: Promise<void>): void {
    const settled = result.then(
      () => void this.#inFlight.delete(settled),
      (error) => {
        this.#inFlight.delete(settled);
        this.#report(entry.id, entry.name, error);
      },
    );
    this.#inFlight.add(settled);
  }

  /** How many async subscriber calls have not settled yet. */
  get pendingDeliveries(): number {
    return this.#inFlight.size;
  }

  /**
   * Waits for the async subscriber calls in flight (and those they cause)
   * to settle, for at most `timeout` ms, so that a subscriber that writes
   * results loses none when its owner closes.
   *
   * @param timeout The longest wait in ms.
   * @returns `true` when everything settled, `false` when the wait timed out.
   *
   * @example Waiting for an async subscriber
   * ```ts
   * import { Publisher } from "@switchyard/core/engine";
   * import assert from "node:assert/strict";
   *
   * const publisher = new Publisher<number>();
   * publisher.start();
   * const written: number[] = [];
   * publisher.subscribe(async (n) => {
   *   await new Promise((r) => setTimeout(r, 5));
   *   written.push(n);
   * });
   * publisher.publish(1);
   * assert.equal(await publisher.drain(1_000), true);
   * assert.deepEqual(written, [1]);
   * publisher.shutdown();
   * ```
   */
  async drain(timeout: number): Promise<boolean> {
    if (this.#inFlight.size === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, timeout));
    });
    try {
      while (this.#inFlight.size > 0) {
        const done = await Promise.race([
          Promise.all([...this.#inFlight]).then(() => true as const),
          expired,
        ]);
        if (!done) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  #report(id: string, name: string, error: unknown): void {
    log.warn("Subscriber {name} ({id}) threw: {error}", { name, id, error });
  }

  /**
   * Whether a message of a topic would reach anyone: a subscriber to it or
   * to every topic, or a waiting listener.
   *
   * @param topic The topic, as `topicOf` names it.
   * @returns `true` when publishing it is worth building the message.
   */
  hasSubscribers(topic: string): boolean {
    return (this.#activeByTopic.get(topic) ?? this.#active) > 0 || this.#listeners.size > 0;
  }

  /**
   * Adds a subscriber.
   *
   * @param callback Called with every message from now on (or every
   *   message of `options.topics`).
   * @param name A name for logs.
   * @param options `topics` to take only messages of those topics (needs
   *   the publisher's `topicOf`).
   * @returns The subscription id, for {@linkcode Publisher.unsubscribe}.
   * @throws {TypeError} If `callback` is not a function, or `topics` is
   *   given to a publisher without `topicOf`.
   */
  subscribe(callback: Subscriber<T>, name?: string, options: SubscribeOptions = {}): string {
    if (typeof callback !== "function") {
      throw new TypeError(
        `Cannot subscribe as 'callback' must be a function: current value is ${
          describeValue(callback)
        }`,
      );
    }
    const topics = options.topics;
    if (topics !== undefined && (!this.#topicOf || !Array.isArray(topics))) {
      throw new TypeError(
        `Cannot subscribe as 'topics' must be an array given to a publisher with 'topicOf': current value is ${
          describeValue(topics)
        }`,
      );
    }
    const id = `sub-${this.#nextId++}`;
    this.#subscribers.set(id, {
      id,
      name: name ?? id,
      callback,
      topics: topics ?? null,
      passive: options.passive === true,
    });
    this.#rebuild();
    return id;
  }

  #rebuild(): void {
    const entries = [...this.#subscribers.values()];
    this.#delivery = entries.filter((e) => e.topics === null);
    const topics = new Set(entries.flatMap((e) => e.topics ?? []));
    this.#byTopic = new Map(
      [...topics].map((
        topic,
      ) => [topic, entries.filter((e) => e.topics === null || e.topics.includes(topic))]),
    );
    const active = (list: SubscriberEntry<T>[]) => list.filter((e) => !e.passive).length;
    this.#active = active(this.#delivery);
    this.#activeByTopic = new Map(
      [...this.#byTopic].map(([topic, list]) => [topic, active(list)]),
    );
  }

  /**
   * Removes a subscriber.
   *
   * @param id The id {@linkcode Publisher.subscribe} returned.
   * @throws {RangeError} If no subscriber has that id.
   */
  unsubscribe(id: string): void {
    const removed = this.#subscribers.delete(id);
    this.#rebuild();
    if (!removed) {
      throw new RangeError(
        `Cannot unsubscribe as 'id' must name a subscriber: current value is ${describeValue(id)}`,
      );
    }
  }

  /**
   * Waits for the first message that matches.
   *
   * @param filter Chooses the message.
   * @param map Turns it into the value to resolve with.
   * @returns The (mapped) first matching message; rejects with
   *   {@linkcode PublisherShutdownError} if the publisher shuts down first.
   */
  listener<R = T>(
    filter: (message: T) => boolean,
    map?: (message: T) => R,
  ): Promise<R> {
    if (!this.#running) {
      return Promise.reject(
        new PublisherShutdownError(
          "Cannot listen as the publisher is not running",
        ),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    this.#listeners.add({
      filter,
      resolve: (message) => {
        try {
          resolve(map ? map(message) : message as unknown as R);
        } catch (error) {
          reject(error);
        }
      },
      reject,
    });
    return promise;
  }

  /**
   * Stops the publisher: no more messages, subscribers dropped, waiting
   * listeners rejected. Safe to call more than once.
   */
  shutdown(): void {
    if (
      !this.#running && this.#subscribers.size === 0 &&
      this.#listeners.size === 0
    ) return;
    this.#running = false;
    this.#subscribers.clear();
    this.#rebuild();
    const waiting = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of waiting) {
      listener.reject(
        new PublisherShutdownError("The publisher shut down before a match"),
      );
    }
  }
}

/**
 * The publisher a runtime uses for its request messages.
 *
 * @example Listening for a success
 * ```ts
 * import { RequestSuccess, RTPublisher } from "@switchyard/core/engine";
 * import assert from "node:assert/strict";
 *
 * const publisher = new RTPublisher();
 * publisher.start();
 * const done = publisher.listener((m) => m instanceof RequestSuccess && m.requestId === "r1");
 * publisher.publish(new RequestSuccess("r1", "n1", 42));
 * assert.equal(((await done) as RequestSuccess).result, 42);
 * publisher.shutdown();
 * ```
 */
export class RTPublisher extends Publisher<RuntimeMessage> {
  /** Makes a publisher whose topics are the messages' `kind`s. */
  constructor() {
    super({ topicOf: (message) => message.kind });
  }
}
