/**
 * Where a worker process finds the node a job names: only in modules its
 * allow-list names, imported once, each exported node wrapped once.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { describeValue } from "../core/describe.ts";
import { isNode, Node } from "../core/node.ts";
import { LoadError } from "./_job_task.ts";
import type { RemoteJobData } from "./protocol.ts";

/** Finds jobs' nodes in allowed modules. */
export class NodeLoader {
  readonly allowed: readonly string[];
  // Invariant: #modules holds one import per module URL, dropped again
  // when it failed (so a fixed module can load later); #nodes one node per
  // module URL and export name, made from a successful import.
  readonly #modules = new Map<string, Promise<Record<string, unknown>>>();
  readonly #nodes = new Map<string, Node>();

  /**
   * @param modules Allowed module URLs or paths (a trailing `/` allows a folder);
   *   default: the working directory.
   */
  constructor(modules: readonly string[] | undefined) {
    const base = pathToFileURL(Deno.cwd() + "/").href;
    this.allowed = (modules ?? [base]).map((m) =>
      URL.canParse(m) && /^[a-z][a-z0-9+.-]+:/i.test(m) && !/^[a-z]:[\\/]/i.test(m)
        ? m
        : new URL(m, base).href
    );
  }

  /**
   * Checks that every allowed local module or folder exists, so a mistyped
   * `--module` stops the worker at start instead of failing every job.
   *
   * @throws {TypeError} Naming the option's index and the path.
   */
  async checkLocal(): Promise<void> {
    for (const [i, url] of this.allowed.entries()) {
      if (!url.startsWith("file:")) continue;
      const folder = url.endsWith("/");
      let found: "file" | "folder" | "nothing" = "nothing";
      try {
        found = (await Deno.stat(new URL(url))).isDirectory ? "folder" : "file";
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      if (found === (folder ? "folder" : "file")) continue;
      const want = folder
        ? "an existing folder"
        : found === "folder"
        ? "a module file (a folder takes a trailing '/')"
        : "an existing module file";
      throw new TypeError(
        `Cannot start a worker as 'modules[${i}]' must be ${want}: current value is ${
          describeValue(decodeURIComponent(new URL(url).pathname))
        }`,
      );
    }
  }

  /**
   * The job's node, ready for the local pool: retries and timeouts are the
   * runner's, so the pool runs one attempt.
   *
   * @throws {LoadError} (as a rejection) Naming the module and export when
   *   the module is not allowed, cannot be imported or does not export a node.
   */
  async load(data: RemoteJobData): Promise<Node> {
    const url = data.module;
    const key = `${data.export}\n${url}`;
    const known = this.#nodes.get(key);
    if (known) return known;
    if (!this.allowed.some((a) => a.endsWith("/") ? url.startsWith(a) : url === a)) {
      throw new LoadError(
        `Cannot run node '${data.name}' as module ${url} is not allowed on this worker (allowed: ${
          this.allowed.join(", ")
        }): start the worker with --module ${url}`,
      );
    }
    let ns = this.#modules.get(url);
    if (!ns) {
      ns = import(url);
      this.#modules.set(url, ns);
    }
    let exports: Record<string, unknown>;
    try {
      exports = await ns;
    } catch (error) {
      this.#modules.delete(url);
      throw new LoadError(
        `Cannot run export '${data.export}' of module ${url} as the module could not be imported: ${
          (error as Error)?.message ?? String(error)
        }`,
      );
    }
    const found = Object.hasOwn(exports, data.export) ? exports[data.export] : undefined;
    if (!isNode(found)) {
      throw new LoadError(
        `Cannot run export '${data.export}' of module ${url} as it is not a node: current value is ${
          found === undefined ? "undefined (no such export)" : describeValue(found)
        }`,
      );
    }
    const loaded = new Node(found.fn, {
      ...found.options,
      name: found.name,
      worker: found.moduleUrl ?? url,
      retries: 0,
      timeout: undefined,
      queue: undefined,
    });
    this.#nodes.set(key, loaded);
    return loaded;
  }
}
