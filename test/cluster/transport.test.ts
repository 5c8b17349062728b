import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { RaftService } from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { MemberBook } from "../../node/cluster/members.js";
import { PeerClients } from "../../node/cluster/peer-clients.js";
import { messageFromProto } from "../../node/cluster/raft-codec.js";
import { PeerTransport } from "../../node/cluster/transport.js";
import { discardLogger, type Message } from "../../node/raft/index.js";

/** A member of an older version: it serves the unary Send only (Stream is unimplemented). */
async function oldMember(got: Message[]): Promise<{ address: string; close: () => void }> {
  const server = http2.createServer(
    connectNodeAdapter({
      routes: (router) => {
        router.service(RaftService, {
          send(req) {
            for (const p of req.messages) got.push(messageFromProto(p));
            return {};
          },
        });
      },
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.close();
    },
  };
}

const heartbeat = (commit: number): Message => ({
  type: "heartbeat",
  group: 0n,
  from: 1n,
  to: 2n,
  term: 3,
  commit,
  context: new Uint8Array(0),
  sentTick: commit,
});

describe("PeerTransport", () => {
  test("falls back to unary Send for a peer without Stream, in order, after reporting it once", async () => {
    const got: Message[] = [];
    const peer = await oldMember(got);
    const clients = new PeerClients();
    const unreachable: bigint[] = [];
    const t = new PeerTransport({
      self: 1n,
      clusterId: "c",
      clients,
      reports: { reportUnreachable: (id) => unreachable.push(id), reportSnapshot: () => undefined },
      logger: discardLogger,
    });
    try {
      const members = new MemberBook();
      members.set(2n, { name: "old", address: peer.address });
      t.setMembers(members);
      // The first batch goes to Stream, which the old member refuses: it is lost (Raft resends).
      t.send([heartbeat(1)]);
      const deadline = Date.now() + 10_000;
      while (unreachable.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(unreachable).toEqual([2n]);
      // From then on, batches travel as unary Send calls, in order.
      t.send([heartbeat(2), heartbeat(3)]);
      t.send([heartbeat(4)]);
      while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(got.map((m) => (m.type === "heartbeat" ? m.commit : -1))).toEqual([2, 3, 4]);
      expect(unreachable).toEqual([2n]);
    } finally {
      await t.close();
      clients.close();
      peer.close();
    }
  });
});
