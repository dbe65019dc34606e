/**
 * The worker side of Switchyard's worker pool. It starts tasks in the order
 * they arrive, one at a time, except that a task waiting for a `call()` to
 * the main thread lets the next one start (so a node can call a worker node
 * without deadlocking a small pool), and reports each outcome. It never
 * imports anything but relative, type-only modules, so it loads the same
 * from a file, an HTTP URL, JSR or a compiled binary.
 *
 * Inside a running task, `call()`, `currentSignal()` and `broadcast()` of
 * the library reach the main thread through the bridge installed on
 * `globalThis[Symbol.for("switchyard.workerBridge")]`.
 *
 * @module
 */
import type { FromWorker, NodeDefinition, RunTuple, ToWorker } from "./protocol.ts";
import { type Fn, isNode, loadFunction } from "./_lookup.ts";
import { buffersIn, fromWire, toWire } from "./wire.ts";
import { inTraceContext } from "./_trace.ts";

/** A task to run, unpacked from its {@linkcode RunTuple}. */
interface RunMessage {
  id: number;
  k: number;
  args: unknown[];
  def: NodeDefinition | undefined;
  transfer: boolean;
  /** The trace context of the task's span on the main thread, if traced. */
  trace: Record<string, string> | undefined;
}

interface Resolved {
  fn: Fn;
  name: string;
  kind: NodeDefinition["kind"];
  /** How long its last synchronous run took (ms); Infinity if async. */
  ms: number;
}

interface Running {
  id: number;
  name: string;
  /** Created when someone asks for the signal, or at abort. */
  controller: AbortController | null;
  /** The abort reason, once aborted. */
  reason: unknown;
  aborted: boolean;
  /** Calls to the main thread not yet answered. */
  calls: number;
}

/** Registered by each copy of the library loaded in this worker. */
interface TaskContext {
  run<T>(id: number, fn: () => T): T;
  current(): number | undefined;
}

const BRIDGE = Symbol.for("switchyard.workerBridge");
const CONTEXTS = Symbol.for("switchyard.workerContexts");
const LOADING = Symbol.for("switchyard.workerLoading");

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
  onmessage: ((event: MessageEvent<ToWorker[]>) => void) | null;
  addEventListener(type: string, listener: (event: Event) => void): void;
  [key: symbol]: unknown;
};

// Invariant: the tasks in `started` are a prefix, in arrival order, of the
// tasks received and not finished; a task starts only when every started
// task waits on a call to the main thread (or none is started).
const cache = new Map<number, Resolved>();
const queue: RunMessage[] = [];
const pendingCalls = new Map<
  number,
  { resolve: (v: unknown) => void; reject: (e: unknown) => void }
>();
const started = new Map<number, Running>();
const names = new Map<number, string>();
/** Tasks quicker than this may keep their results for the batch. */
const QUICK_MS = 0.2;
let nextCall = 0;

// Messages to the main thread go out in batches: everything produced in one
// turn of the event loop, or before a task that may take a while, is one
// postMessage. `names` remembers, per result, its node for error messages.
let outbox: FromWorker[] = [];
let outboxTransfer: Transferable[] = [];
let flushQueued = false;

function post(message: FromWorker, transfer?: Transferable[]): void {
  outbox.push(message);
  if (transfer?.length) outboxTransfer.push(...transfer);
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flush);
  }
}

function flush(): void {
  flushQueued = false;
  if (outbox.length === 0) return;
  const batch = outbox;
  const transfer = outboxTransfer;
  outbox = [];
  outboxTransfer = [];
  try {
    scope.postMessage(batch, transfer);
    names.clear();
    return;
  } catch {
    // Something in the batch cannot be cloned: find it, send the rest.
    for (const message of batch) {
      const own = new Set<ArrayBuffer>();
      if (transfer.length > 0) buffersIn(message, own);
      try {
        scope.postMessage([message], [...own]);
      } catch (error) {
        const replacement = unsendable(message, error);
        if (replacement) scope.postMessage([replacement]);
      }
    }
    names.clear();
  }
}

function unsendable(message: FromWorker, error: unknown): FromWorker | null {
  const why = error instanceof Error ? error.message : String(error);
  if (Array.isArray(message)) {
    const [id] = message;
    return {
      t: "done",
      id,
      ok: false,
      why: "clone",
      e: toWire(
        new TypeError(
          `Cannot return the result of worker node '${
            started.get(id)?.name ?? names.get(id) ?? ""
          }' as it could not be cloned: ${why}`,
        ),
      ),
    };
  }
  if (message.t === "call") {
    // The caller waits for a reply: answer it here with the failure.
    queueMicrotask(() =>
      onReply({
        t: "reply",
        id: message.id,
        c: message.c,
        ok: false,
        e: toWire(
          new TypeError(
            `Cannot call node '${message.target.name}' from a worker node as its arguments could not be cloned: ${why}`,
          ),
        ),
      })
    );
    return null;
  }
  if (message.t !== "broadcast") return null;
  return {
    t: "broadcast",
    id: message.id,
    item: `[a broadcast value could not be cloned: ${why}]`,
  };
}

