/**
 * The run indexes a visualizer keeps: a few at a time, the least recently
 * used dropped first, each followed while its log grows and rebuilt when
 * its files are replaced.
 *
 * @module
 */
import { join } from "node:path";
import { RunIndex } from "./run_index.ts";

/** Indexes kept at once. */
export const KEPT_INDEXES = 4;

/**
 * What identifies the files an index was built from: the event log's
 * identity (it only grows while it lives), else the snapshot's identity and
 * size.
 */
async function filesKey(dir: string, runId: string): Promise<string> {
  const stat = (name: string) => Deno.lstat(join(dir, name)).catch(() => null);
  const logInfo = await stat(`${runId}.events.jsonl`);
  if (logInfo) return `log ${logInfo.ino ?? 0}:${logInfo.birthtime?.getTime() ?? 0}`;
  const snapshot = await stat(`${runId}.json`);
  if (!snapshot) return "-";
  return `snapshot ${snapshot.ino ?? 0}:${snapshot.size}:${snapshot.mtime?.getTime() ?? 0}`;
}

/** The cache of one visualizer. */
export class RunIndexCache {
  #dir: string;
  // Invariant: map order is least to most recently used.
  #kept = new Map<string, { key: string; index: Promise<RunIndex> }>();

  /**
   * Makes an empty cache.
   *
   * @param dir The runs folder.
   */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * The index of a run, brought up to date with its log.
   *
   * @param runId A well-formed run id.
   * @returns The index.
   * @throws {RunNotFoundError} If there is no such run.
   */
  async get(runId: string): Promise<RunIndex> {
    const key = await filesKey(this.#dir, runId);
    let kept = this.#kept.get(runId);
    if (kept && kept.key !== key) kept = undefined;
    this.#kept.delete(runId);
    if (!kept) {
      kept = { key, index: RunIndex.open(this.#dir, runId) };
      kept.index.catch(() => this.#kept.delete(runId));
    }
    this.#kept.set(runId, kept);
    while (this.#kept.size > KEPT_INDEXES) {
      this.#kept.delete(this.#kept.keys().next().value!);
    }
    const index = await kept.index;
    await index.refresh();
    return index;
  }
}
