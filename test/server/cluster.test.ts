import { join as joinPath } from "node:path";
import { Code } from "@connectrpc/connect";
import { JuraftClient } from "../../node/client/index.js";
import { parseEndpoints } from "../../node/cluster/discovery.js";
import type { JuraftNode } from "../../node/server/juraft-node.js";
import { startNode, tempDir, until } from "./helpers.js";

describe("three in-process nodes over loopback with RocksDB", () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  const nodes: JuraftNode[] = [];

  beforeAll(async () => {
    dir = await tempDir("juraft-cluster-");
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await dir.cleanup();
  }, 30_000);

  test("bootstrap, join as learners, auto-promote, relay, quorum reads, restart", async () => {
    const a = await startNode(dir.dir, "a");
    nodes.push(a);
    await until("a leads", () => a.runtime.status().role === "leader");
    const join = parseEndpoints(a.address);
    const b = await startNode(dir.dir, "b", { join });
    nodes.push(b);
    const c = await startNode(dir.dir, "c", { join });
    nodes.push(c);
    await until("three voters", () => a.runtime.status().config.voters.length === 3);
    expect(b.identity.clusterId).toBe(a.identity.clusterId);

    // A transaction sent to a follower is relayed to the leader and applied everywhere.
    await using client = new JuraftClient({ endpoints: [b.address] });
    await using clientC = new JuraftClient({ endpoints: [c.address] });
    const r = await client.apply([
      { c: "machines", _id: "0", assert: "d-", insert: { life: 0, series: "jammy" } },
    ]);
    expect(r.outcome).toBe("applied");
    if (r.outcome === "applied") expect(r.revnos).toEqual([2n]);
    await until("c applied it", () => c.runtime.store.get("machines", "0") !== undefined);

    // An assert that fails aborts, naming the op.
    const ab = await clientC.apply([
      { c: "machines", _id: "0", assert: "d-", insert: { life: 1 } },
    ]);
    expect(ab.outcome).toBe("aborted");

    // Same txn id twice: applied once, the second answer is the recorded one.
    const t1 = await client.apply([{ c: "machines", _id: "1", insert: { life: 0 } }], {
      txnId: "fixed",
    });
    const t2 = await client.apply([{ c: "machines", _id: "1", insert: { life: 0 } }], {
      txnId: "fixed",
    });
    expect(t2.duplicate).toBe(true);
    expect(t2.index).toBe(t1.index);

    // A quorum read on a follower sees the write acknowledged just before.
    const got = await clientC.get("machines", "1");
    expect(got.doc?.get("life")).toBe(0);

    // A member that lost its data cannot rejoin under its name with a new id: ids are never
    // reused, the old member must be removed first.
    const wiped = client.cluster(a.address).join({ name: "b", address: b.address, nodeId: 12345n });
    await expect(wiped).rejects.toMatchObject({ code: Code.AlreadyExists });
    await expect(wiped).rejects.toThrow(/NAME_IN_USE|remove it first/);
    // A node started under that name on an empty data directory gives up at once (it would be
    // refused forever), naming the member to remove.
    const wipedNode = startNode(joinPath(dir.dir, "wiped"), "b", { join });
    await expect(wipedNode).rejects.toThrow(
      new RegExp(`member ${b.identity.id.toString()} has that name`),
    );

    // Restart a follower: it comes back from its RocksDB log with everything.
    await c.stop();
    nodes.splice(nodes.indexOf(c), 1);
    const c2 = await startNode(dir.dir, "c", { join });
    nodes.push(c2);
    expect(c2.identity.id).toBe(c.identity.id);
    await until("c2 caught up", () => c2.runtime.store.get("machines", "1") !== undefined);
  }, 60_000);

  test("a voter that lost its data is refused its name by a leader elected since", async () => {
    const sub = `${dir.dir}/refused`;
    const a = await startNode(sub, "a");
    nodes.push(a);
    await until("a leads", () => a.runtime.status().role === "leader");
    const join = parseEndpoints(a.address);
    const b = await startNode(sub, "b", { join });
    nodes.push(b);
    const c = await startNode(sub, "c", { join });
    nodes.push(c);
    await until("three voters", () => a.runtime.status().config.voters.length === 3);
    await c.stop();
    nodes.splice(nodes.indexOf(c), 1);
    // A new leader knows no match for the member that is down; it must still refuse to hand its
    // id to a joiner with an empty log (that would forget the votes it cast).
    const from = a.runtime.status().role === "leader" ? a : b;
    const to = from === a ? b : a;
    await using client = new JuraftClient({ endpoints: [from.address] });
    await client.cluster(from.address).transferLeadership({ nodeId: to.identity.id });
    await until("a new leader", () => to.runtime.status().role === "leader");
    expect(to.runtime.status().progress?.get(c.identity.id)?.match ?? 0).toBe(0);
    const rejoin = client.cluster(to.address).join({ name: "c", address: "x:1", nodeId: 999n });
    await expect(rejoin).rejects.toThrow(`member ${c.identity.id.toString()} has that name`);
  }, 60_000);
});
