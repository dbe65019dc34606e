/**
 * `switchyard worker` processes for the remote tests and benchmarks.
 *
 * @module
 */

const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/** A running worker process. */
export interface WorkerProcess extends AsyncDisposable {
  /** Its process id. */
  readonly pid: number;
  /** Its standard error so far. */
  readonly stderr: () => string;
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number>;
  /** SIGKILL, then waits. */
  kill(): Promise<void>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
}

/** Options of {@linkcode startWorker}. */
export interface StartWorkerOptions {
  redis: string;
  queue: string;
  concurrency?: number;
  /** Extra arguments. */
  args?: string[];
  /** Short lock and stall times, so a dead worker's job moves on in about a second. */
  fastStall?: boolean;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/**
 * Starts `switchyard worker` and waits until it serves its queue.
 *
 * @param options Redis, queue, concurrency, extra arguments.
 * @returns The process.
 */
export async function startWorker(options: StartWorkerOptions): Promise<WorkerProcess> {
  const args = [
    "run",
    "-A",
    "--unstable-worker-options",
    CLI,
    "worker",
    "--redis",
    options.redis,
    "--queue",
    options.queue,
    "--concurrency",
    String(options.concurrency ?? 2),
    ...(options.fastStall ? ["--lock-duration", "1000", "--stalled-interval", "500"] : []),
    ...(options.args ?? []),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  let text = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const ready = Promise.withResolvers<void>();
  const drained = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      if (text.includes("serving queue")) ready.resolve();
    }
    ready.reject(new Error(`worker exited before serving:\n${text}`));
  })();
  const exited = child.status.then(async (s) => {
    await drained;
    return s.code;
  });
  await ready.promise;
  const handle: WorkerProcess = {
    pid: child.pid,
    stderr: () => text,
    exited,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Gone already.
      }
      return await exited;
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone already.
      }
      await exited;
    },
    async [Symbol.asyncDispose]() {
      await handle.kill();
    },
  };
  return handle;
}
