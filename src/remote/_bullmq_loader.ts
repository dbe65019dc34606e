/**
 * Loads BullMQ and its Redis client when something first connects.
 *
 * The module's address is built at run time, so Deno does not see the
 * import when it builds a program's module graph: a program that never
 * uses `remote` neither downloads BullMQ, ioredis and their dependencies
 * (16 MB of npm packages, unpacked) nor sees their install warnings. The price
 * is Deno's rule for such imports: loading it needs read access to the
 * library's folder (or import access to the host that serves it, which a
 * program importing the library from there holds already).
 *
 * @module
 */
import type { Bullmq } from "./_bullmq_types.ts";

const MODULE = new URL("./_bullmq.ts", import.meta.url);

let loading: Promise<Bullmq> | null = null;

/**
 * BullMQ and its client, loaded once per process.
 *
 * @returns The library's handle on them.
 * @throws {Error} If the module cannot be loaded, with Deno's reason
 *   (which names the access it wants) and that error as `cause`.
 */
export function loadBullmq(): Promise<Bullmq> {
  loading ??= import(MODULE.href).then(
    (module: { bullmq: Bullmq }) => module.bullmq,
    (error: unknown) => {
      loading = null;
      // Deno's own message says which access it wants (read access to the
      // file, import access to its host, or the npm registry the first time).
      throw new Error(
        `Cannot load BullMQ for 'remote' from ${MODULE.href}: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    },
  );
  return loading;
}
