/**
 * One child `deno` process of the process pool: started with its own heap
 * limit and permissions, it runs the worker bootstrap behind a pipe (see
 * `workers/process_port.ts`) and is killed with SIGKILL when it must stop.
 *
 * @module
 */
import type { FromWorker, NodeDefinition, ToWorker } from "../../workers/protocol.ts";
import { encodeFrame, FrameReader } from "../../workers/frames.ts";
import { describeValue } from "../core/describe.ts";
import { logger } from "../core/logging.ts";
import type { WorkerFailureReason } from "./worker_error.ts";
import { withStartImports } from "./_process_permissions.ts";

const PORT = new URL("../../workers/process_port.ts", import.meta.url).href;
const BOOTSTRAP = new URL("../../workers/bootstrap.ts", import.meta.url).href;
const PRELOADED = 'Symbol.for("switchyard.workerPreloaded")';
/** How much of a child's stderr is kept to explain its end (bytes). */
const TAIL = 16 * 1024;
/** The first line of V8's report when it gives up (out of memory, …). */
const FATAL_REPORT = /^(<--- Last few GCs --->|#\s*$|# Fatal |FATAL ERROR:)/;
const OUT_OF_MEMORY = /out of memory|heap limit/i;
/**
 * How long a retired child may take to exit (ms). It flushes its telemetry
 * as it exits, and an exporter whose collector does not answer would hold
 * the pool's shutdown for its own timeout (tens of seconds).
 */
export const RETIRE_TIMEOUT = 2_000;

const log = logger("workers");

/** How a child is started. */
export interface ChildSettings {
  /** Children with equal keys are interchangeable. */
  readonly poolKey: string;
  /** `--allow-*` flags. */
  readonly flags: readonly string[];
  /** V8 old-space limit in MB. */
  readonly heapLimit: number;
  /** A module the child imports as it starts (module nodes). */
  readonly preload: string | null;
}

/** What a child reports to its pool. */
export interface ChildEvents {
  message(child: ProcessChild, message: FromWorker): void;
  /** It broke the protocol; the pool kills it. */
  broken(child: ProcessChild, detail: string): void;
  /** It ended without being asked to (never called after `kill()`). */
  ended(child: ProcessChild, reason: WorkerFailureReason, detail: string): void;
}

function entryUrl(preload: string | null): string {
  // Static imports only: a child with narrowed permissions may not import
  // a module dynamically, but its entry's own imports are always loaded.
  const lines = [`import { startPort } from ${JSON.stringify(PORT)};`];
  if (preload !== null) {
    lines.push(
      `import * as ns from ${JSON.stringify(preload)};`,
      `globalThis[${PRELOADED}] = new Map([[${JSON.stringify(preload)}, ns]]);`,
    );
  }
  lines.push(
    `import ${JSON.stringify(BOOTSTRAP)};`,
    'delete globalThis[Symbol.for("switchyard.workerLoading")];',
    "await startPort();",
  );
  return `data:application/javascript,${encodeURIComponent(lines.join("\n"))}`;
}

/** Lines of a stack or of Rust's backtrace (`RUST_BACKTRACE`): where, not what. */
const TRACE_LINE = /^(at |Stack backtrace:|\d+: )/;

/**
 * The line of a child's last stderr that says why it exited: Deno's
 * `error: …` line of an uncaught error, else the last line that is not a
 * stack frame.
 */
function exitLine(tail: string): string | undefined {
  const lines = tail.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  return lines.findLast((line) => line.startsWith("error: ")) ??
    lines.findLast((line) => !TRACE_LINE.test(line));
}

/** A child process and the task it runs. */
export class ProcessChild {
  readonly id: number;
  readonly poolKey: string;
  /** Function keys this child has the definition of. */
  readonly known: Set<number> = new Set();
  /** Set once killed or ended; no message is read or sent after. */
  dead = false;
  /** Resolves when the process and its pipes are closed. */
  readonly closed: Promise<void>;
  readonly #process: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #events: ChildEvents;
  #outbox: ToWorker[] = [];
  #flushQueued = false;
  #stderrTail = "";
  #killed = false;
  #nextTask = 0;

  /**
   * Starts a child.
   *
   * @throws What `Deno.Command.spawn()` throws (e.g. no `--allow-run`).
   */
  constructor(id: number, settings: ChildSettings, events: ChildEvents) {
    this.id = id;
    this.poolKey = settings.poolKey;
    this.#events = events;
    const args = [
      "run",
      "--quiet",
      "--no-prompt",
      `--v8-flags=--max-old-space-size=${settings.heapLimit}`,
      ...withStartImports(settings.flags, [PORT, BOOTSTRAP, settings.preload ?? ""]),
      entryUrl(settings.preload),
      ...(settings.preload === null ? [] : [settings.preload]),
    ];
    this.#process = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_UPDATE_CHECK: "1" },
    }).spawn();
    this.#writer = this.#process.stdin.getWriter();
    // A child that is gone rejects pending writes: nothing to do then.
    this.#writer.closed.catch(() => {});
    this.closed = Promise.all([
      this.#readFrames(),
      this.#readStderr(),
      this.#process.status,
    ]).then(([, , status]) => this.#onExit(status)).catch((error) => {
      // Never rejects: the pool waits on it to fail the child's task.
      this.dead = true;
      this.#events.ended(
        this,
        "exited",
        `its process could not be watched: ${describeValue(error)}`,
      );
    });
  }

  /** The process id. */
  get pid(): number {
    return this.#process.pid;
  }

  /** Sends a task (with its trace context, if traced); returns its id on this child. */
  run(fnKey: number, def: NodeDefinition, args: unknown[], trace?: Record<string, string>): number {
    const wid = this.#nextTask++;
    const message: ToWorker = [wid, fnKey, args];
    if (!this.known.has(fnKey)) {
      message[3] = def;
      this.known.add(fnKey);
    }
    if (trace !== undefined) message[5] = trace;
    this.post(message);
    return wid;
  }

  /** Posts a message with the next batch, unless the child is gone. */
  post(message: ToWorker): void {
    if (this.dead) return;
    this.#outbox.push(message);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /**
   * Checks that a value can be sent (the frame is built as it is sent, one
   * turn later, when the caller could no longer be told).
   *
   * @throws {Error} If it cannot be cloned.
   */
  static encodable(value: unknown): void {
    encodeFrame(value);
  }

  #flush(): void {
    this.#flushQueued = false;
    const batch = this.#outbox;
    this.#outbox = [];
    if (this.dead || batch.length === 0) return;
    this.#writer.write(encodeFrame(batch)).catch(() => {});
  }

  /** Stops the child: SIGKILL, at once. Idempotent. */
  kill(): void {
    this.dead = true;
    if (this.#killed) return;
    this.#killed = true;
    try {
      this.#process.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /**
   * Ends an idle child gently: it exits when its stdin closes, and is killed
   * with SIGKILL if it has not within {@linkcode RETIRE_TIMEOUT}. Idempotent.
   */
  retire(): void {
    const first = !this.dead;
    this.dead = true;
    if (!first || this.#killed) return;
    this.#writer.close().catch(() => {});
    // Invariant: the timer lives until the process is gone, so `closed`
    // resolves within RETIRE_TIMEOUT of retire() whatever the child does.
    const timer = setTimeout(() => {
      log.warn(
        "Child process #{id} (pid {pid}) did not exit within {ms} ms of being retired (its telemetry export may be stuck): killed",
        { id: this.id, pid: this.pid, ms: RETIRE_TIMEOUT },
      );
      this.kill();
    }, RETIRE_TIMEOUT);
    this.closed.then(() => clearTimeout(timer));
  }

  async #readFrames(): Promise<void> {
    const reader = new FrameReader();
    try {
      for await (const chunk of this.#process.stdout) {
        if (this.dead) continue;
        for (const batch of reader.push(chunk)) {
          if (!Array.isArray(batch)) {
            throw new TypeError(`it sent ${describeValue(batch)}`);
          }
          for (const message of batch) {
            if (this.dead) break;
            this.#events.message(this, message);
          }
        }
      }
    } catch (error) {
      if (!this.dead) {
        this.#events.broken(
          this,
          `it sent a message outside the protocol: ${describeValue(error)}`,
        );
      }
      // Drain what is left so the process can exit.
      await this.#process.stdout.cancel().catch(() => {});
    }
  }

  async #readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    let reporting = false;
    let blanks = 0;
    for await (const chunk of this.#process.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      this.#stderrTail = (this.#stderrTail + text).slice(-TAIL);
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      // The node's own console output is passed on; V8's fatal report is
      // kept for the error instead.
      let out = "";
      for (const line of lines) {
        if (FATAL_REPORT.test(line)) reporting = true;
        if (reporting) continue;
        // Blank lines wait for the next line: V8's report starts with some.
        if (line.trim() === "") blanks++;
        else {
          out += `${"\n".repeat(blanks)}${line}\n`;
          blanks = 0;
        }
      }
      if (out) await Deno.stderr.write(new TextEncoder().encode(out)).catch(() => 0);
    }
  }

  #onExit(status: Deno.CommandStatus): void {
    const wasDead = this.dead;
    this.dead = true;
    if (wasDead) return;
    const tail = this.#stderrTail;
    if (OUT_OF_MEMORY.test(tail)) {
      const line = tail.split("\n").find((l) => OUT_OF_MEMORY.test(l))?.replace(/^#\s*/, "");
      this.#events.ended(
        this,
        "out-of-memory",
        `its process ran out of memory (${
          line?.trim() ?? "heap limit reached"
        }; exit code ${status.code})`,
      );
    } else if (status.signal !== null) {
      this.#events.ended(this, "killed", `its process was killed by ${status.signal}`);
    } else {
      this.#events.ended(
        this,
        "exited",
        `its process exited with code ${status.code}${
          exitLine(tail) === undefined ? "" : `: ${exitLine(tail)}`
        }`,
      );
    }
  }
}
