/**
 * `switchyard worker`: a worker process serving one queue until SIGINT or
 * SIGTERM.
 *
 * @module
 */
import { RemoteWorker, type RemoteWorkerOptions } from "./remote_worker.ts";
import { hidePassword } from "./errors.ts";

/** Where the command writes. */
export interface WorkerCommandOutput {
  /** Standard output. */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
}

/**
 * Runs a worker process: starts serving, waits for `stop`, then closes
 * gracefully (running jobs finish and report).
 *
 * @param options The worker's options.
 * @param output Where to write.
 * @param stop Resolves when the worker should stop.
 * @returns The exit code: 0 after a clean stop, 2 for bad options or an
 *   unreachable Redis.
 */
export async function runWorkerCommand(
  options: RemoteWorkerOptions,
  output: WorkerCommandOutput,
  stop: Promise<void>,
): Promise<number> {
  let worker: RemoteWorker;
  try {
    worker = new RemoteWorker(options);
  } catch (error) {
    output.err(`${(error as Error).message}\n`);
    return 2;
  }
  try {
    await worker.start();
  } catch (error) {
    await worker.close().catch(() => {});
    output.err(`${(error as Error).message}\n`);
    return 2;
  }
  const { host, pid } = worker.place;
  output.err(
    `Worker ${worker.id} (${host}/${pid}) serving queue '${options.queue}' at ${
      hidePassword(options.redis)
    } (Ctrl-C to stop)\n`,
  );
  await stop;
  output.err(`Worker ${worker.id} stopping: finishing running jobs\n`);
  await worker.close();
  output.err(`Worker ${worker.id} stopped after ${worker.processed} jobs\n`);
  return 0;
}
