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
import type { FromWorker, NodeDefinition, ToWorker, WireError } from "./_protocol.ts";

type RunMessage = Extract<ToWorker, { t: "run" }>;
type Fn = (...args: unknown[]) => unknown;

interface Resolved {
  fn: Fn;
  name: string;
  kind: NodeDefinition["kind"];
}

interface Running {
  id: number;
  name: string;
  controller: AbortController;
  /** Calls to the main thread not yet answered. */
  calls: number;
}

/** Registered by each copy of the library loaded in this worker. */
interface TaskContext {
  run<T>(id: number, fn: () => T): T;
  current(): number | undefined;
}

const NODE_BRAND = Symbol.for("switchyard.node");
const BRIDGE = Symbol.for("switchyard.workerBridge");
const PRELOADED = Symbol.for("switchyard.workerPreloaded");
const CONTEXTS = Symbol.for("switchyard.workerContexts");

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  addEventListener(type: string, listener: (event: Event) => void): void;
  [key: symbol]: unknown;
};

// Invariant: the tasks in `started` are a prefix, in arrival order, of the
// tasks received and not finished; a task starts only when every started
// task waits on a call to the main thread (or none is started).
const cache = new Map<number, Resolved>();
const modules = new Map<string, Promise<Record<string, unknown>>>();
const queue: RunMessage[] = [];
const pendingCalls = new Map<
  number,
  { resolve: (v: unknown) => void; reject: (e: unknown) => void }
>();
const started = new Map<number, Running>();
let nextCall = 0;

function post(message: FromWorker, transfer?: Transferable[]): void {
  scope.postMessage(message, transfer);
}

function toWire(error: unknown, depth = 0): WireError {
  if (error instanceof Error) {
    const wire: WireError = {
      name: error.name,
      message: error.message,
      stack: error.stack,
    };
    if (error.cause !== undefined && depth < 4) {
      wire.cause = toWire(error.cause, depth + 1);
    }
    return wire;
  }
  const wire: WireError = { name: "NonError", message: String(error) };
  try {
    wire.value = structuredClone(error);
  } catch {
    // Not cloneable: the message says what it was.
  }
  return wire;
}

function fromWire(wire: WireError): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.stack) error.stack = wire.stack;
  return error;
}

function buffersIn(value: unknown, found: Set<ArrayBuffer>, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== "object") return;
  if (value instanceof ArrayBuffer) {
    found.add(value);
  } else if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) found.add(value.buffer);
  } else if (Array.isArray(value)) {
    for (const item of value) buffersIn(item, found, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) buffersIn(item, found, depth + 1);
  }
}

function describeExports(ns: Record<string, unknown>): string {
  const nodes: string[] = [];
  const others: string[] = [];
  for (const [key, value] of Object.entries(ns)) {
    if (isNode(value)) nodes.push(`'${(value as { name: string }).name}'`);
    else others.push(`'${key}'`);
  }
  return `it exports nodes ${nodes.join(", ") || "(none)"} and other values ${
    others.join(", ") || "(none)"
  }`;
}

function isNode(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[NODE_BRAND] === true;
}

function importModule(url: string): Promise<Record<string, unknown>> {
  let ns = modules.get(url);
  if (!ns) {
    const preloaded = (scope[PRELOADED] as Map<string, unknown> | undefined)
      ?.get(url);
    ns = preloaded ? Promise.resolve(preloaded as Record<string, unknown>) : import(url);
    modules.set(url, ns);
  }
  return ns;
}

