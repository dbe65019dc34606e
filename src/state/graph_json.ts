/**
 * The JSON of `ExecutionInfo.graphSerialization()` and of a saved run's
 * `runs`, written as UTF-8 bytes straight from the request rows: the
 * runtime's rows are read into one reused record and written field by
 * field, and what a request shows twice (its id and caller, its arguments,
 * its creation stamp, in its versions, its node and the step list) is
 * written once and copied.
 *
 * @module
 */
import { JsonBytes } from "../core/json_bytes.ts";
import type { ExecutionInfo } from "./execution_info.ts";
import type { RequestStatus } from "./request_forest.ts";
import { RunWriter } from "./_run_writer.ts";

/** The head of one top-level run: what a snapshot's summary fields come from. */
export interface RunHead {
  /** The top-level request's row. */
  row: number;
  /** The top-level node's name. */
  name: string;
  /** The top-level request's id. */
  runId: string;
  /** The top-level request's status. */
  status: RequestStatus;
  /** When the run started (ms since the epoch). */
  startTime: number;
  /** When it ended, `null` while open. */
  endTime: number | null;
}

/**
 * The heads of every top-level run of an execution, in order, read from
 * the rows without serializing anything.
 *
 * @param info The execution.
 * @returns One head per top-level run.
 *
 * @example
 * ```ts
 * import { runHeads } from "./graph_json.ts";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * await using runner = new Runner({ loggingSetting: "NONE" });
 * const info = await runner.run(node(async () => 1, { name: "one" }));
 * const [head] = runHeads(info);
 * assert.equal(head.name, "one");
 * assert.equal(head.status, "Completed");
 * ```
 */
export function runHeads(info: ExecutionInfo): RunHead[] {
  const requests = info.requestHeap;
  return requests.insertionRows.map((row) => {
    const status = requests.statusOf(row);
    return {
      row,
      name: info.nodeHeap.get(requests.nodeIdOf(row))?.name ?? "",
      runId: requests.idOf(row),
      status,
      startTime: requests.timeOf(row, false)!,
      endTime: status === "Open" ? null : requests.timeOf(row, true),
    };
  });
}

/**
 * The JSON of every top-level run of an execution, as
 * `ExecutionInfo.graphSerialization()` returns it.
 *
 * @param info The execution.
 * @returns The JSON text.
 *
 * @example
 * ```ts
 * import { serializeRuns } from "./graph_json.ts";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * await using runner = new Runner({ loggingSetting: "NONE" });
 * const info = await runner.run(node(async () => 1, { name: "one" }));
 * assert.equal(serializeRuns(info), JSON.stringify(info.serializedRuns()));
 * ```
 */
export function serializeRuns(info: ExecutionInfo): string {
  // Decoded chunk by chunk from one small buffer: the bytes never need
  // memory of the text's size, only the text itself does.
  const decoder = new TextDecoder();
  const parts: string[] = [];
  const out = new JsonBytes(CHUNK, (chunk) => parts.push(decoder.decode(chunk)));
  out.ascii("[");
  runHeads(info).forEach((head, i) => {
    if (i > 0) out.ascii(",");
    writeRunJson(info, head, out);
  });
  out.ascii("]");
  out.spill(0);
  return parts.length === 1 ? parts[0] : parts.join("");
}

/** Bytes written before a serializer hands a chunk over. */
const CHUNK = 1 << 19;

/**
 * Appends the JSON of one top-level run (a `SerializedRun`) to `out`,
 * calling `out.spill()` between requests so a buffer with a sink hands
 * the text over in chunks. Reads the records at the moment of the call.
 *
 * @param info The execution.
 * @param head The run, from {@linkcode runHeads}.
 * @param out Where to write.
 *
 * @example
 * ```ts
 * import { runHeads, writeRunJson } from "./graph_json.ts";
 * import { JsonBytes } from "../core/json_bytes.ts";
 * import { node, Runner } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * await using runner = new Runner({ loggingSetting: "NONE" });
 * const info = await runner.run(node(async () => 1, { name: "one" }));
 * const out = new JsonBytes();
 * writeRunJson(info, runHeads(info)[0], out);
 * assert.equal(JSON.parse(out.toString()).edges[0].details.output, 1);
 * ```
 */
export function writeRunJson(info: ExecutionInfo, head: RunHead, out: JsonBytes): void {
  new RunWriter(info, head.row, out).write(head);
}
