/**
 * Nodes: named functions the runtime runs and tracks.
 *
 * @module
 */
import { z } from "npm:zod@^4.1.0";
import { describeValue } from "./describe.ts";
import { describeIssues } from "./validation.ts";

/**
 * Where a node runs: on the event loop, in a Web Worker, or on a worker
 * process reached through a job queue (which falls back to a local Web
 * Worker when the runner has no `remote` configuration).
 */
export type ExecutionConfigurations = "async" | "worker" | "remote";

/**
 * Deno permissions for worker code: `"inherit"`, `"none"`, or an object of
 * per-permission settings as in `Deno.PermissionOptionsObject`.
 */
export type WorkerPermissions = "inherit" | "none" | Record<string, unknown>;

/** Options of {@linkcode node}. */
export interface NodeOptions {
  /** The node's name; defaults to the function's name. */
  name?: string;
  /**
   * Run in a Web Worker: `true` ships the (self-contained) function as
   * source; a module URL (usually `import.meta.url`) makes the worker import
   * that module and find the exported node by name.
   */
  worker?: boolean | string | URL;
  /** Per-call time limit in ms: the call fails with `NodeTimeoutError`. */
  timeout?: number;
  /**
   * Extra attempts after a failure (not after a cancellation or timeout).
   * Every attempt is recorded on the request (`attempts`).
   *
   * @default 0
   */
  retries?: number;
  /**
   * Wait in ms before the first retry; each later wait is multiplied by
   * `retryBackoff`, capped at `retryMaxDelay`, and shortened by up to
   * `retryJitter` of it at random. Waits are timers and end at once on
   * cancellation.
   *
   * @default 100
   */
  retryDelay?: number;
  /**
   * Factor applied to the wait after each failed retry (1 = constant).
   *
   * @default 2
   */
  retryBackoff?: number;
  /**
   * The part of each wait, from 0 to 1, removed at random so that many
   * retries do not fire together (0 = exact waits).
   *
   * @default 0.2
   */
  retryJitter?: number;
  /**
   * The longest wait between attempts in ms.
   *
   * @default 30000
   */
  retryMaxDelay?: number;
  /** Worker nodes: Deno permissions for the worker, narrower than the host's. */
  permissions?: WorkerPermissions;
  /** Worker nodes: transfer `ArrayBuffer` arguments instead of copying them. */
  transfer?: boolean;
  /**
   * Worker nodes: where the code runs. `"worker"`: a Web Worker of the
   * shared pool (cheap; a thread of this process). `"process"`: a child
   * `deno` process with its own heap limit (`heapLimit`) and permissions,
   * killed with SIGKILL when stopped, for code that may exhaust memory or
   * never return to its event loop.
   * @default "worker"
   */
  isolation?: "worker" | "process";
  /**
   * Worker nodes with `isolation: "process"`: the child's V8 heap limit
   * (`--max-old-space-size`, in MB).
   * @default 512
   */
  heapLimit?: number;
  /**
   * Worker nodes defined with a module URL: the name of the job queue that
   * `switchyard worker --queue <name>` processes serve. With `remote` in the
   * runner's configuration each call becomes a job on that queue (its
   * `retries` become the job's attempts); without it the node runs in the
   * local worker pool, so the same code runs on one machine and on a fleet.
   * Letters, digits, `_`, `-` and `.` only.
   *
   * @default undefined (the node never leaves the runner's process)
   */
  queue?: string;
}

/** What a queue name may hold: BullMQ keys forbid `:` and blanks. */
export const QUEUE_NAME_PATTERN: RegExp = /^[A-Za-z0-9_.-]{1,100}$/;

const NODE_BRAND: unique symbol = Symbol.for("switchyard.node") as never;

const optionsSchema = z.object({
  name: z.string().min(1, "a non-empty string").optional(),
  worker: z.union([z.boolean(), z.string().min(1), z.instanceof(URL)])
    .optional(),
  timeout: z.number().positive().finite().optional(),
  retries: z.number().int().nonnegative().optional(),
  retryDelay: z.number().nonnegative().finite().optional(),
  retryBackoff: z.number().min(1).finite().optional(),
  retryJitter: z.number().min(0).max(1).optional(),
  retryMaxDelay: z.number().nonnegative().finite().optional(),
  permissions: z.union([
    z.enum(["inherit", "none"]),
    z.record(z.string(), z.unknown()),
  ])
    .optional(),
  transfer: z.boolean().optional(),
  queue: z.string().regex(
    QUEUE_NAME_PATTERN,
    "1 to 100 letters, digits, '_', '-' or '.'",
  ).optional(),
  isolation: z.enum(["worker", "process"]).optional(),
  heapLimit: z.number().int().min(16, "an integer >= 16 (MB)").optional(),
}).strict().refine(
  (options) => options.worker || (!options.isolation && options.heapLimit === undefined),
  {
    path: ["isolation"],
    message: "set only on a worker node ({ worker: true } or a module URL), as is 'heapLimit'",
  },
);

