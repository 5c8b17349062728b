/**
 * Errors of the durable storage. Every failure carries a stable `code` and a message naming the
 * action, the path and the state, so an operator can act on it without reading the code.
 */

/** Stable codes of storage failures. */
export const StorageErrorCode = {
  /** Data on disk is not what this build wrote: a missing, misplaced or undecodable record. */
  Corrupt: "CORRUPT",
  /** The data was written by a newer (or unknown) key-format version. */
  Version: "VERSION",
  /** The operating system or RocksDB failed an operation. */
  Io: "IO",
  /** The storage was closed before the operation started. */
  Closed: "CLOSED",
  /** The caller broke a contract (a gap in the log, an out-of-date snapshot...): a bug. */
  Invalid: "INVALID",
  /** A requested snapshot file does not exist. */
  NotFound: "NOT_FOUND",
} as const;

/** One of the codes in {@link StorageErrorCode}. */
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

/** A storage failure with a stable code; `cause` keeps the underlying error when there is one. */
export class StorageError extends Error {
  override readonly name = "StorageError";
  readonly code: StorageErrorCode;

  /** Creates an error with a code and a message naming the action, the path and the state. */
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(`[${code}] ${message}`, options);
    this.code = code;
  }
}

/** Returns whether `err` is a StorageError, with the given code if one is passed. */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}

/** Returns the message of any thrown value (errors from native code are not always Errors). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Wraps a failure of `action` as an IO error, keeping StorageErrors (already named) as they are. */
export function ioError(action: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  return new StorageError(StorageErrorCode.Io, `${action}: ${messageOf(err)}`, { cause: err });
}

/** Throws `signal.reason` if the signal is aborted: operations check it before they start. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw signal.reason;
}
