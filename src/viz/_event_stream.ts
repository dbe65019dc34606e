/**
 * Server-sent events that follow an event log from a line boundary: one
 * `message` per complete line (its `id` the offset after it), a comment as
 * a heartbeat while nothing happens, and an `end` event once no process
 * writes the log and nothing is left. The log is read a chunk at a time and
 * only when the client has taken what was sent (the stream's queue is
 * bounded), so a slow client holds one chunk, not the rest of the log.
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import { isEventLogActive } from "../persistence/event_log_reader.ts";
import { CHUNK_BYTES, readLines } from "./_lines.ts";

const log = logger("viz");
const DATA = new TextEncoder().encode("data: ");

/** How an event stream polls and beats. */
export interface EventStreamTiming {
  /** How often the log is polled for growth, in ms. */
  poll: number;
  /** How long without a line before a heartbeat comment, in ms. */
  heartbeat: number;
}

/**
 * A stream of server-sent events over the log at `path` from `from`.
 *
 * @param path The event log.
 * @param from A line boundary.
 * @param timing Poll and heartbeat intervals.
 * @param onClose Called once when the stream ends or is cancelled.
 * @returns The stream, a function that ends it, and how far into the log
 *   it has read.
 */
export function eventStream(
  path: string,
  from: number,
  timing: EventStreamTiming,
  onClose: () => void,
): { stream: ReadableStream<Uint8Array>; close: () => void; offset: () => number } {
  const encoder = new TextEncoder();
  let offset = from;
  let closed = false;
  let lastSent = Date.now();
  let wake: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    wake?.();
    try {
      controllerRef?.close();
    } catch { /* already closed or errored */ }
    onClose();
  };
  const sleep = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, timing.poll);
    }).finally(() => wake = null);

  /** Sends up to about one chunk of complete lines; false when none were new. */
  const sendSome = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    // One buffer per batch: each line becomes `data: <line>\nid: <end>\n\n`.
    let out = new Uint8Array(CHUNK_BYTES + 1024);
    let used = 0;
    const put = (bytes: Uint8Array) => {
      if (used + bytes.length > out.length) {
        const bigger = new Uint8Array(Math.max(out.length * 2, used + bytes.length));
        bigger.set(out.subarray(0, used));
        out = bigger;
      }
      out.set(bytes, used);
      used += bytes.length;
    };
    for await (const line of readLines(path, offset)) {
      offset = line.end;
      if (line.bytes.length === 0) continue;
      put(DATA);
      const at = used;
      put(line.bytes);
      // A stray CR would split the SSE field; the JSON never holds one raw.
      const written = out.subarray(at, used);
      for (let i = written.indexOf(13); i >= 0; i = written.indexOf(13, i + 1)) written[i] = 32;
      put(encoder.encode(`\nid: ${offset}\n\n`));
      if (used >= CHUNK_BYTES) break;
    }
    if (used === 0) return false;
    controller.enqueue(out.subarray(0, used));
    lastSent = Date.now();
    return true;
  };

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controllerRef = controller;
      controller.enqueue(encoder.encode("retry: 1000\n\n"));
    },
    // Called only while the queue is below its high-water mark: the log is
    // read no faster than the client takes it.
    async pull(controller) {
      while (!closed) {
        try {
          const active = await isEventLogActive(path);
          if (await sendSome(controller)) return;
          if (!active) {
            controller.enqueue(encoder.encode("event: end\ndata: {}\n\n"));
            close();
            return;
          }
          if (Date.now() - lastSent >= timing.heartbeat) {
            controller.enqueue(encoder.encode(": still following\n\n"));
            lastSent = Date.now();
            return;
          }
        } catch (error) {
          log.warn("Event stream of {path} stopped: {error}", { path, error });
          close();
          return;
        }
        await sleep();
      }
    },
    cancel() {
      close();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: CHUNK_BYTES }));
  return { stream, close, offset: () => offset };
}
