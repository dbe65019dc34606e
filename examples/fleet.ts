/**
 * The flagship pipeline on a fleet: a private Redis, two `switchyard
 * worker` processes, and the pipeline with its Analyse state on the
 * `fleet` queue. Analyse runs on one worker process and sends each batch
 * of files back through the runner to the queue, so the batches spread over
 * both processes; the run prints where each task ran.
 *
 * ```sh
 * deno task run fleet            # this repository
 * deno task run fleet <dir>      # another folder
 * ```
 *
 * Needs `redis-server` on the PATH (Debian package `redis-server`). Against
 * a Redis of your own, start workers with
 * `deno task switchyard worker --redis redis://127.0.0.1:6379 --queue fleet --module examples/`
 * and give the runner `remote: { redis: "redis://127.0.0.1:6379" }`.
 *
 * @module
 */
import { join } from "node:path";
import { call, type ExecutionInfo, node, type RequestRecord, StateManager } from "../mod.ts";
import type { RemoteAttemptRecord } from "../engine.ts";
import { type FileFacts, measureBatch, pipelineStates, REPOSITORY_ROOT } from "./pipeline.ts";

const BATCH_SIZE = 16;
const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;
const EXAMPLES = new URL(".", import.meta.url).pathname;

/** A batch of files hashed and measured on a worker process of the fleet. */
export const fleetMeasure = node(
  async function fleetMeasure(root: string, paths: string[]): Promise<FileFacts[]> {
    return await measureBatch.fn(root, paths);
  },
  { worker: import.meta.url, queue: "fleet", retries: 1 },
);

/** The Analyse state on the fleet: one worker process splits, the fleet measures. */
export const fleetAnalyse = node(
  async function fleetAnalyse(root: string, files: string[]): Promise<FileFacts[]> {
    const batches: string[][] = [];
    for (let i = 0; i < files.length; i += BATCH_SIZE) {
      batches.push(files.slice(i, i + BATCH_SIZE));
    }
    const measured = await Promise.all(batches.map((batch) => call(fleetMeasure, root, batch)));
    return measured.flat();
  },
  { worker: import.meta.url, queue: "fleet" },
);

/**
 * Starts Redis and two workers, runs the pipeline on them, prints where each
 * task ran, and stops everything.
 *
 * @param args `[dir]`: the folder to look at (default the repository).
 */
export async function main(args: string[]): Promise<void> {
  const root = args[0] ?? REPOSITORY_ROOT;
  const dir = await Deno.makeTempDir({ prefix: "switchyard-fleet-" });
  const stops: (() => Promise<void>)[] = [];
  try {
    const redis = await startRedis(dir);
    stops.push(redis.stop);
    console.log(`Redis at ${redis.url}`);
    for (let i = 0; i < 2; i++) {
      const worker = await startWorker(redis.url);
      stops.push(worker.stop);
      console.log(`Worker process ${worker.pid} serves queue 'fleet'`);
    }

    const manager = StateManager.instance({
      remote: { redis: redis.url },
      stateDir: join(dir, "runs"),
      endOnError: true,
      loggingSetting: "QUIET",
    });
    manager.putStates(pipelineStates(root, fleetAnalyse));
    const loop = manager.processStates();
    await manager.onIdle();
    await manager.signalStopping();
    await loop;
    printPlaces(manager.info);
    await StateManager.reset();
  } finally {
    for (const stop of stops.reverse()) await stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function printPlaces(info: ExecutionInfo): void {
  console.log("\nWhere each task ran:");
  const counts = new Map<string, number>();
  const nameOf = (r: RequestRecord) => info.nodeHeap.get(r.sinkId)?.name;
  for (const request of info.requestHeap.values()) {
    const name = nameOf(request);
    if (name !== "fleetAnalyse" && name !== "fleetMeasure") continue;
    const attempts = (request.attempts ?? []) as RemoteAttemptRecord[];
    const size = name === "fleetMeasure" ? ` (${(request.input[1] as string[]).length} files)` : "";
    const places = attempts.map((a) => `attempt ${a.attempt} on ${a.host}/${a.pid} ${a.outcome}`);
    console.log(`  ${name}${size}: ${places.join(", ")}`);
    const last = attempts.at(-1);
    if (last) {
      counts.set(`${last.host}/${last.pid}`, (counts.get(`${last.host}/${last.pid}`) ?? 0) + 1);
    }
  }
  console.log(`Tasks per worker process: ${[...counts].map(([p, n]) => `${p}: ${n}`).join(", ")}`);
}

async function startRedis(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch {
    throw new Error(
      "Cannot run the fleet example as redis-server is not installed: install the Debian package redis-server",
    );
  }
  await waitFor(child.stdout, "Ready to accept connections");
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function startWorker(redis: string): Promise<{ pid: number; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-worker-options",
      CLI,
      "worker",
      "--redis",
      redis,
      "--queue",
      "fleet",
      "--concurrency",
      "2",
      "--module",
      EXAMPLES,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await waitFor(child.stderr, "serving queue");
  return {
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** Reads a stream until a line contains `text`; the rest is drained in the background. */
async function waitFor(stream: ReadableStream<Uint8Array>, text: string): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the process ended before saying '${text}':\n${seen}`);
    seen += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
}
