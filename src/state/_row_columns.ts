/**
 * The dense side of the request rows: the numbers and values every request
 * has, one entry per row.
 *
 * @module
 */
import { grown } from "./_rows.ts";

const INITIAL = 256;

/**
 * One entry per request in each column: the links to its caller and its
 * children, its first and newest status, how many versions it has, the time
 * and step of its first and newest version, and its call's values. The
 * request store ({@linkcode RequestRows}) owns one and keeps its meaning.
 */
export class RowColumns {
  // Invariant: rows 0..count-1 are in use, in creation order; every typed
  // column is at least `count` long. `parent` is the calling row (-1: top
  // level or a caller named only by id); the children of a row are linked
  // through firstChild/lastChild/next in creation order (-1: none).
  /** How many rows are in use. */
  count = 0;
  /** The calling row of each row. */
  parent: Int32Array = new Int32Array(INITIAL);
  /** The first row each row called. */
  firstChild: Int32Array = new Int32Array(INITIAL);
  /** The last row each row called. */
  lastChild: Int32Array = new Int32Array(INITIAL);
  /** The next row called by the same caller. */
  next: Int32Array = new Int32Array(INITIAL);
  /** The status code of the newest version. */
  status: Uint8Array = new Uint8Array(INITIAL);
  /** The status code of the first version. */
  status0: Uint8Array = new Uint8Array(INITIAL);
  /** How many versions a row has (capped at 255). */
  nver: Uint8Array = new Uint8Array(INITIAL);
  /** The time of the first version. */
  t0: Float64Array = new Float64Array(INITIAL);
  /** The time of the newest version. */
  t1: Float64Array = new Float64Array(INITIAL);
  /** The step of the first version. */
  s0: Float64Array = new Float64Array(INITIAL);
  /** The step of the newest version. */
  s1: Float64Array = new Float64Array(INITIAL);
  /** The call's arguments. */
  input: (readonly unknown[])[] = [];
  /** The newest output. */
  output: unknown[] = [];
  // The node (name and type) each row ran, as an index into #kinds (-1 for
  // none: a row recorded by hand): a fan-out calls few distinct nodes, so
  // rows share their pair instead of keeping two strings each.
  #kind: Int32Array = new Int32Array(INITIAL);
  #kinds: { name: string; nodeType: string }[] = [];
  #kindOf = new Map<string, Map<string, number>>();
  #lastKind = -1;

  /**
   * Takes the next row: no caller link yet, no children, one version.
   *
   * @returns The row.
   */
  alloc(): number {
    const row = this.count;
    if (row === this.parent.length) this.#grow(row * 2);
    this.count = row + 1;
    this.firstChild[row] = -1;
    this.lastChild[row] = -1;
    this.next[row] = -1;
    this.nver[row] = 1;
    this.#kind[row] = -1;
    this.output.push(undefined);
    return row;
  }

  #grow(size: number): void {
    this.parent = grown(this.parent, size);
    this.firstChild = grown(this.firstChild, size);
    this.lastChild = grown(this.lastChild, size);
    this.next = grown(this.next, size);
    this.status = grown(this.status, size);
    this.status0 = grown(this.status0, size);
    this.nver = grown(this.nver, size);
    this.t0 = grown(this.t0, size);
    this.t1 = grown(this.t1, size);
    this.s0 = grown(this.s0, size);
    this.s1 = grown(this.s1, size);
    this.#kind = grown(this.#kind, size);
  }

  /**
   * Records the node a row ran.
   *
   * @param row The row.
   * @param name The node's name.
   * @param nodeType How it ran.
   */
  setNode(row: number, name: string, nodeType: string): void {
    let kind = this.#lastKind;
    const last = kind < 0 ? undefined : this.#kinds[kind];
    if (last === undefined || last.name !== name || last.nodeType !== nodeType) {
      let byType = this.#kindOf.get(name);
      if (byType === undefined) this.#kindOf.set(name, byType = new Map());
      kind = byType.get(nodeType) ?? -1;
      if (kind < 0) {
        kind = this.#kinds.push(Object.freeze({ name, nodeType })) - 1;
        byType.set(nodeType, kind);
      }
      this.#lastKind = kind;
    }
    this.#kind[row] = kind;
  }

  /**
   * The node a row ran (a shared frozen pair).
   *
   * @param row The row.
   * @returns Its name and type, or `undefined` for a row recorded by hand.
   */
  nodeOf(row: number): { readonly name: string; readonly nodeType: string } | undefined {
    const kind = this.#kind[row];
    return kind < 0 ? undefined : this.#kinds[kind];
  }

  /**
   * Sets a row's caller and, for a caller in the store, appends the row to
   * its children.
   *
   * @param row The row.
   * @param parentRow The caller's row, `-1` for none.
   */
  link(row: number, parentRow: number): void {
    this.parent[row] = parentRow;
    if (parentRow < 0) return;
    const last = this.lastChild[parentRow];
    if (last < 0) this.firstChild[parentRow] = row;
    else this.next[last] = row;
    this.lastChild[parentRow] = row;
  }

  /**
   * The rows a row called, in creation order.
   *
   * @param row The row.
   * @returns Their rows.
   */
  children(row: number): number[] {
    const rows: number[] = [];
    for (let c = this.firstChild[row]; c >= 0; c = this.next[c]) rows.push(c);
    return rows;
  }
}
