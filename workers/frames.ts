/**
 * Messages between a process-isolated node's child process and its parent:
 * each is one length-prefixed frame (4 bytes, big-endian, then the value
 * in V8's structured-clone format), so they cross a pipe with the same
 * values as a Web Worker's `postMessage`.
 *
 * @module
 */
import { deserialize, serialize } from "node:v8";

/** The largest frame either side accepts (bytes). */
export const MAX_FRAME = 1 << 30;

/**
 * One value as a frame.
 *
 * @param value Anything structured clone can copy.
 * @returns The frame.
 * @throws {Error} (a `DataCloneError`) If the value cannot be cloned.
 */
export function encodeFrame(value: unknown): Uint8Array {
  const body = serialize(value);
  const frame = new Uint8Array(4 + body.byteLength);
  new DataView(frame.buffer).setUint32(0, body.byteLength);
  frame.set(body, 4);
  return frame;
}

/** Reassembles frames from the chunks a pipe delivers. */
export class FrameReader {
  #buffer: Uint8Array = new Uint8Array(0);

  /**
   * Adds a chunk and returns the values of the frames now complete.
   *
   * @param chunk Bytes read from the pipe.
   * @returns The decoded values, in order.
   * @throws {RangeError} If a frame announces more than {@linkcode MAX_FRAME} bytes.
   * @throws {Error} If a frame does not decode.
   */
  push(chunk: Uint8Array): unknown[] {
    let buffer = chunk;
    if (this.#buffer.byteLength > 0) {
      buffer = new Uint8Array(this.#buffer.byteLength + chunk.byteLength);
      buffer.set(this.#buffer);
      buffer.set(chunk, this.#buffer.byteLength);
    }
    const values: unknown[] = [];
    let offset = 0;
    while (buffer.byteLength - offset >= 4) {
      const view = new DataView(buffer.buffer, buffer.byteOffset + offset, 4);
      const length = view.getUint32(0);
      if (length > MAX_FRAME) {
        throw new RangeError(`Cannot read a frame of ${length} bytes: the limit is ${MAX_FRAME}`);
      }
      if (buffer.byteLength - offset - 4 < length) break;
      values.push(deserialize(buffer.subarray(offset + 4, offset + 4 + length)));
      offset += 4 + length;
    }
    this.#buffer = buffer.slice(offset);
    return values;
  }
}
