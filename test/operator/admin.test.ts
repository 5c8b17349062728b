/**
 * NodeAdmin (the operator's MemberAdmin) against real in-process juraft nodes: the members'
 * peer DNS addresses are translated to the loopback ports the test chose, exactly as the
 * end-to-end test's kubelet does.
 */
import { jest } from "@jest/globals";
import { NodeAdmin } from "../../operator/cluster/admin.js";
import { clusterIdOf, memberAddress, type ClusterRef } from "../../operator/reconcile/names.js";
import type { JuraftNode } from "../../node/server/juraft-node.js";
import { parseEndpoints } from "../../node/cluster/discovery.js";
import { freePort, startNode, tempDir, until } from "../server/helpers.js";

jest.setTimeout(60_000);

const c: ClusterRef = { name: "db", namespace: "ns", uid: "0b5e" };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("NodeAdmin against real juraft nodes", () => {
  const nodes: JuraftNode[] = [];
  let cleanup: () => Promise<void> = () => Promise.resolve();
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await cleanup();
  });

  it("reports status, adds a learner the pod adopts, promotes, transfers and removes", async () => {
    const tmp = await tempDir("juraft-admin-");
    cleanup = tmp.cleanup;
    const ports = [await freePort(), await freePort(), await freePort()];
    const table = new Map(ports.map((p, o) => [memberAddress(c, o), `127.0.0.1:${p}`]));
    const translate = (a: string): string => {
      const t = table.get(a);
      if (t === undefined) throw new Error(`no address for ${a}`);
      return t;
    };
    const admin = new NodeAdmin({ sleep, translate });
    const addr = (o: number): string => translate(memberAddress(c, o));
    const start = async (o: number): Promise<JuraftNode> => {
      const n = await startNode(tmp.dir, `db-${o}`, {
        listenPort: ports[o] ?? 0,
        clusterId: clusterIdOf(c),
        ...(o > 0 ? { join: parseEndpoints(addr(0)), manualPromotion: true } : {}),
      });
      nodes.push(n);
      return n;
    };

    // No node answers yet: no leader, no status (an expected state, not an error).
    expect(await admin.status(c, 3)).toBeUndefined();

    const n0 = await start(0);
    await until("db-0 leads", async () => (await admin.status(c, 1)) !== undefined);
    const one = await admin.status(c, 1);
    expect(one).toMatchObject({
      clusterId: clusterIdOf(c),
      leaderId: n0.identity.id.toString(),
      joint: false,
      members: [{ id: n0.identity.id.toString(), name: "db-0", role: "voter" }],
    });

    // Pre-registration: the learner exists before its pod, which then adopts its id.
    await admin.addLearner(c, "db-1", memberAddress(c, 1));
    const pre = await admin.status(c, 1);
    const learner = pre?.members.find((m) => m.name === "db-1");
    expect(learner).toMatchObject({ role: "learner", matchIndex: 0 });
    expect(n0.runtime.members.get(BigInt(learner?.id ?? "0"))?.address).toBe(addr(1));
    const n1 = await start(1);
    expect(n1.identity.id.toString()).toBe(learner?.id);
    await until("db-1 catches up", async () => {
      const st = await admin.status(c, 2);
      const m = st?.members.find((x) => x.name === "db-1");
      return st !== undefined && m !== undefined && m.matchIndex >= st.lastIndex;
    });
    // Manual promotion: the node's promoter leaves it a learner until the operator acts.
    expect((await admin.status(c, 2))?.members.find((m) => m.name === "db-1")?.role).toBe(
      "learner",
    );
    await admin.promote(c, n1.identity.id.toString());
    await until(
      "db-1 is a voter",
      async () => (await admin.status(c, 2))?.members.every((m) => m.role === "voter") === true,
    );

    await admin.addLearner(c, "db-2", memberAddress(c, 2));
    const n2 = await start(2);
    await until("db-2 catches up", async () => {
      const st = await admin.status(c, 3);
      return st?.members.find((x) => x.name === "db-2")?.matchIndex === st?.lastIndex;
    });
    await admin.promote(c, n2.identity.id.toString());
    await until("3 voters", async () => {
      const st = await admin.status(c, 3);
      return st?.members.filter((m) => m.role === "voter").length === 3;
    });

    // Leadership moves off the victim, then the victim is removed and the change committed.
    await admin.transferLeadership(c, n0.identity.id.toString(), n2.identity.id.toString());
    expect((await admin.status(c, 3))?.leaderId).toBe(n2.identity.id.toString());
    await admin.removeMember(c, n0.identity.id.toString());
    const after = await admin.status(c, 3);
    expect(after?.members.map((m) => m.name).sort()).toEqual(["db-1", "db-2"]);
    expect(n1.runtime.status().commit).toBeGreaterThan(0);

    // A name in use is refused by the leader: the error reaches the caller (never swallowed).
    await expect(admin.addLearner(c, "db-1", memberAddress(c, 1))).rejects.toThrow(
      /already_exists.*a member with that name exists/,
    );
  });
});
