/**
 * The visualizer's front door: a TCP listener on 127.0.0.1 that caps the
 * number of open connections and closes any that sit idle, passing bytes
 * through to the HTTP server behind it (which listens on a private Unix
 * socket, or on another loopback port where those are missing).
 *
 * @module
 */

/** Limits of the front door. */
export interface FrontLimits {
  /** Most connections open at once; more are answered 503 and closed. */
  maxConnections: number;
  /** A connection with no byte either way for this long (ms) is closed. */
  idleTimeout: number;
  /**
   * How long (ms) a request may wait for the first byte of its answer
   * before the connection is closed.
   */
  answerTimeout: number;
}

/** A running front door. */
export interface Front {
  /** The port it listens on. */
  readonly port: number;
  /** Connections open now. */
  readonly open: () => number;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

const BUSY = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n" +
    "retry-after: 5\r\nconnection: close\r\ncontent-length: 83\r\n\r\n" +
    '{"error":"Cannot serve as the visualizer has too many open connections; try again"}',
);

/**
 * Listens on `127.0.0.1:port` and forwards each connection to `connect()`.
 *
 * @param port The port (0 picks one).
 * @param connect Opens a connection to the server behind.
 * @param limits The connection cap and the idle timeout.
 * @returns The running front door.
 */
export function openFront(
  port: number,
  connect: () => Promise<Deno.Conn>,
  limits: FrontLimits,
): Front {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  // Invariant: every accepted connection is in `live` until both of its
  // directions stopped and both ends were closed.
  const live = new Map<Deno.Conn, { last: number; waiting: boolean; close: () => void }>();
  const piping = new Set<Promise<void>>();

  const serve = async (client: Deno.Conn) => {
    if (live.size >= limits.maxConnections) {
      try {
        await client.write(BUSY);
      } catch { /* the client left */ }
      client.close();
      return;
    }
    const state = { last: Date.now(), waiting: false, close: () => {} };
    live.set(client, state);
    let upstream: Deno.Conn | null = null;
    let closed = false;
    state.close = () => {
      if (closed) return;
      closed = true;
      for (const conn of [client, upstream]) {
        try {
          conn?.close();
        } catch { /* already closed */ }
      }
    };
    try {
      upstream = await connect();
      if (closed) return state.close();
      // `waiting`: the client spoke last, so an answer is being prepared.
      const touch = (fromClient: boolean) =>
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            state.last = Date.now();
            state.waiting = fromClient;
            controller.enqueue(chunk);
          },
        });
      const up = upstream;
      // The client may half-close after its request: the answer still
      // flows back, and the connection ends when the server's side does.
      const request = client.readable.pipeThrough(touch(true))
        .pipeTo(up.writable, { preventClose: true })
        .then(() => up.closeWrite(), () => state.close())
        .catch(() => {});
      await up.readable.pipeThrough(touch(false))
        .pipeTo(client.writable, { preventClose: true })
        .catch(() => {});
      state.close();
      await request;
    } catch {
      // the server behind refused, or a side reset: drop the connection
    } finally {
      state.close();
      live.delete(client);
    }
  };

  const accepting = (async () => {
    for await (const client of listener) {
      const p = serve(client);
      piping.add(p);
      p.finally(() => piping.delete(p));
    }
  })().catch(() => {});

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const state of live.values()) {
      const limit = state.waiting ? limits.answerTimeout : limits.idleTimeout;
      if (now - state.last > limit) state.close();
    }
  }, Math.max(10, Math.min(1000, limits.idleTimeout / 4)));

  return {
    port: (listener.addr as Deno.NetAddr).port,
    open: () => live.size,
    async close() {
      clearInterval(sweep);
      try {
        listener.close();
      } catch { /* closed */ }
      await accepting;
      for (const state of live.values()) state.close();
      await Promise.allSettled([...piping]);
    },
  };
}