/**
 * A function the runtime can run and track. Create one with
 * {@linkcode node}; run it with `call()` or `Runner.run()`.
 *
 * @typeParam A The argument types.
 * @typeParam R The return type.
 */
export class Node<A extends unknown[] = unknown[], R = unknown> {
  /** The node's name, used in logs, records and the visualizer. */
  readonly name: string;
  /** The function it runs. */
  readonly fn: (...args: A) => R | Promise<R>;
  /** Where it runs. */
  readonly mode: ExecutionConfigurations;
  /** The module a worker imports it from, when defined with a module URL. */
  readonly moduleUrl: string | null;
  /** Its options, validated. */
  readonly options: Readonly<NodeOptions>;
  /** Marks node objects, even across copies of this module. */
  readonly [NODE_BRAND] = true;

  /**

   * Makes a Node.

   *
   * @param fn The function.
   * @param options The options, validated by {@linkcode node}.
   */
  constructor(fn: (...args: A) => R | Promise<R>, options: NodeOptions) {
    this.fn = fn;
    this.name = options.name ?? fn.name;
    this.options = options;
    this.mode = options.queue !== undefined ? "remote" : options.worker ? "worker" : "async";
    this.moduleUrl = typeof options.worker === "string" || options.worker instanceof URL
      ? String(options.worker)
      : null;
    if (this.moduleUrl !== null) remember(this as unknown as Node);
  }
}

// Module worker nodes made on this thread, by module URL and name: the only
// nodes named by URL that a worker may ask this thread to call. Weak, so a
// node made in a loop is not kept alive by the registry.
const moduleNodes = new Map<string, Map<string, WeakRef<Node>>>();

function remember(made: Node): void {
  let byName = moduleNodes.get(made.moduleUrl!);
  if (!byName) moduleNodes.set(made.moduleUrl!, byName = new Map());
  byName.set(made.name, new WeakRef(made));
}

/**
 * The module worker node this thread made with this module URL and name
 * (the latest, if several), if it is still alive. A lookup only: nothing
 * is imported.
 *
 * @param url The module URL the node was defined with.
 * @param name The node's name.
 * @returns The node, or `undefined`.
 *
 * @example Finding a module worker node
 * ```ts
 * import { knownModuleNode, node } from "./node.ts";
 * import assert from "node:assert/strict";
 *
 * const square = node((x: number) => x * x, { name: "square", worker: import.meta.url });
 * assert.equal(knownModuleNode(import.meta.url, "square"), square);
 * assert.equal(knownModuleNode("data:text/javascript,", "square"), undefined);
 * ```
 */
export function knownModuleNode(url: string, name: string): Node | undefined {
  return moduleNodes.get(url)?.get(name)?.deref();
}

/** A node of any signature, for APIs that accept every node. */
// deno-lint-ignore no-explicit-any
export type AnyNode = Node<any, any>;

/**
 * Whether a value is a node (also one made by another copy of this module).
 *
 * @param value Anything.
 * @returns `true` for nodes.
 */
export function isNode(value: unknown): value is Node<unknown[], unknown> {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[NODE_BRAND] === true;
}

/**
 * Makes a node from a function.
 *
 * @param fn The function; sync or async.
 * @param options Name, worker placement, timeout, retries, permissions.
 * @returns The node.
 * @throws {TypeError} If `fn` is not a function, the node has no name, or an
 *   option is invalid.
 *
 * @example An async node
 * ```ts
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const greet = node(async (who: string) => `hello ${who}`, { name: "greet" });
 * await using runner = new Runner();
 * assert.equal((await runner.run(greet, "you")).answer, "hello you");
 * ```
 */
export function node<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
  options: NodeOptions = {},
): Node<A, Awaited<R>> {
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot create a node as 'fn' must be a function: current value is ${describeValue(fn)}`,
    );
  }
  const given = (options as { name?: unknown } | null)?.name;
  const name = typeof given === "string" && given !== "" ? given : fn.name;
  const subject = name ? `node '${name}'` : "a node";
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new TypeError(`Cannot create ${subject} as ${describeIssues(parsed.error, options)}`);
  }
  if (
    options.queue !== undefined && typeof options.worker !== "string" &&
    !(options.worker instanceof URL)
  ) {
    throw new TypeError(
      `Cannot create ${subject} as 'worker' must be a module URL (usually import.meta.url) for a node with a 'queue': current value is ${
        describeValue(options.worker, 60)
      }`,
    );
  }
  if (!(options.name ?? fn.name)) {
    throw new TypeError(
      "Cannot create a node as 'name' must be given for an anonymous function: current value is undefined",
    );
  }
  return new Node(fn as (...args: A) => Awaited<R> | Promise<Awaited<R>>, {
    ...options,
  });
}
