/**
 * Cancelling the open requests below a request: the walks over the request
 * forest that `RTState.cancel`, node timeouts, `endOnError` and shutdown
 * share. None of it runs on the path of a call that ends normally.
 *
 * @module
 */
import type { Coordinator } from "./coordinator.ts";
import type { TaskScope } from "./scope.ts";
import { FatalFailure, RequestCancellation } from "../pubsub/messages.ts";
import type { RTPublisher } from "../pubsub/publisher.ts";
import { RequestCancelledError } from "../core/errors.ts";
import type { RequestForest, RequestStatus } from "../state/request_forest.ts";

/** Records the end of an open request and settles its caller (the runtime's one place). */
export type FinishRequest = (scope: TaskScope, status: RequestStatus, output: unknown) => void;

/**
 * Cancels open requests and everything open beneath them, for one runtime:
 * their signals abort, their jobs close, they are recorded `Cancelled` and
 * their callers' promises reject with {@linkcode RequestCancelledError}.
 */
export class CancelTree {
  // Invariant: #scopes is the runtime's own list (not a copy): #scopes[row]
  // is the scope of every open request, undefined for every other row, and
  // only #finish clears an entry.
  readonly #scopes: readonly (TaskScope | undefined)[];
  readonly #requests: RequestForest;
  readonly #coordinator: Coordinator;
  readonly #publisher: RTPublisher;
  readonly #finish: FinishRequest;

  /**
   * Makes the cancellation side of a runtime.
   *
   * @param scopes The runtime's open scopes by row.
   * @param requests The runtime's request forest.
   * @param coordinator Closes the cancelled jobs.
   * @param publisher Carries the cancellation and fatal-failure messages.
   * @param finish Records a request's end and settles its caller.
   */
  constructor(
    scopes: readonly (TaskScope | undefined)[],
    requests: RequestForest,
    coordinator: Coordinator,
    publisher: RTPublisher,
    finish: FinishRequest,
  ) {
    this.#scopes = scopes;
    this.#requests = requests;
    this.#coordinator = coordinator;
    this.#publisher = publisher;
    this.#finish = finish;
  }

  /** The open rows below one (deepest first), then that one; no recursion. */
  #openSubtree(row: number): number[] {
    const order: number[] = [];
    const stack: number[] = [row];
    while (stack.length > 0) {
      const current = stack.pop()!;
      if (this.#scopes[current] === undefined) continue;
      order.push(current);
      for (const child of this.#requests.childRows(current)) stack.push(child);
    }
    // Every row comes after its caller in `order`: reversed, callees first.
    return order.reverse();
  }

  /**
   * Cancels a request and every open request beneath it, callees first.
   *
   * @param row The request's row.
   * @param reason Why; the errors' `cause` and the signals' reason.
   * @returns The rows cancelled.
   */
  cancel(row: number, reason: unknown): number[] {
    const rows = this.#openSubtree(row);
    const announce = this.#publisher.isRunning && this.#publisher.hasSubscribers("cancellation");
    for (const r of rows) {
      const scope = this.#scopes[r];
      if (scope === undefined) continue;
      const error = new RequestCancelledError(scope.requestId, scope.nodeName, {
        cause: reason,
      });
      scope.abort(reason ?? error);
      this.#coordinator.state.closeJob(scope, reason);
      this.#finish(scope, "Cancelled", error);
      if (announce) {
        this.#publisher.publish(
          new RequestCancellation(scope.requestId, scope.nodeId, reason),
        );
      }
    }
    return rows;
  }

  /**
   * Asks a request and every open request beneath it to stop, callees
   * first: their signals abort and their records stay open.
   *
   * @param row The request's row.
   * @param reason The signals' reason.
   * @returns The rows asked.
   */
  stop(row: number, reason: unknown): number[] {
    const rows = this.#openSubtree(row);
    for (const r of rows) this.#scopes[r]?.stop(reason);
    return rows;
  }

  /**
   * Aborts and cancels everything below a request, not the request itself.
   *
   * @param row The request's row.
   * @param reason Why.
   */
  abortBelow(row: number, reason: unknown): void {
    const scope = this.#scopes[row];
    if (scope === undefined) return;
    for (const child of this.#requests.childRows(row)) {
      if (this.#scopes[child] !== undefined) this.cancel(child, reason);
    }
    scope.abort(reason);
  }

  /**
   * Cancels every open request: each top-level one with its subtree, then
   * any open row left (one whose caller is named only by id).
   *
   * @param reason Why.
   * @param anyOpen Whether some request is still open.
   */
  cancelAll(reason: unknown, anyOpen: () => boolean): void {
    for (const row of [...this.#requests.insertionRows]) {
      if (this.#scopes[row] !== undefined) this.cancel(row, reason);
    }
    for (let row = 0; row < this.#scopes.length && anyOpen(); row++) {
      if (this.#scopes[row] !== undefined) this.cancel(row, reason);
    }
  }

  /**
   * Ends a whole run with an error: everything open in it is cancelled and
   * its top-level request is recorded `Failed`.
   *
   * @param rootRow The row of the run's top-level request.
   * @param error The error.
   */
  endRun(rootRow: number, error: unknown): void {
    const root = this.#scopes[rootRow];
    if (root === undefined) return;
    if (this.#publisher.isRunning) {
      this.#publisher.publish(new FatalFailure(error));
    }
    this.abortBelow(rootRow, error);
    this.#finish(root, "Failed", error);
  }
}
