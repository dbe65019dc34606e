/**
 * The lines of a run's event log, encoded from the request rows into the
 * writer's batch (their shapes are in `run_events.ts`): one function per
 * kind of line, each writing one whole line.
 *
 * @module
 */
import type { JsonBytes } from "../core/json_bytes.ts";
import type { ExecutionInfo, ExecutionStatus } from "../state/execution_info.ts";
import type { RowData } from "../state/request_forest.ts";
import { EVENT_LOG_FORMAT } from "./run_events.ts";

const ENDED: Readonly<Record<string, string>> = {
  Completed: '{"event":"completed","time":',
  Failed: '{"event":"failed","time":',
  Cancelled: '{"event":"cancelled","time":',
};

/**
 * The first line: which run, which format, which process.
 *
 * @param out The batch.
 * @param runId The run identifier.
 */
export function writeStartLine(out: JsonBytes, runId: string): void {
  out.ascii('{"event":"start","format":');
  out.string(EVENT_LOG_FORMAT);
  out.ascii(',"runId":');
  out.string(runId);
  out.ascii(',"time":');
  out.number(Date.now());
  out.ascii(',"pid":');
  out.number(Deno.pid);
  out.ascii("}\n");
}

/**
 * The `created` line of a request.
 *
 * @param out The batch.
 * @param info The execution.
 * @param row The request's row.
 * @param data A record to read the row into.
 */
export function writeCreatedLine(
  out: JsonBytes,
  info: ExecutionInfo,
  row: number,
  data: RowData,
): void {
  const requests = info.requestHeap;
  let time: number, step: number, input: readonly unknown[];
  if (requests.readRow(row, data)) {
    ({ time0: time, step0: step, input } = data);
  } else {
    const first = requests.versionsOf(row)[0];
    ({ time, step } = first.stamp);
    input = first.input;
  }
  const nodeId = requests.nodeIdOf(row);
  const node = requests.nodeOf(row) ?? info.nodeHeap.get(nodeId);
  const parentNode = requests.sourceIdOf(row);
  out.ascii('{"event":"created","time":');
  out.number(time);
  out.ascii(',"step":');
  out.number(step);
  out.ascii(',"request":');
  out.string(requests.idOf(row));
  out.ascii(',"parentNode":');
  if (parentNode === null) out.ascii("null");
  else out.string(parentNode);
  out.ascii(',"node":');
  out.string(nodeId);
  out.ascii(',"name":');
  out.string(node?.name ?? "?");
  out.ascii(',"nodeType":');
  out.string(node?.nodeType ?? "?");
  out.ascii(',"args":[');
  for (let i = 0; i < input.length; i++) {
    if (i > 0) out.ascii(",");
    out.value(input[i]);
  }
  out.ascii("]}\n");
}

/**
 * The end line of a request that ended: `completed`, `failed` or `cancelled`.
 *
 * @param out The batch.
 * @param info The execution.
 * @param row The request's row.
 * @param data A record to read the row into.
 */
export function writeEndLine(
  out: JsonBytes,
  info: ExecutionInfo,
  row: number,
  data: RowData,
): void {
  const requests = info.requestHeap;
  if (requests.readRow(row, data)) {
    out.ascii(ENDED[data.status]);
    out.number(data.time1);
    out.ascii(',"step":');
    out.number(data.step1);
    out.ascii(',"request":');
    out.string(requests.idOf(row));
    out.ascii(',"output":');
    out.value(data.output);
    out.ascii("}\n");
  } else {
    const record = requests.recordOf(row);
    out.ascii(ENDED[record.status]);
    out.number(record.stamp.time);
    out.ascii(',"step":');
    out.number(record.stamp.step);
    out.ascii(',"request":');
    out.string(record.identifier);
    out.ascii(',"output":');
    out.value(record.output);
    if (record.attempts !== undefined) {
      out.ascii(',"attempts":');
      out.value(record.attempts);
    }
    out.ascii("}\n");
  }
}

/**
 * The `saved` line: the snapshot holds everything logged before it.
 *
 * @param out The batch.
 * @param status The execution's status in that snapshot.
 * @param events How many request lines precede it.
 */
export function writeSavedLine(out: JsonBytes, status: ExecutionStatus, events: number): void {
  out.ascii('{"event":"saved","time":');
  out.number(Date.now());
  out.ascii(',"status":');
  out.string(status);
  out.ascii(',"events":');
  out.number(events);
  out.ascii("}\n");
}
