/**
 * The claim a resumer takes on a saved job: an exclusive lease file next to
 * the job's file (`<file>.lock`), so that a job is never resumed twice at
 * once, by two processes or by two loaded copies in one process.
 *
 * @module
 */
import { hostname } from "node:os";
import process from "node:process";
import { logger } from "../core/logging.ts";

const log = logger("flow");

/** Who holds a job's lease, as written in the lease file. */
export interface LeaseHolder {
  /** The job. */
  jobId: string;
  /** The holding process. */
  pid: number;
  /** The holding machine. */
  hostname: string;
  /** When it was claimed, in ms since the epoch. */
  claimedAt: number;
  /** Tells this claim from any other, so only its holder releases it. */
  token: string;
}

/**
 * Thrown by `Flow.resume()` for a job another resumer holds: another
 * process, or another loaded copy in this one.
 *
 * @example Two copies of one saved job
 * ```ts
 * import { Flow, JobClaimedError, JobState, Routine } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const gate = Promise.withResolvers<void>();
 * class Start extends Routine {
 *   constructor() {
 *     super();
 *     this.defineEvent("next");
 *     this.defineSlot("trigger", () => {
 *       const { flow, jobState } = this.getExecutionContext()!;
 *       this.emit("next");
 *       void flow.pause(jobState);
 *     });
 *   }
 * }
 * class Wait extends Routine {
 *   constructor() {
 *     super();
 *     this.defineSlot("input", () => gate.promise);
 *   }
 * }
 * const flow = new Flow({ flowId: "claims" });
 * flow.addRoutine(new Start(), "start");
 * flow.addRoutine(new Wait(), "wait");
 * flow.connect("start", "next", "wait", "input");
 * const job = await flow.execute("start");
 * await flow.waitForCompletion({ jobState: job });
 * const path = await Deno.makeTempFile();
 * await job.save(path);
 * const one = await JobState.load(path);
 * const two = await JobState.load(path);
 * await flow.resume(one);
 * await assert.rejects(() => flow.resume(two), JobClaimedError);
 * gate.resolve();
 * await flow.waitForCompletion({ jobState: one });
 * assert.equal(one.status, "completed");
 * await Deno.remove(path);
 * ```
 */
export class JobClaimedError extends Error {
  /** Always `"JobClaimedError"`. */
  override name: string = "JobClaimedError";
  /** The lease file. */
  readonly path: string;
  /** Who holds it (`null` if the lease file cannot be read). */
  readonly holder: LeaseHolder | null;

  /**
   * Makes a JobClaimedError.
   *
   * @param path The lease file.
   * @param holder Who holds it.
   * @param message What happened.
   */
  constructor(path: string, holder: LeaseHolder | null, message: string) {
    super(message);
    this.path = path;
    this.holder = holder;
  }
}

/** A lease this process holds; release it once the job stops running. */
export interface Lease {
  /** The lease file. */
  readonly path: string;
  /**
   * Removes the lease file if it is still this claim's. Synchronous, so a
   * job is released by the time anyone awaiting its end goes on. Never throws.
   */
  release(): void;
}

const ATTEMPTS = 5;
const UNKNOWN_HOST = "(unknown host)";

// Without permission to read the host name (Deno's --allow-sys), leases
// still work; only a dead holder's can then not be told dead.
function thisHost(): string {
  try {
    return hostname();
  } catch {
    return UNKNOWN_HOST;
  }
}

/**
 * Claims a job's lease: creates `<file>.lock` atomically (a complete file
 * or none), or takes it over when its holder is a dead process on this
 * machine.
 *
 * @param file The job's saved file.
 * @param jobId The job.
 * @returns The lease.
 * @throws {JobClaimedError} If a live process (this one included) holds it,
 *   or one on another machine.
 */
export async function claimLease(file: string, jobId: string): Promise<Lease> {
  const path = `${file}.lock`;
  const holder: LeaseHolder = {
    jobId,
    pid: Deno.pid,
    hostname: thisHost(),
    claimedAt: Date.now(),
    token: crypto.randomUUID(),
  };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await create(path, holder)) return lease(path, holder.token);
    const current = await readHolder(path);
    if (current === undefined) continue; // released meanwhile: try again
    if (current === null || !isDead(current)) throw claimed(path, jobId, current);
    if (await takeOver(path, current, holder)) return lease(path, holder.token);
  }
  throw claimed(path, jobId, (await readHolder(path)) ?? null);
}

function claimed(path: string, jobId: string, holder: LeaseHolder | null): JobClaimedError {
  const who = holder
    ? `pid ${holder.pid} on '${holder.hostname}' since ${new Date(holder.claimedAt).toISOString()}${
      holder.pid === Deno.pid && holder.hostname === thisHost() ? " (this process)" : ""
    }`
    : "an unreadable lease";
  return new JobClaimedError(
    path,
    holder,
    `Cannot resume job '${jobId}' as it must not be claimed by another resumer: '${path}' is held by ${who}`,
  );
}

/** Writes a file whole, or not at all if it exists. */
async function create(path: string, holder: LeaseHolder): Promise<boolean> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify(holder));
  try {
    // link() fails if the target exists: an atomic create of a complete file.
    await Deno.link(temp, path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

/** The holder, `undefined` if there is no lease file, `null` if it is unreadable. */
async function readHolder(path: string): Promise<LeaseHolder | null | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    return null;
  }
  return parseHolder(text);
}

function parseHolder(text: string): LeaseHolder | null {
  try {
    const value = JSON.parse(text);
    const ok = typeof value?.pid === "number" && typeof value.hostname === "string" &&
      typeof value.token === "string" && typeof value.claimedAt === "number";
    return ok ? value : null;
  } catch {
    return null;
  }
}

// Only a process on this machine can be known dead; when in doubt (another
// machine, no permission to ask) the holder counts as alive.
function isDead(holder: LeaseHolder): boolean {
  if (holder.hostname !== thisHost() || holder.hostname === UNKNOWN_HOST) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as { code?: unknown }).code === "ESRCH";
  }
}

/**
 * Replaces a dead holder's lease with ours. Racers for one dead lease
 * first create a marker named after its token: one succeeds; it checks
 * the lease is still the dead one, renames its own over it (atomic: the
 * lease file never goes missing, so no plain create slips in), and only
 * then removes the marker, so a racer that creates the marker later finds
 * the new lease and gives up.
 *
 * @returns Whether this claim now holds the lease.
 */
async function takeOver(path: string, dead: LeaseHolder, holder: LeaseHolder): Promise<boolean> {
  const marker = `${path}.${dead.token}.takeover`;
  if (!await create(marker, holder)) {
    // Another racer is at it; its marker is void if it died meanwhile.
    const taker = await readHolder(marker);
    if (taker && isDead(taker)) await Deno.remove(marker).catch(() => {});
    return false;
  }
  try {
    if ((await readHolder(path))?.token !== dead.token) return false;
    const temp = `${path}.${holder.token}.tmp`;
    await Deno.writeTextFile(temp, JSON.stringify(holder));
    await Deno.rename(temp, path);
    return true;
  } finally {
    await Deno.remove(marker).catch(() => {});
  }
}

function lease(path: string, token: string): Lease {
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      try {
        const holder = parseHolder(Deno.readTextFileSync(path));
        if (holder?.token === token) Deno.removeSync(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return;
        // A lease left behind is taken over once this process is gone.
        log.warn("Could not release job lease {path}: {error}", { path, error });
      }
    },
  };
}
