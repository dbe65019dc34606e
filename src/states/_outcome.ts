/**
 * Waiting for a promise unless a signal aborts first.
 *
 * @module
 */

/** How a promise settled. */
export type Outcome = { ok: true; value: unknown } | {
  ok: false;
  error: unknown;
};

/**
 * The outcome of a promise, or a rejection with the signal's reason if the
 * signal aborts first (the promise is then left to itself).
 */
export function outcomeUnlessAborted(
  promise: PromiseLike<unknown>,
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  const outcome = Promise.resolve(promise).then(
    (value): Outcome => ({ ok: true, value }),
    (error): Outcome => ({ ok: false, error }),
  );
  if (!signal) return outcome;
  if (signal.aborted) return Promise.reject(signal.reason);
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  return Promise.race([outcome, aborted]).finally(() =>
    signal.removeEventListener("abort", onAbort)
  );
}