async function resolve(message: RunMessage): Promise<Resolved> {
  const cached = cache.get(message.k);
  if (cached) return cached;
  const def = message.def;
  if (!def) {
    throw new Error(
      `Cannot run task ${message.id} as its node (key ${message.k}) was never sent to this worker`,
    );
  }
  const fn = await loadFunction(def);
  const resolved = { fn, name: def.name, kind: def.kind, ms: Infinity };
  cache.set(message.k, resolved);
  return resolved;
}

function finish(
  message: RunMessage,
  value: unknown,
  name: string,
  ms: number,
): void {
  let transfer: Transferable[] | undefined;
  if (message.transfer) {
    const found = new Set<ArrayBuffer>();
    buffersIn(value, found);
    transfer = [...found];
  }
  names.set(message.id, name);
  post([message.id, value, ms], transfer);
}

function fail(message: RunMessage, error: unknown, resolved?: Resolved): void {
  if (!resolved) {
    post({
      t: "done",
      id: message.id,
      ok: false,
      why: "load",
      e: toWire(error),
    });
    return;
  }
  if (resolved.kind === "source" && error instanceof ReferenceError) {
    const name = /^(\S+) is not defined/.exec(error.message)?.[1];
    const wrapped = new ReferenceError(
      `Worker node '${resolved.name}' must be self-contained, as it runs from its source in a worker: it refers to ${
        name ? `'${name}'` : "a variable"
      }, which is defined outside the function (${error.message})`,
      { cause: error },
    );
    post({
      t: "done",
      id: message.id,
      ok: false,
      why: "self-contained",
      e: toWire(wrapped),
    });
    return;
  }
  post({
    t: "done",
    id: message.id,
    ok: false,
    why: "threw",
    e: toWire(error),
  });
}

function contexts(): TaskContext[] {
  return (scope[CONTEXTS] as TaskContext[] | undefined) ?? [];
}

/** The task whose code is running: from the library's async context. */
function current(): Running | undefined {
  for (const context of contexts()) {
    const id = context.current();
    if (id !== undefined) return started.get(id);
  }
  return started.size === 1 ? started.values().next().value : undefined;
}

function invoke(resolved: Resolved, message: RunMessage): unknown {
  let run = () => resolved.fn(...message.args);
  for (const context of contexts()) {
    const inner = run;
    run = () => context.run(message.id, inner);
  }
  return message.trace === undefined ? run() : inTraceContext(message.trace, run);
}

/**
 * Starts a task; a sync node with a known function runs to its end right
 * here, with no promise in between.
 */
function start(message: RunMessage): void {
  const resolved = cache.get(message.k);
  const task: Running = {
    id: message.id,
    name: resolved?.name ?? message.def?.name ?? "",
    controller: null,
    reason: undefined,
    aborted: false,
    calls: 0,
  };
  started.set(message.id, task);
  if (!resolved) {
    startSlow(message, task);
    return;
  }
  let value: unknown;
  const begin = performance.now();
  try {
    value = invoke(resolved, message);
  } catch (error) {
    fail(message, error, resolved);
    end(task);
    return;
  }
  if (value instanceof Promise) {
    value.then(
      (v) => finish(message, v, resolved.name, performance.now() - begin),
      (error) => fail(message, error, resolved),
    ).finally(() => end(task));
    return;
  }
  resolved.ms = performance.now() - begin;
  finish(message, value, resolved.name, resolved.ms);
  end(task);
}

async function startSlow(message: RunMessage, task: Running): Promise<void> {
  let resolved: Resolved | undefined;
  try {
    resolved = await resolve(message);
    task.name = resolved.name;
    // A stop the host sent while the module loaded may still wait in the
    // channel behind the load's last step: one turn of the event loop lets
    // it arrive. Stopped while its module loaded: the node never starts.
    if (!task.aborted) await new Promise((next) => setTimeout(next, 0));
    if (task.aborted) throw task.reason;
    const begin = performance.now();
    let value = invoke(resolved, message);
    if (value instanceof Promise) value = await value;
    finish(message, value, resolved.name, performance.now() - begin);
  } catch (error) {
    fail(message, error, resolved);
  } finally {
    end(task);
  }
}

