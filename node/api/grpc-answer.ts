import type * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import { ClusterError, invalidArgument } from "../cluster/errors.js";
import { FrameError, grpcContentType, reasonHeader } from "../util/index.js";
import { toConnectError } from "./errors.js";

/**
 * Answers of the methods juraft serves as raw gRPC streams (node/api/raft-stream.ts,
 * session-stream.ts), as gRPC over HTTP/2 says: status in trailers, or in the only HEADERS frame
 * ("trailers-only") when nothing was sent before.
 */

/** Sends the response headers if they were not sent yet. */
export function startAnswer(res: http2.Http2ServerResponse): void {
  if (!res.headersSent) res.writeHead(200, { "content-type": grpcContentType });
}

/** Ends the call with status OK. */
export function endOk(res: http2.Http2ServerResponse): void {
  startAnswer(res);
  res.addTrailers({ "grpc-status": "0" });
  res.end();
}

/** Ends the call with `err`'s code, message and reason (as Connect would map it). */
export function endWithError(res: http2.Http2ServerResponse, err: unknown): void {
  const ce = toConnectError(inputError(err));
  const reason = ce.metadata.get(reasonHeader);
  const status = {
    "grpc-status": String(ce.code),
    "grpc-message": encodeURIComponent(ce.rawMessage),
    ...(reason === null ? {} : { [reasonHeader]: reason }),
  };
  if (res.headersSent) res.addTrailers(status);
  else res.writeHead(200, { "content-type": grpcContentType, ...status });
  res.end();
}

/** Framing faults of the caller, as the coded errors Connect answers them with. */
function inputError(err: unknown): unknown {
  if (!(err instanceof FrameError)) return err;
  return err.reason === "too_large"
    ? new ClusterError(Code.ResourceExhausted, "MESSAGE_TOO_LARGE", err.message)
    : invalidArgument("COMPRESSED_MESSAGE", err.message);
}

/** Whether `req` calls `path` in the gRPC protocol (Connect and gRPC-Web stay with Connect). */
export function isGrpcCall(req: http2.Http2ServerRequest, path: string): boolean {
  if (req.url !== path) return false;
  const type = req.headers["content-type"];
  return type === grpcContentType || type === "application/grpc";
}
