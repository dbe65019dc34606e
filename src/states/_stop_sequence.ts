/**
 * The StateManager's stop sequence: drop what is queued, stop the waits,
 * stop the running states one by one in reverse start order (each gets the
 * grace period to end on its own), then close the run session (which
 * saves the run).
 *
 * @module
 */
import { logger } from "../core/logging.ts";
import type { RuntimeMessage } from "../pubsub/messages.ts";
import type { RunSession } from "../run/run_session.ts";
import type { ActiveEntry, StateQueue } from "./_state_queue.ts";
import { round } from "./_timing.ts";

const log = logger("states");

/** Default time a stopped non-blocking state gets to end on its own (ms). */
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

/**
 * Stops one running state and waits until it has ended: its signal aborts,
 * and what it does then is recorded (a service that returns is
 * `Completed` with its value). A non-blocking state still running after
 * the grace period is cancelled; a blocking one's worker is terminated by
 * the pool after it, which records the state `Cancelled`.
 */
async function endState(
  session: RunSession,
  requestId: string,
  active: ActiveEntry,
  reason: unknown,
  grace: number,
): Promise<void> {
  const stoppedAt = performance.now();
  // The state's own request ends last: after its work, when that is a call.
  const settled = session.publisher.listener((m: RuntimeMessage) =>
    (m.kind === "success" || m.kind === "failure") && m.requestId === requestId
  ).then(() => {}, () => {});
  const asked = session.rtState.stop(requestId, reason);
  if (!asked.includes(requestId)) return;
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
    session.rtState.cancel(requestId, reason);
  }
  log.debug("State {state} ({fn}) ended {ms} ms after it was asked to stop", {
    state: active.state.name,
    fn: active.state.functionName,
    ms: round(performance.now() - stoppedAt),
  });
}
