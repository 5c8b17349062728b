import { createHash } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import type { RaftService } from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { type InstallSnapshotRequest } from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { ClusterError, failedPrecondition, invalidArgument } from "../cluster/errors.js";
import { messageFromProto } from "../cluster/raft-codec.js";
import { decodeBatch } from "../cluster/wire-codec.js";
import type { ApiContext } from "./context.js";
import { Code } from "@connectrpc/connect";

/** Refuses Raft traffic from a member of another cluster (FAILED_PRECONDITION, CLUSTER_MISMATCH). */
export function checkCluster(ctx: Pick<ApiContext, "clusterId">, clusterId: string): void {
  if (clusterId !== ctx.clusterId) {
    throw failedPrecondition(
      "CLUSTER_MISMATCH",
      `receive raft traffic: sender is in cluster ${JSON.stringify(clusterId)}, this node in ${JSON.stringify(ctx.clusterId)}`,
    );
  }
}

/** Raft traffic from other members. */
export function raftService(ctx: ApiContext): ServiceImpl<typeof RaftService> {
  return {
    send(req) {
      checkCluster(ctx, req.clusterId);
      for (const p of req.messages) ctx.runtime.step(messageFromProto(p));
      return {};
    },

    async stream(requests) {
      for await (const req of requests) {
        checkCluster(ctx, req.clusterId);
        for (const m of decodeBatch(req.batch)) ctx.runtime.step(m);
      }
      return {};
    },

    async installSnapshot(stream, hc) {
      const it = stream[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done === true || first.value.message === undefined)
        throw invalidArgument(
          "BAD_SNAPSHOT",
          "install snapshot: the first chunk carries no message",
        );
      checkCluster(ctx, first.value.clusterId);
      const m = messageFromProto(first.value.message);
      if (m.type !== "snap")
        throw invalidArgument(
          "BAD_SNAPSHOT",
          `install snapshot: first message is ${m.type}, not snap`,
        );
      const hash = createHash("sha256");
      let verified = false;
      async function* data(): AsyncIterable<Uint8Array> {
        for (;;) {
          const r: IteratorResult<InstallSnapshotRequest> = await it.next();
          if (r.done === true) break;
          if (r.value.last) {
            const digest = hash.digest();
            if (!Buffer.from(digest).equals(Buffer.from(r.value.sha256))) {
              throw new ClusterError(
                Code.DataLoss,
                "CORRUPT_SNAPSHOT",
                `install snapshot at ${m.type === "snap" ? m.snapshot.metadata.index : 0}: checksum mismatch`,
              );
            }
            verified = true;
            break;
          }
          hash.update(r.value.data);
          yield r.value.data;
        }
        if (!verified)
          throw new ClusterError(
            Code.DataLoss,
            "TRUNCATED_SNAPSHOT",
            "install snapshot: the stream ended before its checksum",
          );
      }
      await ctx.runtime.receiveSnapshot(m, data(), hc.signal);
      return { appliedIndex: BigInt(ctx.runtime.applied) };
    },
  };
}
