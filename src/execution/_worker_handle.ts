/**
 * One Web Worker of the pool and the tasks it has been sent.
 *
 * @module
 */
import type { FromWorker, NodeDefinition, ToWorker, WireError } from "../../workers/protocol.ts";
import { toWire } from "../../workers/wire.ts";
import { describeValue } from "../core/describe.ts";
import type { WorkerPermissions } from "../core/node.ts";
import type { Task } from "./task.ts";

const BOOTSTRAP = new URL("../../workers/bootstrap.ts", import.meta.url);

/** What the strategy asks the pool to run. */
export interface JobSpec {
  readonly task: Task;
  /** Which workers may run it: same permissions (and preloaded module). */
  readonly poolKey: string;
  readonly permissions: WorkerPermissions;
  /** A module the worker must import at start (narrowed permissions). */
  readonly preload: string | null;
  readonly fnKey: number;
  readonly def: NodeDefinition;
  readonly transfer: boolean;
}

/** One task, from submission until it settles. */
export interface PoolJob extends JobSpec {
  readonly promise: Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** The worker it was sent to, `null` while queued. */
  worker: WorkerHandle | null;
  /** Its id on that worker. */
  wid: number;
  settled: boolean;
  /** The worker said it started while an earlier task waits on a call. */
  started: boolean;
  /** Known, when sent, to be quick (see the pool's pipelining). */
  quick: boolean;
  /** Calls to the main thread it waits on; while any, it does not count as load. */
  calls: number;
  /** Set once its signal fired; the worker was told to abort. */
  aborted: boolean;
  graceTimer: ReturnType<typeof setTimeout> | undefined;
}

/** What a handle reports back to its pool. */
export interface HandleEvents {
  message(handle: WorkerHandle, message: FromWorker): void;
  crashed(handle: WorkerHandle, detail: string, reason?: "uncaught" | "protocol"): void;
  /** A task's arguments could not be cloned: it never reached the worker. */
  unsendable(handle: WorkerHandle, job: PoolJob, error: unknown): void;
}

/** Permissions as a stable string, to group workers that share them. */
export function permissionsKey(permissions: WorkerPermissions): string {
  if (typeof permissions === "string") return permissions;
  const sorted = Object.keys(permissions).sort().map((k) => [
    k,
    permissions[k],
  ]);
  return JSON.stringify(sorted);
}

function entryUrl(preload: string | null): string {
  if (preload === null) return BOOTSTRAP.href;
  // Narrowed permissions forbid a dynamic import of a local module, but not
  // a static one from the worker's own entry module.
  // The marker says, to code that starts runs, which module is loading.
  const marker = `globalThis[Symbol.for("switchyard.workerLoading")] = ${JSON.stringify(preload)};`;
  const source = `import ${
    JSON.stringify(`data:application/javascript,${encodeURIComponent(marker)}`)
  };
import * as ns from ${JSON.stringify(preload)};
delete globalThis[Symbol.for("switchyard.workerLoading")];
globalThis[Symbol.for("switchyard.workerPreloaded")] = new Map([[${JSON.stringify(preload)}, ns]]);
import ${JSON.stringify(BOOTSTRAP.href)};`;
  return `data:application/javascript,${encodeURIComponent(source)}`;
}

/**
 * A worker and its FIFO of tasks. The worker starts them in order, one at a
 * time unless the started ones wait on calls to the main thread, so the
 * started tasks are always a prefix of `inflight`: the head, and any task
 * the worker reported as started.
 */
export class WorkerHandle {
  readonly id: number;
  readonly poolKey: string;
  /** Tasks sent and not yet reported, in the order sent. */
  readonly inflight: PoolJob[] = [];
  /** Function keys this worker has the definition of. */
  readonly known: Set<number> = new Set();
  dead = false;
  /** Tasks held that are not known to be quick. */
  slow = 0;
  #nextTask = 0;
  readonly #worker: Worker;
  readonly #events: HandleEvents;
  // Messages go out in batches, one postMessage per turn of the event
  // loop; #jobs maps each batched run message back to its job.
  #outbox: ToWorker[] = [];
  #outboxTransfer: Transferable[] = [];
  #jobs = new Map<ToWorker, PoolJob>();
  #flushQueued = false;

