import { DocumentStore, encodeDoc, toDoc, type ChangeEvent } from "../../node/store/index.js";
import { systemClock } from "../../node/cluster/clock.js";
import { MemberBook, encodeMemberContext } from "../../node/cluster/members.js";
import { MemoryLogStore, MemorySnapshotStore } from "../../node/cluster/memory-stores.js";
import { RaftRuntime } from "../../node/cluster/runtime.js";
import { discardLogger, type NodeId } from "../../node/raft/index.js";
import { LoopbackNetwork } from "./loopback.js";

function newRuntime(
  id: NodeId,
  net: LoopbackNetwork,
  events: ChangeEvent[][],
  snapshotEvery = 10_000,
): RaftRuntime {
  let seed = Number(id) * 7919;
  const rt = new RaftRuntime(
    {
      id,
      log: new MemoryLogStore(),
      snapshots: new MemorySnapshotStore(),
      store: new DocumentStore(),
      members: new MemberBook(),
      sink: {
        publish: (_i, ev) => events.push([...ev]),
        compactTo: () => undefined,
      },
      clock: systemClock,
      random: (n) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n,
      logger: discardLogger,
      tickMs: 10,
      snapshotEvery,
      snapshotTrailing: 5,
    },
    0,
  );
  net.runtimes.set(id, rt);
  return rt;
}

