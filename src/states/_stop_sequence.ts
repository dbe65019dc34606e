/**
 * The StateManager's stop sequence: drop what is queued, stop the waits,
 * cancel the running states one by one in reverse start order, then close
 * the run session (which saves the run).
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import type { RuntimeMessage } from "../pubsub/messages.ts";
import type { RunSession } from "../run/run_session.ts";
import type { ActiveEntry, StateQueue } from "./_state_queue.ts";
import { round } from "./_timing.ts";

const log = logger("states");

/** Default time a cancelled non-blocking state gets to settle (ms). */
const DEFAULT_GRACE_PERIOD = 100;

/**
 * Stops a manager's queue and closes its session.
 *
 * @param queue The queue loop.
 * @param session The run session.
 * @returns Resolves once every running state has ended and the session is
 *   closed.
 * @throws {RunNotSavedError} With `saveState`, if the run could not be
 *   saved (everything is stopped all the same).
 */
export async function stopStates(queue: StateQueue, session: RunSession): Promise<void> {
  const reason = new Error("The state manager is stopping");
  const started = performance.now();
  const running = queue.running();
  const dropped = queue.abort(reason);
  log.info(
    "Stopping at {at} ms: {running} states running, {dropped} queued states dropped {names}",
    {
      at: round(started),
      running: running.length,
      dropped: dropped.length,
      names: dropped.map((s) => s.name),
    },
  );
  const grace = session.config.workers.gracePeriod ?? DEFAULT_GRACE_PERIOD;
  for (const active of queue.running().reverse()) {
    await endState(session, queue.requestIdOf(active), active, reason, grace);
  }
  try {
    await session.close(reason);
  } finally {
    queue.markStopped(reason);
    log.info("Stopped in {ms} ms", { ms: round(performance.now() - started) });
  }
}

/** Cancels one running state and waits until its work has ended. */
async function endState(
  session: RunSession,
  requestId: string,
  active: ActiveEntry,
  reason: unknown,
  grace: number,
): Promise<void> {
  const cancelledAt = performance.now();
  const cancelled = session.rtState.cancel(requestId, reason);
  const id = active.workRequestId ?? requestId;
  if (!cancelled.includes(id)) return;
  const settled = session.publisher.listener((m: RuntimeMessage) =>
    (m.kind === "success" || m.kind === "failure") && m.requestId === id
  ).then(() => {}, () => {});
  if (active.state.isBlocking) {
    // The worker strategy terminates the worker after its grace period.
    await settled;
  } else {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      settled,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, grace);
      }),
    ]);
    clearTimeout(timer);
  }
  log.debug("State {state} ({fn}) ended {ms} ms after its cancellation", {
    state: active.state.name,
    fn: active.state.functionName,
    ms: round(performance.now() - cancelledAt),
  });
}
