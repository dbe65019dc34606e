import assert from "node:assert/strict";
import { ErrorHandler } from "../mod.ts";

Deno.test("ErrorHandler.decide() grows the retry delay by the backoff", () => {
  const handler = new ErrorHandler({
    strategy: "retry",
    maxRetries: 3,
    retryDelay: 10,
    retryBackoff: 2,
  });
  assert.deepEqual(
    [1, 2, 3, 4].map((attempt) => handler.decide(new Error(), attempt)),
    [
      { action: "retry", delay: 10 },
      { action: "retry", delay: 20 },
      { action: "retry", delay: 40 },
      { action: "stop" },
    ],
  );
});

Deno.test("ErrorHandler retryable filters by class or predicate", () => {
  const byClass = new ErrorHandler({
    strategy: "retry",
    retryable: [RangeError],
    critical: false,
  });
  assert.equal(byClass.decide(new RangeError(), 1).action, "retry");
  assert.equal(byClass.decide(new TypeError(), 1).action, "continue");
  const byPredicate = new ErrorHandler({
    strategy: "retry",
    retryable: (e) => (e as Error).message === "again",
  });
  assert.equal(byPredicate.decide(new Error("again"), 1).action, "retry");
  assert.equal(byPredicate.decide(new Error("other"), 1).action, "stop");
});

Deno.test("ErrorHandler defaults to stop and passes other strategies through", () => {
  assert.deepEqual(new ErrorHandler().decide(new Error(), 1), {
    action: "stop",
  });
  for (const strategy of ["continue", "skip", "stop"] as const) {
    assert.equal(
      new ErrorHandler({ strategy }).decide(new Error(), 1).action,
      strategy,
    );
  }
});

Deno.test("ErrorHandler rejects invalid options", () => {
  assert.throws(
    () => new ErrorHandler({ strategy: "panic" as never }),
    /'strategy' must be one of "stop", "continue", "retry", "skip": current value is "panic"/,
  );
  assert.throws(
    () => new ErrorHandler({ retryBackoff: 0.5 }),
    /'retryBackoff' must be at least 1: current value is 0.5/,
  );
  assert.throws(
    () => new ErrorHandler({ maxRetries: -1 }),
    /'maxRetries' must be at least 0/,
  );
});
