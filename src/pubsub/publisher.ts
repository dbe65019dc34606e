/**
 * An in-process publisher that delivers messages to subscribers in
 * publish order.
 *
 * @module
 */
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
        if (result instanceof Promise) {
          result.catch((error) => this.#report(entry.id, entry.name, error));
        }
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
    return (this.#byTopic.get(topic) ?? this.#delivery).length > 0 || this.#listeners.size > 0;
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
        `Cannot subscribe as 'callback' must be a function: current value is ${String(callback)}`,
      );
    }
    const topics = options.topics;
    if (topics !== undefined && (!this.#topicOf || !Array.isArray(topics))) {
      throw new TypeError(
        `Cannot subscribe as 'topics' must be an array given to a publisher with 'topicOf': current value is ${
          String(topics)
        }`,
      );
    }
    const id = `sub-${this.#nextId++}`;
    this.#subscribers.set(id, { id, name: name ?? id, callback, topics: topics ?? null });
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
        `Cannot unsubscribe as 'id' must name a subscriber: current value is '${id}'`,
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
