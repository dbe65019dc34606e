/**
 * JSON written straight into UTF-8 bytes, for the large texts a run saves
 * (its snapshot, its event log): pieces are appended to one growing byte
 * buffer, so no intermediate strings or objects are made for the parts
 * whose shape is known, and parts written once can be copied again.
 *
 * @module
 */
import { toJsonSafe } from "./json_safe.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const QUOTE = 0x22;

/**
 * A growing buffer of JSON text as UTF-8 bytes.
 *
 * @example Building a line
 * ```ts
 * import { JsonBytes } from "./json_bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const out = new JsonBytes();
 * out.ascii('{"id":');
 * out.string("r-1");
 * out.ascii(',"time":');
 * out.number(12.5);
 * out.ascii(',"output":');
 * out.value({ big: 10n, text: "é" });
 * out.ascii("}");
 * assert.equal(out.toString(), '{"id":"r-1","time":12.5,"output":{"big":"[BigInt: 10n]","text":"é"}}');
 * ```
 *
 * @example Writing in chunks
 * ```ts
 * import { JsonBytes } from "./json_bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const chunks: string[] = [];
 * const out = new JsonBytes(16, (chunk) => chunks.push(new TextDecoder().decode(chunk)));
 * for (let i = 0; i < 5; i++) {
 *   out.ascii(i === 0 ? "[" : ",");
 *   out.string(`item ${i}`);
 *   out.spill(); // hands over the text once the buffer is half full
 * }
 * out.ascii("]");
 * out.spill(0);
 * assert.equal(chunks.join(""), JSON.stringify(["item 0", "item 1", "item 2", "item 3", "item 4"]));
 * assert.ok(chunks.length > 1);
 * ```
 */
export class JsonBytes {
  // Invariant: bytes 0..#length-1 of #bytes are the text written since the
  // last spill (all of it without a sink).
  #bytes: Uint8Array;
  #length = 0;
  readonly #sink: ((chunk: Uint8Array) => void) | null;

  /**
   * Makes an empty buffer.
   *
   * @param capacity Bytes to reserve at first; the buffer grows as needed.
   * @param sink Takes the bytes written so far at each
   *   {@linkcode JsonBytes.spill} that finds the buffer full enough; the
   *   chunk is only valid during the call.
   */
  constructor(capacity = 4096, sink?: (chunk: Uint8Array) => void) {
    this.#bytes = new Uint8Array(Math.max(16, capacity));
    this.#sink = sink ?? null;
  }

  /**
   * Hands the bytes written to the sink and clears the buffer, when there
   * is a sink and the buffer holds at least `atLeast` bytes. Writers call
   * it where no later write copies an earlier part.
   *
   * @param atLeast The fill below which nothing happens.
   */
  spill(atLeast = this.#bytes.length >> 1): void {
    if (this.#sink === null || this.#length < atLeast || this.#length === 0) return;
    this.#sink(this.view());
    this.#length = 0;
  }

  /** How many bytes were written. */
  get length(): number {
    return this.#length;
  }

  /** Forgets what was written, keeping the memory. */
  clear(): void {
    this.#length = 0;
  }

  /**
   * The bytes written, without copying: valid until the next write.
   *
   * @returns A view of the buffer.
   */
  view(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /**
   * The text written.
   *
   * @returns It, decoded.
   */
  toString(): string {
    return decoder.decode(this.view());
  }

  #room(more: number): void {
    const need = this.#length + more;
    if (need <= this.#bytes.length) return;
    const next = new Uint8Array(Math.max(need, this.#bytes.length * 2));
    next.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = next;
  }

  /**
   * Appends JSON text as it is (any characters; encoded as UTF-8).
   *
   * @param text JSON text, e.g. `',"status":'`.
   */
  ascii(text: string): void {
    const n = text.length;
    this.#room(n);
    const bytes = this.#bytes;
    let at = this.#length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.#length = at;
        this.#utf8(text.slice(i));
        return;
      }
      bytes[at++] = c;
    }
    this.#length = at;
  }

  #utf8(text: string): void {
    this.#room(text.length * 3);
    this.#length += encoder.encodeInto(text, this.#bytes.subarray(this.#length)).written;
  }

  /**
   * Appends a string as a JSON string literal (as `JSON.stringify` writes it).
   *
   * @param text The string.
   */
  string(text: string): void {
    this.quoted("", text);
  }

  /**
   * Appends `prefix + text` as a JSON string literal, without building that
   * string first when it needs no escaping.
   *
   * @param prefix Printable ASCII without `"` or `\`.
   * @param text Anything.
   */
  quoted(prefix: string, text: string): void {
    const start = this.#length;
    const n = text.length;
    this.#room(prefix.length + n + 2);
    const bytes = this.#bytes;
    let at = start;
    bytes[at++] = QUOTE;
    for (let i = 0; i < prefix.length; i++) bytes[at++] = prefix.charCodeAt(i);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      // Anything JSON escapes, and anything not ASCII: let JSON.stringify do it.
      if (c < 0x20 || c === QUOTE || c === 0x5c || c >= 0x80) {
        this.#length = start;
        this.ascii(JSON.stringify(prefix + text));
        return;
      }
      bytes[at++] = c;
    }
    bytes[at++] = QUOTE;
    this.#length = at;
  }

  /**
   * Appends a number as JSON; what JSON cannot hold (`NaN`, `Infinity`)
   * becomes the placeholder string of `toJsonSafe`.
   *
   * @param n The number.
   */
  number(n: number): void {
    if (n >= 0 && n <= 0x7fffffff && (n | 0) === n) {
      this.#digits(n);
      return;
    }
    if (Number.isFinite(n)) this.ascii(String(n));
    else this.string(`[Number: ${n}]`);
  }

  #digits(n: number): void {
    this.#room(10);
    const bytes = this.#bytes;
    let size = 1;
    for (let rest = n; rest >= 10; rest = (rest / 10) | 0) size++;
    let at = this.#length + size;
    this.#length = at;
    do {
      bytes[--at] = 0x30 + n % 10;
      n = (n / 10) | 0;
    } while (n > 0);
  }

  /**
   * Appends any value as JSON, with the placeholders of `toJsonSafe` for
   * what JSON cannot hold; `undefined` is written as `null`.
   *
   * @param v The value.
   */
  value(v: unknown): void {
    switch (typeof v) {
      case "undefined":
        this.ascii("null");
        return;
      case "string":
        this.string(v);
        return;
      case "boolean":
        this.ascii(v ? "true" : "false");
        return;
      case "number":
        this.number(v);
        return;
    }
    if (v === null) this.ascii("null");
    else this.ascii(JSON.stringify(toJsonSafe(v)) ?? "null");
  }

  /**
   * Appends a part of a buffer's bytes (this buffer's too).
   *
   * @param from Where to copy from.
   * @param start First byte.
   * @param end After the last byte.
   */
  append(from: JsonBytes, start = 0, end: number = from.#length): void {
    const n = end - start;
    this.#room(n);
    // Read after #room: when copying from this buffer, from the current one.
    const source = from.#bytes;
    const bytes = this.#bytes;
    const at = this.#length;
    if (n <= 64) {
      for (let i = 0; i < n; i++) bytes[at + i] = source[start + i];
    } else if (source === bytes) bytes.copyWithin(at, start, end);
    else bytes.set(source.subarray(start, end), at);
    this.#length = at + n;
  }
}
