import { Code, ConnectError } from "@connectrpc/connect";

/**
 * An expected failure of the node runtime, with a Connect code (never invented) and a stable
 * reason. Converted once, at the RPC boundary, into a ConnectError.
 */
export class ClusterError extends Error {
  override readonly name = "ClusterError";
  readonly code: Code;
  readonly reason: string;

  /** Creates an error; `message` names the failed action and the state. */
  constructor(code: Code, reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.reason = reason;
  }

  /** Returns the equivalent ConnectError, carrying the reason in the `juraft-reason` header. */
  toConnectError(): ConnectError {
    const err = new ConnectError(
      this.message,
      this.code,
      { "juraft-reason": this.reason },
      undefined,
      this,
    );
    return err;
  }
}

/** Builds an Unavailable error: no leader, leadership changed, node stopping. Clients retry. */
export function unavailable(reason: string, message: string, cause?: unknown): ClusterError {
  return new ClusterError(Code.Unavailable, reason, message, { cause });
}

/** Builds a FailedPrecondition error. */
export function failedPrecondition(reason: string, message: string): ClusterError {
  return new ClusterError(Code.FailedPrecondition, reason, message);
}

/** Builds an InvalidArgument error. */
export function invalidArgument(reason: string, message: string): ClusterError {
  return new ClusterError(Code.InvalidArgument, reason, message);
}