function end(task: Running): void {
  started.delete(task.id);
  startNext();
}

let draining = false;

/** Starts queued tasks while no started task can run (all wait on calls). */
function startNext(): void {
  if (draining) return;
  draining = true;
  try {
    while (queue.length > 0) {
      for (const task of started.values()) if (task.calls === 0) return;
      const message = queue.shift()!;
      // A result must not wait behind a task that may be long.
      const known = cache.get(message.k);
      if (!known || known.ms > QUICK_MS) flush();
      if (started.size > 0) post({ t: "started", id: message.id });
      start(message);
    }
  } finally {
    draining = false;
  }
}

function signalOf(task: Running): AbortSignal {
  if (!task.controller) {
    task.controller = new AbortController();
    if (task.aborted) task.controller.abort(task.reason);
  }
  return task.controller.signal;
}

function requireRunning(what: string): Running {
  const task = current();
  if (!task) {
    throw new Error(`Cannot ${what} as no worker node is running`);
  }
  return task;
}

scope[BRIDGE] = {
  get nodeName(): string | null {
    return current()?.name ?? null;
  },
  get signal(): AbortSignal {
    return signalOf(requireRunning("get the current signal"));
  },
  call(
    target: { name: string; moduleUrl: string | null },
    args: unknown[],
  ): Promise<unknown> {
    const loadingUrl = scope[LOADING];
    if (typeof loadingUrl === "string") {
      // A module's top level calling nodes while it is imported here would
      // call into the pool again, and again: never.
      const error = new Error(
        `Cannot call node '${target?.name}' inside a worker as module ${loadingUrl} was imported into a worker to find a worker node, and its top level calls nodes there: guard the code that starts runs with \`if (import.meta.main)\`, or keep worker nodes in a module of their own`,
      );
      error.name = "WorkerModuleError";
      return Promise.reject(error);
    }
    const task = requireRunning(`call node '${target?.name}'`);
    if (!isNode(target)) {
      return Promise.reject(
        new TypeError(
          `Cannot call from worker node '${task.name}' as 'node' must be a node made with node(): current value is ${
            String(target)
          }`,
        ),
      );
    }
    const c = nextCall++;
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    post({
      t: "call",
      id: task.id,
      c,
      target: { name: target.name, url: target.moduleUrl },
      args,
    });
    pendingCalls.set(c, { resolve, reject });
    task.calls++;
    startNext();
    return promise.finally(() => task.calls--);
  },
  broadcast(item: unknown): void {
    const task = requireRunning("broadcast");
    post({ t: "broadcast", id: task.id, item });
  },
};

// A worker that ends itself is reported before it goes, since the main
// thread gets no event for it.
const realClose = scope.close.bind(scope);
scope.close = () => {
  post({ t: "fatal", why: "closed" });
  flush();
  realClose();
};
const deno = (globalThis as { Deno?: { exit(code?: number): never } }).Deno;
if (deno) {
  const realExit = deno.exit.bind(deno);
  deno.exit = (code?: number): never => {
    post({ t: "fatal", why: "exited", code: code ?? 0 });
    flush();
    return realExit(code);
  };
}
scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  post({
    t: "fatal",
    why: "unhandledrejection",
    e: toWire((event as PromiseRejectionEvent).reason),
  });
});
scope.addEventListener("error", (event) => {
  event.preventDefault();
  post({ t: "fatal", why: "uncaught", e: toWire((event as ErrorEvent).error) });
});

function onReply(message: Extract<ToWorker, { t: "reply" }>): void {
  const pending = pendingCalls.get(message.c);
  if (!pending) return;
  pendingCalls.delete(message.c);
  if (message.ok) pending.resolve(message.v);
  else pending.reject(fromWire(message.e));
}

function onAbort(message: Extract<ToWorker, { t: "abort" }>): void {
  const task = started.get(message.id);
  if (task) {
    task.reason = fromWire(message.reason);
    task.aborted = true;
    task.controller?.abort(task.reason);
    return;
  }
  const index = queue.findIndex((m) => m.id === message.id);
  if (index >= 0) {
    queue.splice(index, 1);
    post({ t: "dropped", id: message.id });
  }
}

function unpack(tuple: RunTuple): RunMessage {
  return {
    id: tuple[0],
    k: tuple[1],
    args: tuple[2],
    def: tuple[3],
    transfer: tuple[4] === true,
    trace: tuple[5],
  };
}

scope.onmessage = (event: MessageEvent<ToWorker[]>) => {
  for (const message of event.data) {
    if (Array.isArray(message)) queue.push(unpack(message));
    else if (message.t === "abort") onAbort(message);
    else onReply(message);
  }
  startNext();
};
