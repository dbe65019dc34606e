/**
 * A private redis-server for a test: a free loopback port, a temp dir, and
 * a stop that leaves nothing behind. A machine without redis-server fails
 * the test with one line naming the Debian package (never a skip).
 *
 * @module
 */

/** A running redis-server. */
export interface RedisServer extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its port. */
  readonly port: number;
  /** Stops the server (its data is gone) and starts a fresh one on the same port. */
  restart(): Promise<void>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/** Whether redis-server is on the PATH. */
export async function hasRedisServer(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

interface Launched {
  child: Deno.ChildProcess;
  /** Ends when its output has been read to the end. */
  drained: Promise<void>;
}

async function launch(port: number, dir: string): Promise<Launched> {
  const child = new Deno.Command("redis-server", {
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
      "--protected-mode",
      "yes",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  // Ready once it says so; its output is read to the end so the pipe closes.
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("Ready to accept connections")) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`redis-server on port ${port} exited before it was ready:\n${seen}`);
    }
    seen += value;
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return { child, drained };
}

/**
 * Starts a private redis-server.
 *
 * @returns The server; `await using` stops it.
 * @throws {Error} One line naming the Debian package when redis-server is missing.
 */
export async function startRedis(): Promise<RedisServer> {
  if (!(await hasRedisServer())) {
    throw new Error(
      "redis-server is not installed: install the Debian package redis-server (apt-get install redis-server)",
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "switchyard-redis-" });
  const port = freePort();
  let server = await launch(port, dir);
  const halt = async () => {
    try {
      server.child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await server.child.status;
    await server.drained;
  };
  let stopped = false;
  const handle: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart() {
      await halt();
      server = await launch(port, dir);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    [Symbol.asyncDispose]() {
      return this.stop();
    },
  };
  return handle;
}
