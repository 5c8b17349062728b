import type * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import { ClusterError, invalidArgument } from "../cluster/errors.js";
import { decodeStreamRequest, raftStreamPath } from "../cluster/stream-codec.js";
import { decodeBatch } from "../cluster/wire-codec.js";
import {
  FrameError,
  FrameReader,
  emptyFrame,
  grpcContentType,
  reasonHeader,
} from "../util/index.js";
import type { RaftRuntime } from "../cluster/runtime.js";
import type { ApiContext } from "./context.js";
import { toConnectError } from "./errors.js";
import { checkCluster } from "./raft-service.js";

/**
 * Whether a request is `RaftService.Stream` in the gRPC protocol, the form members send: served
 * by {@link serveRaftStream}. Connect and gRPC-Web requests of it (and everything else) stay with
 * Connect.
 */
export function isRaftStream(req: http2.Http2ServerRequest): boolean {
  if (req.url !== raftStreamPath) return false;
  const type = req.headers["content-type"];
  return type === grpcContentType || type === "application/grpc";
}

/**
 * Serves `RaftService.Stream` on the HTTP/2 stream itself, in the gRPC protocol: each message is
 * stepped into Raft as it arrives, with no per-message promise, iterator or object beyond the
 * decoded batch (Connect's stream pipeline cost more than the rest of replication on followers).
 * Same checks as the Connect implementation: the cluster id of every batch, a decodable batch;
 * the first failure ends the call with its gRPC status and reason.
 */
export function serveRaftStream(
  ctx: Pick<ApiContext, "clusterId"> & { readonly runtime: Pick<RaftRuntime, "step"> },
  maxBytes: number,
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
): void {
  const frames = new FrameReader(maxBytes, "RaftService.Stream");
  let done = false;
  const finish = (err: unknown): void => {
    if (done) return;
    done = true;
    req.off("data", onData);
    if (err === undefined) {
      res.writeHead(200, { "content-type": grpcContentType });
      res.write(emptyFrame);
      res.addTrailers({ "grpc-status": "0" });
      res.end();
      return;
    }
    const ce = toConnectError(inputError(err));
    // Trailers-only (gRPC over HTTP/2): the status travels in the one HEADERS frame.
    const reason = ce.metadata.get(reasonHeader);
    res.writeHead(200, {
      "content-type": grpcContentType,
      "grpc-status": String(ce.code),
      "grpc-message": encodeURIComponent(ce.rawMessage),
      ...(reason === null ? {} : { [reasonHeader]: reason }),
    });
    res.end();
    // What the member still sends is not read: reset its side once the answer is out.
    req.resume();
  };
  const onData = (chunk: Buffer): void => {
    try {
      for (const m of frames.push(chunk)) {
        const r = decodeStreamRequest(m);
        checkCluster(ctx, r.clusterId);
        for (const msg of decodeBatch(r.batch)) ctx.runtime.step(msg);
      }
    } catch (err) {
      finish(err);
    }
  };
  req.on("data", onData);
  req.once("end", () => {
    finish(
      frames.pending === 0
        ? undefined
        : invalidArgument(
            "TRUNCATED_MESSAGE",
            `read RaftService.Stream: the stream ended inside a message (${frames.pending} bytes of it)`,
          ),
    );
  });
  // A member that goes away mid-stream (restart, partition): nobody is left to answer.
  req.once("aborted", () => {
    done = true;
  });
}

/** Input the peer got wrong, as the coded error Connect would answer it with. */
function inputError(err: unknown): unknown {
  if (err instanceof FrameError)
    return err.reason === "too_large"
      ? new ClusterError(Code.ResourceExhausted, "MESSAGE_TOO_LARGE", err.message)
      : invalidArgument("COMPRESSED_MESSAGE", err.message);
  return err;
}
