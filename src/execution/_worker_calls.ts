/**
 * Calls made by worker nodes, answered on the main thread: the callee is
 * found there and called as a child of the worker node's request, so it is
 * tracked like any call.
 *
 * A callee must be resolvable on the main thread: a worker node defined
 * with a module URL (found in that module by name), or any node exported,
 * under its name, by the calling node's own module. A node that exists only
 * inside the worker (a local, or a `worker: true` node's closure) cannot be
 * called: the call fails with an error saying so, and no request is made.
 *
 * @module
 */
import type { FromWorker } from "../../workers/protocol.ts";
import { isNode, type Node } from "../core/node.ts";
import { toWire } from "../../workers/wire.ts";
import type { PoolJob, WorkerHandle } from "./_worker_handle.ts";

/** Module namespaces imported on the main thread, by URL. */
export type ModuleCache = Map<string, Promise<Record<string, unknown>>>;

/**
 * Answers a call a worker node made: resolves the callee, calls it as a
 * child of the job's request, and posts the outcome back.
 *
 * @param worker The worker that asked.
 * @param job The calling task.
 * @param message The call.
 * @param modules Where imported modules are kept.
 * @returns When the reply has been queued.
 */
export async function answerCall(
  worker: WorkerHandle,
  job: PoolJob,
  message: Extract<FromWorker, { t: "call" }>,
  modules: ModuleCache,
): Promise<void> {
  const { id, c } = message;
  try {
    const target = await resolveTarget(job, message.target, modules);
    const value = await job.task.callChild(target, message.args);
    worker.post({ t: "reply", id, c, ok: true, v: value });
  } catch (error) {
    worker.post({ t: "reply", id, c, ok: false, e: toWire(error) });
  }
}

async function resolveTarget(
  job: PoolJob,
  target: { name: string; url: string | null },
  modules: ModuleCache,
): Promise<Node> {
  const caller = job.task.node;
  const url = target.url ?? caller.moduleUrl;
  if (url === null) {
    throw new Error(
      `Cannot call node '${target.name}' from worker node '${caller.name}' as the main thread cannot find it: a node called from a worker must be exported by the calling node's module or be defined with { worker: import.meta.url }`,
    );
  }
  let ns = modules.get(url);
  if (!ns) {
    ns = import(url);
    modules.set(url, ns);
  }
  const found = Object.values(await ns).find((v) => isNode(v) && v.name === target.name);
  if (!found) {
    throw new Error(
      `Cannot call node '${target.name}' from worker node '${caller.name}' as the main thread cannot find it: module ${url} exports no node of that name`,
    );
  }
  return found as Node;
}
