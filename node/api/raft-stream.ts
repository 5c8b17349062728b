import type * as http2 from "node:http2";
import { invalidArgument } from "../cluster/errors.js";
import { decodeStreamRequest, raftStreamPath } from "../cluster/stream-codec.js";
import { decodeBatch } from "../cluster/wire-codec.js";
import { FrameReader, emptyFrame } from "../util/index.js";
import type { RaftRuntime } from "../cluster/runtime.js";
import type { ApiContext } from "./context.js";
import { endOk, endWithError, isGrpcCall, startAnswer } from "./grpc-answer.js";
import { checkCluster } from "./raft-service.js";

/**
 * Whether a request is `RaftService.Stream` in the gRPC protocol, the form members send: served
 * by {@link serveRaftStream}. Connect and gRPC-Web requests of it (and everything else) stay with
 * Connect.
 */
export function isRaftStream(req: http2.Http2ServerRequest): boolean {
  return isGrpcCall(req, raftStreamPath);
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
      // Stream returns one (empty) StreamResponse, then the status.
      startAnswer(res);
      res.write(emptyFrame);
      endOk(res);
      return;
    }
    endWithError(res, err);
    // What the member still sends is not read: let it flow away.
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
