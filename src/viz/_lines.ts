/**
 * Reading an append-only JSON-lines file in bounded chunks: only complete
 * lines are handed out, a torn last line is left for the next read.
 *
 * @module
 */

/** Bytes read from the file at a time. */
export const CHUNK_BYTES = 64 * 1024;

/** One complete line and where it lies in the file. */
export interface Line {
  /** The line's bytes, without its newline (a view valid until the next line). */
  bytes: Uint8Array;
  /** Byte offset of its first byte. */
  start: number;
  /** Byte offset just after its newline. */
  end: number;
}

/**
 * Yields the complete lines of `path` from byte `from` up to byte `to`
 * (default: the size at the call). The buffer holds one chunk, or one line
 * when a line is longer than a chunk.
 *
 * @param path The file.
 * @param from A line boundary to start at.
 * @param to Where to stop reading.
 */
export async function* readLines(
  path: string,
  from: number,
  to?: number,
): AsyncGenerator<Line> {
  using file = await Deno.open(path, { read: true });
  const size = to ?? (await file.stat()).size;
  let offset = from;
  await file.seek(offset, Deno.SeekMode.Start);
  let carry = new Uint8Array(0);
  // Invariant: `carry` holds the bytes from `offset` read so far that end
  // with no newline; `offset` is always at a line boundary.
  while (offset + carry.length < size) {
    const want = Math.min(CHUNK_BYTES, size - offset - carry.length);
    const chunk = new Uint8Array(carry.length + want);
    chunk.set(carry);
    let read = carry.length;
    while (read < chunk.length) {
      const n = await file.read(chunk.subarray(read));
      if (n === null) break;
      read += n;
    }
    const bytes = chunk.subarray(0, read);
    if (read === carry.length) break; // the file shrank
    let lineStart = 0;
    for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, lineStart)) {
      yield { bytes: bytes.subarray(lineStart, i), start: offset, end: offset + i - lineStart + 1 };
      offset += i - lineStart + 1;
      lineStart = i + 1;
    }
    carry = bytes.slice(lineStart);
  }
}

/**
 * Whether `offset` is a line boundary of `path`: 0, or just after a
 * newline, and not past the end.
 *
 * @param path The file.
 * @param offset A byte offset.
 * @returns Whether a reader may start there.
 */
export async function isLineBoundary(path: string, offset: number): Promise<boolean> {
  if (offset === 0) return true;
  using file = await Deno.open(path, { read: true });
  if ((await file.stat()).size < offset) return false;
  await file.seek(offset - 1, Deno.SeekMode.Start);
  const byte = new Uint8Array(1);
  return await file.read(byte) === 1 && byte[0] === 10;
}

/**
 * Reads the one line that starts at `start`.
 *
 * @param path The file.
 * @param start A line's first byte.
 * @returns The line's text, or `null` if no complete line starts there.
 */
export async function readLineAt(path: string, start: number): Promise<string | null> {
  for await (const line of readLines(path, start)) {
    return new TextDecoder().decode(line.bytes);
  }
  return null;
}