  /**
   * Makes a WorkerHandle.
   *
   * @throws What `new Worker` throws (e.g. permissions wider than the host's).
   */
  constructor(
    id: number,
    job: PoolJob,
    events: HandleEvents,
  ) {
    this.id = id;
    this.poolKey = job.poolKey;
    const options: WorkerOptions & { deno?: unknown } = {
      type: "module",
      name: `switchyard-worker-${id}`,
    };
    if (job.permissions !== "inherit") {
      options.deno = { permissions: job.permissions };
    }
    this.#events = events;
    this.#worker = new Worker(entryUrl(job.preload), options);
    // The worker is the less-privileged side: a message that does not
    // follow the protocol ends that worker, never the host.
    this.#worker.onmessage = (event: MessageEvent<FromWorker[]>) => {
      const batch: unknown = event.data;
      if (!Array.isArray(batch)) {
        events.crashed(
          this,
          `it sent a message outside the protocol: ${describeValue(batch)}`,
          "protocol",
        );
        return;
      }
      for (const message of batch) {
        if (this.dead) return;
        try {
          events.message(this, message);
        } catch (error) {
          events.crashed(
            this,
            `it sent a message outside the protocol (${describeValue(message)}): ${
              describeValue(error)
            }`,
            "protocol",
          );
          return;
        }
      }
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      events.crashed(this, event.message);
    };
    this.#worker.onmessageerror = () =>
      events.crashed(this, "a message from it could not be deserialized");
  }

  /** How many tasks it holds, not counting those waiting on calls. */
  get load(): number {
    let load = 0;
    for (const job of this.inflight) if (job.calls === 0) load++;
    return load;
  }

  /** Whether a task of this worker has started. */
  isStarted(job: PoolJob): boolean {
    return job.started || this.inflight[0] === job;
  }

  /** Sends a task (with the next batch). */
  send(job: PoolJob, transfer: Transferable[]): void {
    const wid = this.#nextTask++;
    const first = !this.known.has(job.fnKey);
    const message: ToWorker = [wid, job.fnKey, job.task.args];
    if (first) message[3] = job.def;
    if (job.transfer) message[4] = true;
    if (job.task.trace !== undefined) message[5] = job.task.trace.toWorker(this.id);
    if (first) this.known.add(job.fnKey);
    job.worker = this;
    job.wid = wid;
    if (!job.quick) this.slow++;
    this.inflight.push(job);
    this.#jobs.set(message, job);
    this.#queue(message, transfer);
  }

  /** Tells the worker to abort a task (or drop it if not started). */
  abort(job: PoolJob, reason: WireError): void {
    this.post({ t: "abort", id: job.wid, reason });
  }

  /** Posts a message with the next batch, unless the worker is gone. */
  post(message: ToWorker): void {
    if (!this.dead) this.#queue(message, []);
  }

  #queue(message: ToWorker, transfer: Transferable[]): void {
    this.#outbox.push(message);
    if (transfer.length > 0) this.#outboxTransfer.push(...transfer);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    const batch = this.#outbox;
    const transfer = this.#outboxTransfer;
    const jobs = this.#jobs;
    this.#outbox = [];
    this.#outboxTransfer = [];
    this.#jobs = new Map();
    if (this.dead || batch.length === 0) return;
    try {
      this.#worker.postMessage(batch, transfer);
      return;
    } catch {
      // Something cannot be cloned: send one by one to find it.
    }
    const lostDefs = new Map<number, NodeDefinition>();
    for (let message of batch) {
      const job = jobs.get(message);
      if (Array.isArray(message) && !message[3] && lostDefs.has(message[1])) {
        message = [...message];
        message[3] = lostDefs.get(message[1]);
        lostDefs.delete(message[1]);
      }
      try {
        this.#worker.postMessage(
          [message],
          job?.transfer ? transferables(job.task.args) : [],
        );
      } catch (error) {
        if (job) {
          if (Array.isArray(message) && message[3]) {
            lostDefs.set(message[1], message[3]);
          }
          this.#events.unsendable(this, job, error);
        } else if (!Array.isArray(message) && message.t === "reply") {
          this.#worker.postMessage([
            {
              t: "reply",
              id: message.id,
              c: message.c,
              ok: false,
              e: toWire(
                new TypeError(
                  `Cannot return the result of a call to a worker node as it could not be cloned: ${
                    error instanceof Error ? error.message : String(error)
                  }`,
                ),
              ),
            } satisfies ToWorker,
          ]);
        }
      }
    }
  }

  /** Finds and removes a task by its id on this worker. */
  take(wid: number): PoolJob | undefined {
    const index = this.inflight.findIndex((j) => j.wid === wid);
    if (index < 0) return undefined;
    const [job] = this.inflight.splice(index, 1);
    if (!job.quick) this.slow--;
    return job;
  }

  /** Finds a task by its id on this worker. */
  find(wid: number): PoolJob | undefined {
    return this.inflight.find((j) => j.wid === wid);
  }

  /** Terminates the worker at once. */
  terminate(): void {
    this.dead = true;
    this.#worker.terminate();
  }
}

/**
 * The `ArrayBuffer`s in some arguments (in views, arrays and plain
 * objects), to transfer instead of copy.
 *
 * @param args The arguments.
 * @returns The buffers, each once.
 */
export function transferables(args: unknown[]): Transferable[] {
  const found = new Set<ArrayBuffer>();
  const visit = (value: unknown, depth: number) => {
    if (depth > 8 || value === null || typeof value !== "object") return;
    if (value instanceof ArrayBuffer) found.add(value);
    else if (ArrayBuffer.isView(value)) {
      if (value.buffer instanceof ArrayBuffer) found.add(value.buffer);
    } else if (Array.isArray(value)) {
      for (const v of value) visit(v, depth + 1);
    } else if (Object.getPrototypeOf(value) === Object.prototype) {
      for (const v of Object.values(value)) visit(v, depth + 1);
    }
  };
  visit(args, 0);
  return [...found];
}
