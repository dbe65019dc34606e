/**
 * Live progress of a run for `switchyard run`: one redrawn status line on a
 * terminal, plain lines otherwise.
 *
 * @module
 */
import type { RuntimeMessage } from "../pubsub/messages.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import { describeValue, formatDuration } from "./_format.ts";

/** Where the CLI writes, and what kind of output it is. */
export interface CliOutput {
  /** Writes text to standard output (no newline added). */
  out(text: string): void;
  /** Writes text to standard error (no newline added). */
  err(text: string): void;
  /** Whether standard error is a terminal (live redraws, colours). */
  isTerminal: boolean;
  /** The terminal's width in columns. */
  columns: number;
}

/** Counts of a run's requests. */
export interface ProgressCounts {
  /** Requests still open. */
  running: number;
  /** Requests completed. */
  done: number;
  /** Requests failed. */
  failed: number;
  /** Requests cancelled. */
  cancelled: number;
}

const SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
const MAX_FAILURE_LINES = 20;

/**
 * Follows an execution's messages and shows how it goes: running, done and
 * failed counts, the nodes running now, and the time elapsed. On a terminal
 * the status line is redrawn ten times a second; otherwise a plain line is
 * printed each second something changed. Failures are printed as they
 * happen (the first twenty).
 */
export class ProgressDisplay {
  readonly #output: CliOutput;
  readonly #started = performance.now();
  readonly #counted = new Set<string>();
  // Errors a failure line showed (weakly held: they belong to the run).
  readonly #shown = new WeakSet<object>();
  #counts: ProgressCounts = { running: 0, done: 0, failed: 0, cancelled: 0 };
  #info: ExecutionInfo | null = null;
  #publisher: RTPublisher | null = null;
  #subscription: string | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #frame = 0;
  #lastPlain = "";
  #failureLines = 0;
  #drawn = false;

  /**

   * Makes a progress display.

   *

   * @param output Where to write.

   */
  constructor(output: CliOutput) {
    this.#output = output;
  }

  /** The counts so far. */
  get counts(): ProgressCounts {
    return {
      ...this.#counts,
      running: this.#info?.requestHeap.openCount ?? 0,
    };
  }

  /**
   * Starts following an execution.
   *
   * @param source Its publisher and its record.
   */
  observe(source: { publisher: RTPublisher; info: ExecutionInfo }): void {
    this.#info = source.info;
    this.#publisher = source.publisher;
    this.#subscription = source.publisher.subscribe(
      (m) => this.#handle(m),
      "cli-progress",
    );
    const interactive = this.#output.isTerminal;
    this.#timer = setInterval(
      () => interactive ? this.#draw() : this.#plain(),
      interactive ? 100 : 1000,
    );
  }

  /** Stops following and clears the status line. Safe to call twice. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#subscription !== null && this.#publisher?.isRunning) {
      this.#publisher.unsubscribe(this.#subscription);
    }
    this.#subscription = null;
    this.#clear();
  }

  /** Seconds since the display was made, formatted. */
  get elapsed(): string {
    return formatDuration(performance.now() - this.#started);
  }

  #handle(message: RuntimeMessage): void {
    if (
      message.kind !== "success" && message.kind !== "failure" &&
      message.kind !== "cancellation"
    ) return;
    const record = this.#info?.requestHeap.get(message.requestId);
    if (!record || record.status === "Open") return;
    if (this.#counted.has(record.identifier)) return;
    this.#counted.add(record.identifier);
    if (record.status === "Completed") this.#counts.done++;
    else if (record.status === "Cancelled") this.#counts.cancelled++;
    else {
      this.#counts.failed++;
      this.#failure(record.sinkId, record.output);
    }
  }

  /**
   * Whether a failure line already showed this error (a caller that lets a
   * child's error through fails with the same error object).
   *
   * @param error An error.
   * @returns `true` once it was printed.
   */
  hasShown(error: unknown): boolean {
    return typeof error === "object" && error !== null && this.#shown.has(error);
  }

  #failure(nodeId: string, error: unknown): void {
    // One line per error, not one per ancestor it passed through.
    if (typeof error === "object" && error !== null) {
      if (this.#shown.has(error)) return;
      this.#shown.add(error);
    }
    this.#failureLines++;
    if (this.#failureLines > MAX_FAILURE_LINES) return;
    const name = this.#info?.nodeHeap.get(nodeId)?.name ?? "?";
    const line = this.#failureLines === MAX_FAILURE_LINES
      ? "(further failures not shown; see switchyard inspect)"
      : `failed: ${name}: ${describeValue(error, 200)}`;
    this.#clear();
    this.#output.err(line + "\n");
  }

  #status(): string {
    const { running, done, failed, cancelled } = this.counts;
    const parts = [
      `${this.elapsed}`,
      `running ${running}`,
      `done ${done}`,
      `failed ${failed}`,
    ];
    if (cancelled) parts.push(`cancelled ${cancelled}`);
    const current = this.#currentNodes();
    return parts.join("  ") + (current ? `  | ${current}` : "");
  }

  #currentNodes(): string {
    const tails = this.#info?.requestHeap.openTails() ?? [];
    const byName = new Map<string, number>();
    for (const tail of tails) {
      const name = this.#info!.nodeHeap.get(tail.sinkId)?.name ?? "?";
      byName.set(name, (byName.get(name) ?? 0) + 1);
    }
    return [...byName].slice(0, 6).map(([name, n]) => n > 1 ? `${name} ×${n}` : name).join(", ");
  }

  #draw(): void {
    const frame = SPINNER[this.#frame++ % SPINNER.length];
    const width = Math.max(20, this.#output.columns - 1);
    const line = `${frame} ${this.#status()}`.slice(0, width);
    this.#output.err(`\r\x1b[2K${line}`);
    this.#drawn = true;
  }

  #plain(): void {
    const line = this.#status();
    const key = line.slice(line.indexOf("  "));
    if (key === this.#lastPlain) return;
    this.#lastPlain = key;
    this.#output.err(`[${line}]\n`);
  }

  #clear(): void {
    if (!this.#drawn) return;
    this.#output.err("\r\x1b[2K");
    this.#drawn = false;
  }
}
