/**
 * Errors of the Raft core. Expected failures carry a stable `code`; broken invariants throw
 * `InvariantError`, which is a bug and must crash the process (STYLES.md §7.3 rule 6).
 */

/** Stable codes of expected Raft failures. */
export const RaftErrorCode = {
  /** The proposal was not accepted (not leader, transfer in progress, change pending...). */
  ProposalDropped: "PROPOSAL_DROPPED",
  /** Requested entries were compacted into a snapshot. */
  Compacted: "COMPACTED",
  /** Requested entries are beyond the last index. */
  Unavailable: "UNAVAILABLE",
  /** A snapshot older than the current one was offered. */
  SnapOutOfDate: "SNAP_OUT_OF_DATE",
  /** The storage cannot produce a snapshot right now; the leader retries later. */
  SnapshotTemporarilyUnavailable: "SNAPSHOT_TEMPORARILY_UNAVAILABLE",
  /** A message from a node that is not in the configuration, or addressed elsewhere. */
  StepPeerNotFound: "STEP_PEER_NOT_FOUND",
  /** The configuration or a configuration change is invalid. */
  InvalidConfig: "INVALID_CONFIG",
} as const;

/** One of the codes in {@link RaftErrorCode}. */
export type RaftErrorCode = (typeof RaftErrorCode)[keyof typeof RaftErrorCode];

/** An expected failure of the Raft core, carrying a stable code. */
export class RaftError extends Error {
  override readonly name = "RaftError";
  readonly code: RaftErrorCode;

  /** Creates an error with a code and a message naming the failed action and the state. */
  constructor(code: RaftErrorCode, message: string) {
    super(`[${code}] ${message}`);
    this.code = code;
  }
}

/** A broken invariant: a bug in the core or its caller. Never caught. */
export class InvariantError extends Error {
  override readonly name = "InvariantError";
}

/**
 * Throws an {@link InvariantError} with `message` unless `condition` holds. Pass a function to
 * build a costly message only on failure (hot paths).
 */
export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === "string" ? message : message());
}

/** Returns whether `err` is a RaftError with the given code. */
export function isRaftError(err: unknown, code?: RaftErrorCode): err is RaftError {
  return err instanceof RaftError && (code === undefined || err.code === code);
}
