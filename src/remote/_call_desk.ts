/**
 * The runner's side of `call()` in remote nodes: a call from a worker
 * process becomes a child request of the remote request that made it, and
 * its value or error is the reply.
 *
 * @module
 */
import { isNode, type Node } from "../core/node.ts";
import { decodeValue, encodeError, encodeValue } from "./codec.ts";
import type { OpenRequest } from "./_open_request.ts";
import type { CallMessage, ToWorker } from "./protocol.ts";

/** Answers calls, looking callees up only among nodes this runner already sent. */
export class CallDesk {
  readonly #runnerId: string;
  /** Modules of the remote nodes sent so far: where callees are looked up. */
  readonly #modules = new Set<string>();

  constructor(runnerId: string) {
    this.#runnerId = runnerId;
  }

  /** Notes a module whose node this runner sent: its nodes may be called. */
  remember(moduleUrl: string): void {
    this.#modules.add(moduleUrl);
  }

  /**
   * Runs a call as a child of its (open) request.
   *
   * @param message The call.
   * @param caller The request that made it, if it is still open.
   * @returns The reply for the worker.
   */
  async answer(message: CallMessage, caller: OpenRequest | undefined): Promise<ToWorker> {
    try {
      if (!caller) {
        throw new Error(
          `Cannot call node '${message.name}' as request ${message.id} is not open on runner ${this.#runnerId}`,
        );
      }
      const target = await this.#callee(caller.task.node, message.name, message.url);
      const args = decodeValue(message.args);
      if (!Array.isArray(args)) {
        throw new TypeError("Cannot call a node as its arguments are not a list");
      }
      const value = await caller.task.callChild(target, args);
      return { t: "reply", c: message.c, ok: true, v: encodeValue(value) };
    } catch (error) {
      return { t: "reply", c: message.c, ok: false, e: encodeError(error) };
    }
  }

  /**
   * The node a remote node calls, looked up among nodes this runner
   * already knows: a worker never makes the runner import a module of its
   * choosing.
   */
  async #callee(caller: Node, name: string, hint: string | null): Promise<Node> {
    const modules = [...this.#modules];
    if (hint !== null && this.#modules.has(hint)) modules.unshift(hint);
    for (const url of modules) {
      const ns: Record<string, unknown> = await import(url);
      const found = Object.values(ns).find((v) => isNode(v) && v.name === name);
      if (found) return found as Node;
    }
    throw new Error(
      `Cannot call node '${name}' from remote node '${caller.name}' as the runner knows no node of that name: it must be exported by ${caller.moduleUrl} or by the module of another remote node`,
    );
  }
}
