/**
 * The AsyncLocalStorage that tells running code which task it belongs to.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** What the storage holds: the running task's scope (see `_scope.ts`). */
export interface ScopeLike {
  /** The node instance id of the running task. */
  readonly nodeId: string;
}

const STORAGE_KEY = Symbol.for("switchyard.scopeStorage");

/**
 * The scope of the node running in the current async context. It lives on
 * `globalThis` under a registered symbol, so every copy of this module in a
 * process (say the CLI's and one a user module imports by another URL)
 * sees the same scopes and `call()` finds its caller whichever copy it
 * comes from.
 */
export const scopeStorage: AsyncLocalStorage<ScopeLike> =
  ((globalThis as Record<symbol, unknown>)[STORAGE_KEY] ??= new AsyncLocalStorage<
    ScopeLike
  >()) as AsyncLocalStorage<ScopeLike>;