function compile(source: string, name: string): Fn {
  const evaluate = (code: string) => new Function(`return (${code});`)();
  let value: unknown;
  try {
    value = evaluate(source);
  } catch {
    // A method written as `name() {}` is not an expression on its own.
    value = Object.values(evaluate(`{${source}}`) as object)[0];
  }
  if (typeof value !== "function") {
    throw new TypeError(
      `Cannot load worker node '${name}' as its source must evaluate to a function: current value is ${typeof value}`,
    );
  }
  return value as Fn;
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
  let fn: Fn;
  if (def.kind === "source") {
    fn = compile(def.source, def.name);
  } else {
    const ns = await importModule(def.url);
    const found = Object.values(ns).find((v) =>
      isNode(v) && (v as { name: string }).name === def.name
    ) as { fn: Fn } | undefined;
    if (!found) {
      throw new Error(
        `Cannot find worker node '${def.name}' in module ${def.url} as it is not among the module's exports: ${
          describeExports(ns)
        }`,
      );
    }
    fn = found.fn;
  }
  const resolved = { fn, name: def.name, kind: def.kind };
  cache.set(message.k, resolved);
  return resolved;
}

function finish(message: RunMessage, value: unknown, name: string): void {
  let transfer: Transferable[] | undefined;
  if (message.transfer) {
    const found = new Set<ArrayBuffer>();
    buffersIn(value, found);
    transfer = [...found];
  }
  try {
    post({ t: "done", id: message.id, ok: true, v: value }, transfer);
  } catch (error) {
    post({
      t: "done",
      id: message.id,
      ok: false,
      why: "clone",
      e: toWire(
        new TypeError(
          `Cannot return the result of worker node '${name}' as it could not be cloned: ${
            error instanceof Error ? error.message : String(error)
          }`,
        ),
      ),
    });
  }
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
  return run();
}

async function start(message: RunMessage): Promise<void> {
  const task: Running = {
    id: message.id,
    name: message.def?.name ?? cache.get(message.k)?.name ?? "",
    controller: new AbortController(),
    calls: 0,
  };
  started.set(message.id, task);
  let resolved: Resolved | undefined;
  try {
    resolved = cache.get(message.k) ?? await resolve(message);
    task.name = resolved.name;
    let value = invoke(resolved, message);
    if (value instanceof Promise) value = await value;
    finish(message, value, resolved.name);
  } catch (error) {
    fail(message, error, resolved);
  } finally {
    started.delete(message.id);
    startNext();
  }
}

function startNext(): void {
  while (queue.length > 0) {
    for (const task of started.values()) if (task.calls === 0) return;
    const message = queue.shift()!;
    if (started.size > 0) post({ t: "started", id: message.id });
    start(message);
  }
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
    return requireRunning("get the current signal").controller.signal;
  },
  call(
    target: { name: string; moduleUrl: string | null },
    args: unknown[],
  ): Promise<unknown> {
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
    try {
      post({
        t: "call",
        id: task.id,
        c,
        target: { name: target.name, url: target.moduleUrl },
        args,
      });
    } catch (error) {
      return Promise.reject(
        new TypeError(
          `Cannot call node '${target.name}' from worker node '${task.name}' as its arguments could not be cloned: ${
            error instanceof Error ? error.message : String(error)
          }`,
        ),
      );
    }
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
  realClose();
};
const deno = (globalThis as { Deno?: { exit(code?: number): never } }).Deno;
if (deno) {
  const realExit = deno.exit.bind(deno);
  deno.exit = (code?: number): never => {
    post({ t: "fatal", why: "exited", code: code ?? 0 });
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

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.t) {
    case "run":
      queue.push(message);
      startNext();
      break;
    case "abort": {
      const task = started.get(message.id);
      if (task) {
        task.controller.abort(fromWire(message.reason));
        break;
      }
      const index = queue.findIndex((m) => m.id === message.id);
      if (index >= 0) {
        queue.splice(index, 1);
        post({ t: "dropped", id: message.id });
      }
      break;
    }
    case "reply": {
      const pending = pendingCalls.get(message.c);
      if (!pending) break;
      pendingCalls.delete(message.c);
      if (message.ok) pending.resolve(message.v);
      else pending.reject(fromWire(message.e));
      break;
    }
  }
};
