/**
 * Tracing as a run observer: when a run session opens with `tracing` on and
 * a tracer or meter provider registered, every request of the session gets
 * a span (and the request metrics), started as its task is submitted and
 * ended as its caller is settled. With no provider, the session is not
 * traced at all: the decision is made once, when it opens, and the
 * requests run exactly as with `tracing: false`.
 *
 * @module
 */
import type { Coordinator } from "../execution/coordinator.ts";
import type { ExecutorConfig } from "../execution/config.ts";
import { TaskScope } from "../execution/scope.ts";
import type { Task } from "../execution/task.ts";
import type { ExecutionInfo } from "../state/execution_info.ts";
import { requestInstruments } from "./metrics.ts";
import {
  hasTracerProvider,
  type RequestEnd,
  type RequestSpan,
  RequestTracing,
} from "./request_span.ts";

/** What the tracing observer needs of a run session. */
export interface TracedRun {
  /** The run's configuration (`tracing`, `runIdentifier`). */
  readonly config: ExecutorConfig;
  /** The run's coordinator: every request's task goes through it. */
  readonly coordinator: Coordinator;
  /** The run's record: request ids, node types and outcomes by row. */
  readonly info: ExecutionInfo;
}

/**
 * Traces the requests of a run session (the session calls it as it opens,
 * before the first request). Does nothing when `config.tracing` is false
 * or no tracer or meter provider is registered.
 *
 * @param run The session's configuration, coordinator and record.
 * @returns Whether the session is traced.
 *
 * @example Without a provider a session is left as it is
 * ```ts
 * import { RunSession, traceRequests } from "@switchyard/core/engine";
 * import { parseExecutorConfig } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const session = new RunSession(parseExecutorConfig({ loggingSetting: "NONE" }));
 * assert.equal(traceRequests(session), false);
 * await session.close();
 * ```
 */
export function traceRequests(run: TracedRun): boolean {
  if (!run.config.tracing) return false;
  if (!hasTracerProvider() && requestInstruments() === undefined) return false;
  const tracing = new RequestTracing(run.config.runIdentifier);
  const requests = run.info.requestHeap;
  // Invariant: spans[row] is the span of every traced request of this
  // session that is still open (undefined once it ends), so a child finds
  // its parent's span by the parent's row.
  const spans: (RequestSpan | undefined)[] = [];
  const wrap = (task: Task, mode: string, submit: (task: Task, mode: string) => Promise<void>) => {
    if (!(task instanceof TaskScope)) return submit(task, mode);
    const { row, parentRow } = task;
    const parent = parentRow < 0 ? undefined : spans[parentRow];
    const span = tracing.start(
      task,
      parent,
      parentRow < 0 ? null : requests.idOf(parentRow),
      requests.nodeOf(row)?.nodeType ?? mode,
      run.coordinator.runsAs(mode),
      task.firstAttempt,
    );
    if (span === undefined) return submit(task, mode);
    spans[row] = span;
    task.trace = span;
    // The runtime settles a request's caller exactly once, when the request
    // ends (completed, failed, cancelled, timed out): the span ends there.
    const { resolve, reject } = task;
    task.resolve = (value) => {
      spans[row] = undefined;
      span.end("Completed", value);
      resolve(value);
    };
    task.reject = (error) => {
      spans[row] = undefined;
      span.end(requests.statusOf(row) as RequestEnd, error);
      reject(error);
    };
    // Submitted with the span active: the node's code runs in it, and the
    // runtime's lines about the request's outcome are written in it.
    return span.run(submit, task, mode);
  };
  run.coordinator.wrapSubmit(wrap);
  return true;
}
