/**
 * The messages that tell the runtime, and anyone subscribed, what happened
 * to each request.
 *
 * @module
 */

/** Base of every message published on an {@linkcode RTPublisher}. */
export abstract class RequestMessage {
  /** A short name for the kind of message. */
  abstract readonly kind: string;
  /** When it was published (ms since the epoch). */
  readonly time: number = Date.now();
}

/** A request was created: a node called another (or a run started). */
export class RequestCreation extends RequestMessage {
  /** Always `"creation"`. */
  readonly kind = "creation";
  /**
   * Makes a RequestCreation.
   *
   * @param parentNodeId The calling node, `null` for a top-level request.
   * @param requestId The new request's id.
   * @param nodeId The new node instance's id.
   * @param nodeName The called node's name.
   * @param nodeType How it runs.
   * @param args The call's arguments.
   */
  constructor(
    readonly parentNodeId: string | null,
    readonly requestId: string,
    readonly nodeId: string,
    readonly nodeName: string,
    readonly nodeType: string,
    readonly args: readonly unknown[],
  ) {
    super();
  }
}

/** A request finished and returned a value. */
export class RequestSuccess extends RequestMessage {
  /** Always `"success"`. */
  readonly kind = "success";
  /**
   * Makes a RequestSuccess.
   *
   * @param requestId The request.
   * @param nodeId The node instance that served it.
   * @param result What it returned.
   */
  constructor(
    readonly requestId: string,
    readonly nodeId: string,
    readonly result: unknown,
  ) {
    super();
  }
}

/** A request failed. */
export class RequestFailure extends RequestMessage {
  /** Always `"failure"`. */
  readonly kind = "failure";
  /**
   * Makes a RequestFailure.
   *
   * @param requestId The request.
   * @param nodeId The node instance that served it.
   * @param error What it threw.
   */
  constructor(
    readonly requestId: string,
    readonly nodeId: string,
    readonly error: unknown,
  ) {
    super();
  }
}

/** A request was cancelled (by `cancel`, a timeout, or the run ending). */
export class RequestCancellation extends RequestMessage {
  /** Always `"cancellation"`. */
  readonly kind = "cancellation";
  /**
   * Makes a RequestCancellation.
   *
   * @param requestId The request.
   * @param nodeId The node instance that served it.
   * @param reason Why.
   */
  constructor(
    readonly requestId: string,
    readonly nodeId: string,
    readonly reason: unknown,
  ) {
    super();
  }
}

/** A request could not even be created (bad node, missing strategy, …). */
export class RequestCreationFailure extends RequestMessage {
  /** Always `"creationFailure"`. */
  readonly kind = "creationFailure";
  /**
   * Makes a RequestCreationFailure.
   *
   * @param requestId The request that was being created.
   * @param error Why it could not be.
   */
  constructor(readonly requestId: string, readonly error: unknown) {
    super();
  }
}

/** Something went wrong that ends the run. */
export class FatalFailure extends RequestMessage {
  /** Always `"fatal"`. */
  readonly kind = "fatal";
  /**
   * Makes a FatalFailure.
   *
   * @param error What went wrong.
   */
  constructor(readonly error: unknown) {
    super();
  }
}

/** A value a node chose to share with subscribers, via `broadcast()`. */
export class BroadcastEvent extends RequestMessage {
  /** Always `"broadcast"`. */
  readonly kind = "broadcast";
  /**
   * Makes a BroadcastEvent.
   *
   * @param item The value.
   * @param nodeId The node that broadcast it, `null` outside any node.
   * @param nodeName That node's name.
   */
  constructor(
    readonly item: unknown,
    readonly nodeId: string | null,
    readonly nodeName: string | null,
  ) {
    super();
  }
}

/** Every message a runtime publishes. */
export type RuntimeMessage =
  | RequestCreation
  | RequestSuccess
  | RequestFailure
  | RequestCancellation
  | RequestCreationFailure
  | FatalFailure
  | BroadcastEvent;
