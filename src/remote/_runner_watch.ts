/**
 * A worker process's watch over the runners of its running jobs: once a
 * period, one round trip checks the liveness key of each runner with a job
 * in flight (however many jobs it has here), and every job of a runner
 * found gone is stopped.
 *
 * @module
 */
import { ALIVE_REFRESH_MS, ALIVE_TTL_MS, type RemoteKeys } from "./protocol.ts";
import type { RedisClient as Redis } from "./_bullmq_types.ts";

/**
 * How long a runner found gone is remembered (ms): a job of it that starts
 * later was added at least that long ago, so it is checked before it
 * starts anyway.
 */
const REMEMBER_GONE_MS = ALIVE_TTL_MS;

/** Watches the runners of a worker's running jobs. */
export class RunnerWatch {
  readonly #commands: Redis;
  readonly #keys: RemoteKeys;
  readonly #periodMs: number;
  // Invariant: #watched has, for each runner with a job in flight, a stop
  // per such job (never an empty set), and #timer runs exactly while it
  // is not empty and the watch is not closed.
  readonly #watched = new Map<string, Set<() => void>>();
  // Invariant: #gone has every runner found gone in the last
  // REMEMBER_GONE_MS, with when it was found; older entries count for
  // nothing and go at the next tick or look-up.
  readonly #gone = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  // Invariant: true exactly while a check's round trip is under way; a
  // tick meanwhile (a slow or lost connection) is skipped, not queued.
  #checking = false;
  #closed = false;

  /**
   * @param commands A command connection (not a blocking or subscribed one).
   * @param keys The key names.
   * @param periodMs How often runners are checked (ms).
   */
  constructor(commands: Redis, keys: RemoteKeys, periodMs: number = ALIVE_REFRESH_MS) {
    this.#commands = commands;
    this.#keys = keys;
    this.#periodMs = periodMs;
  }

  /** Whether the periodic check runs (exactly while jobs are watched, until closed). */
  get ticking(): boolean {
    return this.#timer !== undefined;
  }

  /** Whether a runner was found gone lately: a job of it should not start. */
  isGone(runnerId: string): boolean {
    const found = this.#gone.get(runnerId);
    if (found === undefined) return false;
    if (Date.now() - found < REMEMBER_GONE_MS) return true;
    this.#gone.delete(runnerId);
    return false;
  }

  /**
   * Checks one runner now (a job that waited long enough for its runner to
   * be gone); one found gone stops its jobs, as at a tick.
   *
   * @param runnerId The runner.
   * @returns Whether its liveness key is there.
   * @throws When Redis does not answer.
   */
  async isAlive(runnerId: string): Promise<boolean> {
    if (await this.#commands.exists(this.#keys.runnerAlive(runnerId)) === 1) return true;
    this.#found(runnerId);
    return false;
  }

  /**
   * Watches a job's runner until the returned function is called: `stop`
   * runs once the runner is found gone (at once if it already was).
   *
   * @param runnerId The job's runner.
   * @param stop Stops the job.
   * @returns Ends the watch (the job ended).
   */
  watch(runnerId: string, stop: () => void): () => void {
    if (this.isGone(runnerId)) {
      stop();
      return () => {};
    }
    let stops = this.#watched.get(runnerId);
    if (!stops) this.#watched.set(runnerId, stops = new Set());
    // Its own entry, so one stop given twice is still removed once per watch.
    const entry = () => stop();
    stops.add(entry);
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setInterval(() => this.#tick(), this.#periodMs);
    }
    return () => {
      const current = this.#watched.get(runnerId);
      if (!current?.delete(entry) || current.size > 0) return;
      this.#watched.delete(runnerId);
      if (this.#watched.size === 0) this.#stopTimer();
    };
  }

  /** Stops checking: the worker is shutting down. Jobs still watched are not stopped. */
  close(): void {
    this.#closed = true;
    this.#stopTimer();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check of every watched runner, in one round trip. */
  async #tick(): Promise<void> {
    const now = Date.now();
    for (const [id, found] of this.#gone) {
      if (now - found >= REMEMBER_GONE_MS) this.#gone.delete(id);
    }
    if (this.#checking || this.#watched.size === 0) return;
    this.#checking = true;
    try {
      const ids = [...this.#watched.keys()];
      const pipeline = this.#commands.pipeline();
      for (const id of ids) pipeline.exists(this.#keys.runnerAlive(id));
      // A failed check counts as alive: a runner is gone only when Redis says so.
      const replies = await pipeline.exec().catch(() => null) ?? [];
      ids.forEach((id, i) => {
        const [error, count] = replies[i] ?? [null, 1];
        if (error === null && count === 0) this.#found(id);
      });
    } finally {
      this.#checking = false;
    }
  }

  /** A runner is gone: every job of it stops. */
  #found(runnerId: string): void {
    this.#gone.set(runnerId, Date.now());
    const stops = this.#watched.get(runnerId);
    if (!stops) return;
    this.#watched.delete(runnerId);
    if (this.#watched.size === 0) this.#stopTimer();
    for (const stop of stops) stop();
  }
}
