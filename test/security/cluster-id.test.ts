import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  MessageSchema,
  MessageType,
  type InstallSnapshotRequest,
} from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { parseEndpoints } from "../../node/cluster/discovery.js";
import { PeerClients } from "../../node/cluster/peer-clients.js";
import type { JuraftNode } from "../../node/server/juraft-node.js";
import { startNode, tempDir, until } from "../server/helpers.js";

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail, it succeeded");
}

describe("the cluster id stops a node of another cluster", () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  const nodes: JuraftNode[] = [];
  const peers = new PeerClients();

  beforeAll(async () => {
    dir = await tempDir("juraft-clusterid-");
  });
  afterAll(async () => {
    peers.close();
    for (const n of nodes) await n.stop();
    await dir.cleanup();
  }, 30_000);

  test("a node of cluster X can neither join cluster A nor have its Raft messages stepped", async () => {
    const a = await startNode(dir.dir, "a", { clusterId: "cluster-a" });
    nodes.push(a);
    const x = await startNode(dir.dir, "x", { clusterId: "cluster-x" });
    nodes.push(x);
    await until("both lead", () => [a, x].every((n) => n.runtime.status().role === "leader"));
    const before = a.runtime.status();

    // Join: a node expecting cluster X, pointed at A, is refused for good (no retry loop).
    const err = await startNode(dir.dir, "y", {
      clusterId: "cluster-x",
      join: parseEndpoints(a.peerAddress),
      signal: AbortSignal.timeout(10_000),
    }).then(
      (n) => {
        nodes.push(n);
        return new Error("y joined");
      },
      (e: unknown) => ConnectError.from(e),
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).metadata.get("juraft-reason")).toBe("CLUSTER_MISMATCH");
    expect(a.runtime.members.idOf("y")).toBeUndefined();

    // Raft traffic from X (a vote at a far higher term, a heartbeat, an append) is refused.
    const term = BigInt(before.term + 5);
    const from = x.identity.id;
    const to = a.identity.id;
    const messages = [
      create(MessageSchema, { type: MessageType.VOTE, from, to, term, index: 100n, logTerm: term }),
      create(MessageSchema, { type: MessageType.HEARTBEAT, from, to, term, commit: 1n }),
      create(MessageSchema, { type: MessageType.APP, from, to, term, index: 0n, logTerm: 0n }),
    ];
    for (const clusterId of [x.identity.clusterId, "", "CLUSTER-A", "cluster-a "]) {
      const e = await failure(peers.raft(a.peerAddress).send({ clusterId, messages }));
      expect([clusterId, e.code]).toEqual([clusterId, Code.FailedPrecondition]);
      expect(e.metadata.get("juraft-reason")).toBe("CLUSTER_MISMATCH");
    }
    async function* snapshotChunks(): AsyncIterable<InstallSnapshotRequest> {
      await Promise.resolve();
      yield {
        $typeName: "juraft.raft.v1.InstallSnapshotRequest",
        clusterId: x.identity.clusterId,
        message: create(MessageSchema, { type: MessageType.SNAP, from, to, term }),
        data: new Uint8Array(0),
        last: false,
        sha256: new Uint8Array(0),
      };
    }
    const snap = await failure(peers.raft(a.peerAddress).installSnapshot(snapshotChunks()));
    expect(snap.code).toBe(Code.FailedPrecondition);
    expect(snap.metadata.get("juraft-reason")).toBe("CLUSTER_MISMATCH");

    const after = a.runtime.status();
    expect(after.term).toBe(before.term);
    expect(after.role).toBe("leader");
    expect(after.config).toEqual(before.config);
  }, 60_000);
});
