/**
 * Calls made by worker nodes, answered on the main thread: the callee is
 * found there and called as a child of the worker node's request, so it is
 * tracked like any call.
 *
 * The worker is the less-privileged side: what it sends is a name to look
 * up, never something to load. A callee is found only
 * - among the module worker nodes this thread made (by the module URL and
 *   name they were defined with; nothing is imported), or
 * - among the exports of the calling node's own module, imported from the
 *   URL the main thread's node holds (never one the worker sent).
 * Anything else (a node that exists only inside the worker, a made-up
 * module URL, a malformed message) fails the call with a
 * {@linkcode WorkerCallRefusedError}, and no request is made.
 *
 * @module
 */
import type { FromWorker, ToWorker } from "../../workers/protocol.ts";
import { isNode, knownModuleNode, type Node } from "../core/node.ts";
import { logger } from "../core/logging.ts";
import { describeValue } from "../core/describe.ts";
import { toWire } from "../../workers/wire.ts";
import type { Task } from "./task.ts";
import { WorkerCallRefusedError } from "./worker_error.ts";

const log = logger("workers");

/** Module namespaces imported on the main thread, by URL. */
export type ModuleCache = Map<string, Promise<Record<string, unknown>>>;

/** Where a reply goes: a worker, or a child process. */
export interface ReplyPort {
  /** Queues a reply to the worker. */
  post(message: Extract<ToWorker, { t: "reply" }>): void;
}

/**
 * Answers a call a worker node made: resolves the callee, calls it as a
 * child of the task's request, and posts the outcome back.
 *
 * @param port Where the reply goes.
 * @param task The calling task.
 * @param message The call, as the worker sent it (not trusted).
 * @param modules Where imported modules are kept.
 * @returns When the reply has been queued.
 */
export async function answerCall(
  port: ReplyPort,
  task: Task,
  message: Extract<FromWorker, { t: "call" }>,
  modules: ModuleCache,
): Promise<void> {
  const { id, c } = message;
  try {
    const target = await resolveTarget(task.node as Node, message.target, modules);
    const args = Array.isArray(message.args) ? message.args : [];
    const value = await task.callChild(target, args);
    port.post({ t: "reply", id, c, ok: true, v: value });
  } catch (error) {
    port.post({ t: "reply", id, c, ok: false, e: toWire(error) });
  }
}

/**
 * The node a worker's call names, found on this thread.
 *
 * @param caller The worker node that calls (the main thread's own object).
 * @param target What the worker sent.
 * @param modules Where imported modules are kept.
 * @returns The node.
 * @throws {WorkerCallRefusedError} If this thread does not know it.
 */
export async function resolveTarget(
  caller: Node,
  target: unknown,
  modules: ModuleCache,
): Promise<Node> {
  const sent = (typeof target === "object" && target !== null ? target : {}) as {
    name?: unknown;
    url?: unknown;
  };
  const name = sent.name;
  const url = sent.url ?? null;
  const refuse = (why: string): never => {
    log.warn("Refused a call from worker node {caller}: {why}", {
      caller: caller.name,
      why,
    });
    throw new WorkerCallRefusedError(caller.name, name, url, why);
  };
  if (typeof name !== "string" || (url !== null && typeof url !== "string")) {
    return refuse(
      `a call must name a node by its name (and module URL): current value is ${
        describeValue(target)
      }`,
    );
  }
  if (url !== null) {
    const known = knownModuleNode(url, name);
    if (known) return known;
    if (url !== caller.moduleUrl) {
      return refuse(
        `no module worker node of that name was made with module URL ${
          describeValue(url)
        }, and a worker never gets a module loaded on the main thread (define the node with { worker: import.meta.url } in a module the program imports)`,
      );
    }
  }
  const own = caller.moduleUrl;
  if (own === null) {
    return refuse(
      "a node called from a worker must be exported by the calling node's module, or be a module worker node defined with { worker: import.meta.url }",
    );
  }
  let ns = modules.get(own);
  if (!ns) {
    ns = import(own);
    modules.set(own, ns);
  }
  // Own enumerable exports only: a module namespace has no prototype, and
  // only a value branded as a node of that very name is taken.
  for (const value of Object.values(await ns)) {
    if (isNode(value) && value.name === name) return value;
  }
  return refuse(`module ${own} exports no node of that name`);
}
