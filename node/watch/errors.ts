/**
 * Errors a watcher can end with (STYLES.md §7.3 rule 5): a Connect code, a stable reason and a
 * message naming the action and the state, converted to a ConnectError once, at the RPC boundary.
 */

/** The Connect code names the watch hub uses (never invented). */
export const WatchErrorCode = {
  invalidArgument: "invalid_argument",
  outOfRange: "out_of_range",
  resourceExhausted: "resource_exhausted",
  unavailable: "unavailable",
} as const;
/** One of {@link WatchErrorCode}. */
export type WatchErrorCode = (typeof WatchErrorCode)[keyof typeof WatchErrorCode];

/** Stable machine-readable reasons a watcher ends with. */
export const WatchErrorReason = {
  /** The resume index is older than the retained history (etcd's ErrCompacted). */
  compacted: "COMPACTED",
  /** The consumer fell more than its queue limit behind and was cut off. */
  slowConsumer: "SLOW_CONSUMER",
  /** A watch option is malformed (negative index, bad queue limit, bad id). */
  badOption: "BAD_WATCH_OPTION",
  /** The hub was closed (the node is shutting down): retry on another node. */
  hubClosed: "HUB_CLOSED",
} as const;
/** One of {@link WatchErrorReason}. */
export type WatchErrorReason = (typeof WatchErrorReason)[keyof typeof WatchErrorReason];

/** Machine-readable details of a {@link WatchError} (the RPC layer maps them to proto details). */
export interface WatchErrorDetails {
  /** The `fromIndex` the watcher asked for (or the position it had reached), if relevant. */
  readonly fromIndex?: number;
  /** COMPACTED: the oldest log index whose events are still available. */
  readonly oldestIndex?: number;
  /** SLOW_CONSUMER: the queue limit that was exceeded. */
  readonly queueLimit?: number;
}

/** A typed, coded error that ends a watcher. */
export class WatchError extends Error {
  /** Connect code. */
  readonly code: WatchErrorCode;
  /** Stable reason, e.g. `COMPACTED`. */
  readonly reason: WatchErrorReason;
  /** Machine-readable details. */
  readonly details: WatchErrorDetails;

  /** Builds an error; `message` reads "action: state" with the values named. */
  constructor(
    code: WatchErrorCode,
    reason: WatchErrorReason,
    message: string,
    details: WatchErrorDetails = {},
  ) {
    super(message);
    this.name = "WatchError";
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

/** The COMPACTED error: `fromIndex` is older than the history, whose oldest index is named. */
export function compactedError(fromIndex: number, compactedIndex: number): WatchError {
  const oldestIndex = compactedIndex + 1;
  return new WatchError(
    WatchErrorCode.outOfRange,
    WatchErrorReason.compacted,
    `watch from index ${fromIndex}: compacted: the oldest index still available is ${oldestIndex}` +
      ` (resume with fromIndex >= ${compactedIndex}, or re-read the state)`,
    { fromIndex, oldestIndex },
  );
}

/** The SLOW_CONSUMER error for a watcher whose backlog exceeded `queueLimit` events. */
export function slowConsumerError(queueLimit: number, position: number): WatchError {
  return new WatchError(
    WatchErrorCode.resourceExhausted,
    WatchErrorReason.slowConsumer,
    `deliver watch events: slow consumer: more than ${queueLimit} events queued` +
      ` (queue limit ${queueLimit}); resume from the last index received (about ${position})`,
    { queueLimit, fromIndex: position },
  );
}

/** The error for a malformed watch option. */
export function badOptionError(message: string): WatchError {
  return new WatchError(WatchErrorCode.invalidArgument, WatchErrorReason.badOption, message);
}

/** The error for a watch on (or ended by) a closed hub. */
export function hubClosedError(action: string): WatchError {
  return new WatchError(
    WatchErrorCode.unavailable,
    WatchErrorReason.hubClosed,
    `${action}: the watch hub is closed (node shutting down)`,
  );
}
