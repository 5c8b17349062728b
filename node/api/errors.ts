import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { ClusterError } from "../cluster/errors.js";
import { RaftError } from "../raft/index.js";
import { StoreError } from "../store/index.js";
import { WatchError } from "../watch/index.js";
import { reasonHeader } from "../util/index.js";

const codes: Record<string, Code> = {
  canceled: Code.Canceled,
  unknown: Code.Unknown,
  invalid_argument: Code.InvalidArgument,
  deadline_exceeded: Code.DeadlineExceeded,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  permission_denied: Code.PermissionDenied,
  resource_exhausted: Code.ResourceExhausted,
  failed_precondition: Code.FailedPrecondition,
  aborted: Code.Aborted,
  out_of_range: Code.OutOfRange,
  unimplemented: Code.Unimplemented,
  internal: Code.Internal,
  unavailable: Code.Unavailable,
  data_loss: Code.DataLoss,
  unauthenticated: Code.Unauthenticated,
};

/** The header carrying an error's stable reason (e.g. `UNKNOWN_OPERATOR`, `COMPACTED`). */
export { reasonHeader };

/**
 * Converts any error thrown by the node into a ConnectError with a real code and the stable
 * reason in a header. Unknown errors stay Internal (they are bugs; the node logs them).
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof ClusterError) return err.toConnectError();
  if (err instanceof StoreError || err instanceof WatchError) {
    return new ConnectError(
      err.message,
      codes[err.code] ?? Code.Unknown,
      { [reasonHeader]: err.reason },
      undefined,
      err,
    );
  }
  if (err instanceof RaftError) {
    return new ConnectError(
      err.message,
      Code.Unavailable,
      { [reasonHeader]: err.code },
      undefined,
      err,
    );
  }
  if (err instanceof Error && err.name === "AbortError")
    return new ConnectError(err.message, Code.Canceled);
  if (err instanceof Error && err.name === "TimeoutError")
    return new ConnectError(err.message, Code.DeadlineExceeded);
  return ConnectError.from(err, Code.Internal);
}

/** A server interceptor converting thrown errors once, at the RPC boundary (unary and streams). */
export const errorInterceptor: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    if (!res.stream) return res;
    const inner = res.message;
    async function* guarded(): AsyncIterable<
      typeof inner extends AsyncIterable<infer T> ? T : never
    > {
      try {
        yield* inner as AsyncIterable<never>;
      } catch (err) {
        throw toConnectError(err);
      }
    }
    return { ...res, message: guarded() };
  } catch (err) {
    throw toConnectError(err);
  }
};
