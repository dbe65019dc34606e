/**
 * An application's startup as states: a database migration on the event
 * loop, a CPU-heavy checksum in a worker on input computed lazily (the rows
 * the migration wrote), and a service in a dedicated worker that waits for
 * a gate and runs until shutdown.
 *
 * Run it with `deno task run state_machine [rounds]`.
 *
 * @module
 */
import { broadcast, call, currentSignal, Gate, node, State, StateManager } from "../mod.ts";
import { BroadcastEvent, RequestSuccess } from "../engine.ts";

/** An in-memory stand-in for a database. */
interface Database {
  version: number;
  rows: string[];
}

/** Applies one migration (a tracked child call of the migration state). */
export const applyMigration = node(
  async function applyMigration(db: Database, version: number) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 1000; i++) db.rows.push(`v${version}-row-${i}`);
    db.version = version;
    return db.rows.length;
  },
  { name: "applyMigration" },
);

/** Migrates the database to `target`, one version at a time. */
async function migrate(db: Database, target: number): Promise<number> {
  while (db.version < target) await call(applyMigration, db, db.version + 1);
  return db.version;
}

/** FNV-1a over the rows, `rounds` times: CPU-heavy and self-contained. */
function checksum(rounds: number, rows: string[]): string {
  let hash = 0x811c9dc5;
  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      for (let i = 0; i < row.length; i++) {
        hash = Math.imul(hash ^ row.charCodeAt(i), 0x01000193) >>> 0;
      }
    }
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * A service: beats every 20 ms until its signal aborts, then returns how
 * many beats it made. Runs in a worker, which imports it from this module.
 */
export const serve = node(async function serve(name: string) {
  const signal = currentSignal();
  let beats = 0;
  while (!signal.aborted) {
    broadcast({ service: name, beat: ++beats });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return beats;
}, { name: "serve", worker: import.meta.url });

/**
 * Runs the startup, waits for the checksum and the service's third beat,
 * then shuts down and prints what happened.
 *
 * @param args `[rounds]`: how many times the checksum goes over the rows.
 */
export async function main(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 200);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(
      `Cannot run the example as 'rounds' must be a positive integer: current value is ${args[0]}`,
    );
  }
  const beat = Promise.withResolvers<void>();
  const checksumDone = Promise.withResolvers<void>();
  let beats = 0;
  await StateManager.reset();
  const manager: StateManager = StateManager.instance({
    workers: { size: 2 },
    // Messages arrive after the manager recorded them, so the request that
    // just succeeded can be looked up by name.
    subscriber: (message) => {
      if (message instanceof BroadcastEvent) {
        if (++beats === 3) beat.resolve();
      }
      if (message instanceof RequestSuccess) {
        const { requestHeap, nodeHeap } = manager.info;
        const request = requestHeap.get(message.requestId);
        if (
          request?.sourceId === null &&
          nodeHeap.get(request.sinkId)?.name === "Checksum"
        ) checksumDone.resolve();
      }
    },
  });
  const db: Database = { version: 0, rows: [] };
  const ready = new Gate();
  manager.putStates([
    new State("DB Migration", migrate, { args: [db, 3] }),
    new State("Checksum", checksum, {
      isBlocking: true,
      args: [rounds],
      lazyArgs: [() => db.rows],
    }),
    new State("Serve", serve, {
      isBlocking: true,
      longRunning: true,
      args: ["api"],
      event: ready,
    }),
    new State("Open the gate", () => ready.set()),
  ]);
  const loop = manager.processStates();
  await Promise.all([beat.promise, checksumDone.promise]);
  await manager.signalStopping();
  await loop;

  const { requestHeap, nodeHeap } = manager.info;
  console.log("\nState                 Status      ms  Output");
  for (const request of requestHeap.insertionRequests) {
    const name = nodeHeap.get(request.sinkId)?.name ?? "?";
    const ms = Math.round(request.stamp.time - request.parent!.stamp.time);
    const children = requestHeap.children(request.sinkId)
      .map((c) => nodeHeap.get(c.sinkId)?.name);
    console.log(
      `${name.padEnd(21)} ${request.status.padEnd(9)} ${String(ms).padStart(4)}  ${
        String(request.output).slice(0, 40)
      }  calls: ${children.join(", ") || "none"}`,
    );
  }
  console.log(`The service beat ${beats} times before it was stopped.`);
  await StateManager.reset();
}
