/**
 * The names of the request rows: request ids, caller and node instance ids,
 * built from a prefix and the row number unless a row was given its own.
 *
 * @module
 */
import { NODE_SUFFIX } from "./_rows.ts";

/**
 * Turns rows into ids and back. A runtime-made row's id is the prefix and
 * its number, its node instance id that id and {@linkcode NODE_SUFFIX};
 * only rows recorded by hand with other ids, or whose caller is not a row
 * of the store, have entries here.
 */
export class RowIds {
  // Invariant: #customId and #rowOfId are inverse maps, as are #sinkText and
  // #rowOfSink; #bySourceText lists, per caller id, the rows of #sourceText
  // naming it, in creation order.
  /** What runtime-made ids start with. */
  readonly prefix: string;
  #customId = new Map<number, string>();
  #rowOfId = new Map<string, number>();
  #sourceText = new Map<number, string>();
  #bySourceText = new Map<string, number[]>();
  #sinkText = new Map<number, string>();
  #rowOfSink = new Map<string, number>();

  /**
   * Makes the names of an empty store.
   *
   * @param prefix What runtime-made ids start with.
   */
  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /**
   * Gives a row its own request id.
   *
   * @param row The row.
   * @param identifier The id.
   */
  setId(row: number, identifier: string): void {
    this.#customId.set(row, identifier);
    this.#rowOfId.set(identifier, row);
  }

  /**
   * Whether a row has its own request id.
   *
   * @param row The row.
   * @returns `true` when it does.
   */
  hasOwnId(row: number): boolean {
    return this.#customId.has(row);
  }

  /**
   * Names a row's caller by id (a caller that is not a row of the store).
   *
   * @param row The row.
   * @param sourceId The caller's node id.
   */
  setCaller(row: number, sourceId: string): void {
    this.#sourceText.set(row, sourceId);
    const siblings = this.#bySourceText.get(sourceId);
    if (siblings) siblings.push(row);
    else this.#bySourceText.set(sourceId, [row]);
  }

  /**
   * The caller id of a row whose caller is not a row of the store.
   *
   * @param row The row.
   * @returns The id, or `undefined`.
   */
  callerOf(row: number): string | undefined {
    return this.#sourceText.get(row);
  }

  /** Whether any row's caller is named only by id. */
  get anyCallerNamed(): boolean {
    return this.#bySourceText.size > 0;
  }

  /**
   * The rows whose caller is named only by id.
   *
   * @param nodeId The caller's node id.
   * @returns Their rows (`undefined` for none).
   */
  calledBy(nodeId: string): readonly number[] | undefined {
    return this.#bySourceText.size === 0 ? undefined : this.#bySourceText.get(nodeId);
  }

  /**
   * Gives a row its own node instance id.
   *
   * @param row The row.
   * @param sinkId The node instance id.
   */
  setNodeId(row: number, sinkId: string): void {
    this.#sinkText.set(row, sinkId);
    this.#rowOfSink.set(sinkId, row);
  }

  /**
   * A row's own node instance id.
   *
   * @param row The row.
   * @returns The id, or `undefined` for the default one.
   */
  ownNodeIdOf(row: number): string | undefined {
    return this.#sinkText.get(row);
  }

  /**
   * The row of a request id.
   *
   * @param identifier A request id.
   * @param count How many rows the store holds.
   * @returns Its row, or `-1`.
   */
  rowOf(identifier: string, count: number): number {
    const custom = this.#rowOfId.get(identifier);
    if (custom !== undefined) return custom;
    if (typeof identifier !== "string" || !identifier.startsWith(this.prefix)) return -1;
    const digits = identifier.slice(this.prefix.length);
    const row = Number(digits);
    return Number.isInteger(row) && row >= 0 && row < count && String(row) === digits &&
        !this.#customId.has(row)
      ? row
      : -1;
  }

  /**
   * The row of the request a node instance serves.
   *
   * @param nodeId A node instance id.
   * @param count How many rows the store holds.
   * @returns Its request's row, or `-1`.
   */
  rowOfNode(nodeId: string, count: number): number {
    const custom = this.#rowOfSink.get(nodeId);
    if (custom !== undefined) return custom;
    if (typeof nodeId !== "string" || !nodeId.endsWith(NODE_SUFFIX)) return -1;
    const row = this.rowOf(nodeId.slice(0, -NODE_SUFFIX.length), count);
    return row >= 0 && !this.#sinkText.has(row) ? row : -1;
  }

  /**
   * The id of a row's request.
   *
   * @param row The row.
   * @returns The request id.
   */
  idOf(row: number): string {
    return this.#customId.get(row) ?? this.prefix + row;
  }

  /**
   * The id of the node instance serving a row's request.
   *
   * @param row The row.
   * @returns The node instance id.
   */
  nodeIdOf(row: number): string {
    return this.#sinkText.get(row) ?? this.idOf(row) + NODE_SUFFIX;
  }
}