function ops(list: unknown[]): Uint8Array {
  return encodeDoc(toDoc({ ops: list }, "request"));
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("RaftRuntime", () => {
  test("bootstraps, grows to three members through learners, replicates transactions", async () => {
    const net = new LoopbackNetwork();
    const events: ChangeEvent[][] = [];
    const a = newRuntime(1n, net, events, 20);
    a.bootstrap();
    a.start(net.transport(1n));
    await until("node 1 leads", () => a.status().role === "leader");
    for (const id of [2n, 3n]) {
      const rt = newRuntime(id, net, []);
      rt.start(net.transport(id));
      const context = encodeMemberContext({
        name: `n${id}`,
        address: `127.0.0.1:${7000 + Number(id)}`,
      });
      await a.proposeConfChange({
        transition: "auto",
        changes: [{ type: "addLearner", nodeId: id }],
        context,
      });
      await until(`learner ${id} catches up`, () => rt.applied >= a.applied);
      await a.proposeConfChange({
        transition: "auto",
        changes: [{ type: "addNode", nodeId: id }],
        context: new Uint8Array(0),
      });
    }
    expect(a.status().config.voters).toEqual([1n, 2n, 3n]);
    for (let i = 0; i < 40; i++) {
      const r = await a.propose({
        txnId: `t${i}`,
        ops: ops([{ c: "units", _id: `u/${i}`, assert: "d-", insert: { life: 0 } }]),
        traceContext: {},
        timeMs: 0,
      });
      expect(r.outcome).toBe("applied");
    }
    const b = net.runtimes.get(2n) as RaftRuntime;
    const c = net.runtimes.get(3n) as RaftRuntime;
    await until(
      "followers apply everything",
      () => b.applied === a.applied && c.applied === a.applied,
    );
    for (const rt of [a, b, c]) expect(rt.store.count("units")).toBe(40);
    expect(a.members.get(3n)?.name).toBe("n3");
    expect(b.members.get(2n)?.address).toBe("127.0.0.1:7002");
    // Snapshots were taken (every 20 entries) and the log compacted behind them.
    expect(a.snapshotIndex).toBeGreaterThan(0);
    // A quorum read on a follower sees every acknowledged write.
    await b.linearizableRead();
    expect(b.store.count("units")).toBe(40);
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  });

  test("reads arriving in one turn share a ReadIndex round; a later read gets its own", async () => {
    const net = new LoopbackNetwork();
    const a = newRuntime(1n, net, []);
    a.bootstrap();
    a.start(net.transport(1n));
    await until("node 1 leads", () => a.status().role === "leader");
    const b = newRuntime(2n, net, []);
    b.start(net.transport(2n));
    await a.proposeConfChange({
      transition: "auto",
      changes: [{ type: "addNode", nodeId: 2n }],
      context: encodeMemberContext({ name: "n2", address: "127.0.0.1:7002" }),
    });
    await until("b follows", () => b.status().lead === 1n && b.applied === a.applied);
    const rounds = (): number =>
      net.sent.filter((m) => m.type === "readIndex" && m.from === 2n).length;
    const before = rounds();
    const reads = Array.from({ length: 50 }, () => b.linearizableRead());
    const indexes = await Promise.all(reads);
    expect(rounds() - before).toBe(1);
    expect(new Set(indexes).size).toBe(1);
    // A write acknowledged before a read begins is always visible to it: the read does not
    // join a round requested earlier.
    const pending = b.linearizableRead();
    const w = await a.propose({
      txnId: "w",
      ops: ops([{ c: "units", _id: "late", insert: {} }]),
      traceContext: {},
      timeMs: 0,
    });
    expect(w.outcome).toBe("applied");
    await b.linearizableRead();
    expect(b.store.get("units", "late")).toBeDefined();
    await pending;
    expect(rounds() - before).toBe(3);
    // An aborted reader fails alone; its round still serves the others.
    const ac = new AbortController();
    const gone = b.linearizableRead(ac.signal);
    const stays = b.linearizableRead();
    ac.abort(new Error("caller left"));
    await expect(gone).rejects.toThrow("caller left");
    await expect(stays).resolves.toBeGreaterThan(0);
    await Promise.all([a.stop(), b.stop()]);
  });

  test("rounds of different nodes never collide at the leader (each is answered)", async () => {
    // Every node numbers its rounds from 1; the leader keys pending rounds by context, so the
    // contexts must be unique across the cluster or one node's round swallows another's.
    const net = new LoopbackNetwork();
    const a = newRuntime(1n, net, []);
    a.bootstrap();
    a.start(net.transport(1n));
    await until("node 1 leads", () => a.status().role === "leader");
    const followers = [2n, 3n].map((id) => newRuntime(id, net, []));
    for (const f of followers) {
      f.start(net.transport(f.id));
      await a.proposeConfChange({
        transition: "auto",
        changes: [{ type: "addNode", nodeId: f.id }],
        context: encodeMemberContext({
          name: `n${f.id}`,
          address: `127.0.0.1:${7000 + Number(f.id)}`,
        }),
      });
    }
    await until("both follow", () => followers.every((f) => f.status().lead === 1n));
    for (let round = 0; round < 5; round++) {
      const answered = new Set<NodeId>();
      const failed: unknown[] = [];
      for (const rt of [a, ...followers])
        rt.linearizableRead().then(
          () => answered.add(rt.id),
          (err: unknown) => failed.push(err),
        );
      await until(`round ${round}: every node's read answered`, () => answered.size === 3);
      expect(failed).toEqual([]);
    }
    await Promise.all([a.stop(), ...followers.map((f) => f.stop())]);
  });

  test("a member added after compaction catches up through a streamed snapshot", async () => {
    const net = new LoopbackNetwork();
    const a = newRuntime(1n, net, [], 10);
    a.bootstrap(encodeMemberContext({ name: "a", address: "a:1" }));
    a.start(net.transport(1n));
    await until("node 1 leads", () => a.status().role === "leader");
    for (let i = 0; i < 60; i++) {
      await a.propose({
        txnId: `s${i}`,
        ops: ops([{ c: "m", _id: i, insert: { v: i } }]),
        traceContext: {},
        timeMs: 0,
      });
    }
    // Snapshots every 10 entries with 5 trailing: the log no longer starts at 1.
    expect(a.snapshotIndex).toBeGreaterThan(40);
    const b = newRuntime(2n, net, []);
    b.start(net.transport(2n));
    const context = encodeMemberContext({ name: "b", address: "b:1" });
    await a.proposeConfChange({
      transition: "auto",
      changes: [{ type: "addLearner", nodeId: 2n }],
      context,
    });
    await until(
      "learner 2 installed a snapshot and caught up",
      () => b.applied >= a.applied && b.snapshotIndex > 0,
    );
    expect(b.store.count("m")).toBe(60);
    expect(b.members.get(1n)?.name).toBe("a");
    await Promise.all([a.stop(), b.stop()]);
  });
});
