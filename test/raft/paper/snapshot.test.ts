/** Raft paper §7: log compaction and InstallSnapshot. */
import { Cluster, data, Solo } from "./harness.js";
import type { NodeId, Snapshot } from "../../../node/raft/index.js";

const cfg = { preVote: true, checkQuorum: true } as const;

/** Snapshots `id` at what it applied and compacts its log up to there. */
function compact(c: Cluster, id: NodeId): Snapshot {
  const p = c.peer(id);
  const snap = p.storage.createSnapshot(p.appliedIndex, p.confState, data(`sm@${p.appliedIndex}`));
  p.storage.compact(p.appliedIndex);
  return snap;
}

describe("§7 log compaction and InstallSnapshot", () => {
  // Rule: "the leader must occasionally send snapshots to followers that lag behind ... when the
  // leader has already discarded the next log entry that it needs to send to a follower".
  test("§7 a follower behind the leader's compacted log receives a snapshot and catches up", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: cfg });
    c.campaign(1n);
    c.isolate(3n);
    for (const v of ["a", "b", "c"]) c.propose(1n, v);
    const snap = compact(c, 1n);
    c.recover();
    c.tick(3);
    const p3 = c.peer(3n);
    expect(p3.snapshotsApplied.map((s) => s.metadata.index)).toEqual([snap.metadata.index]);
    expect(p3.storage.snapshot().metadata).toEqual(snap.metadata);
    expect(p3.confState.voters).toEqual([1n, 2n, 3n]);
    expect(c.node(3n).status()).toMatchObject({
      commit: snap.metadata.index,
      applied: snap.metadata.index,
    });
    // Replication continues from the snapshot.
    c.propose(1n, "d");
    expect(p3.appliedData()).toEqual(["d"]);
    expect(c.node(1n).status().progress?.get(3n)?.state).toBe("replicate");
  });

  // Rule: "If the follower receives a snapshot that describes a prefix of its log ... entries
  // covered by the snapshot are deleted but entries following the snapshot are still valid".
  // juraft (like etcd) ignores a snapshot at or below its commit index and answers with it.
  test("§7 a snapshot that is not ahead of the follower's commit index is ignored", () => {
    const s = new Solo(2n, [1n, 2n, 3n], { preVote: false });
    s.step({
      type: "app",
      from: 1n,
      term: 1,
      index: 0,
      logTerm: 0,
      commit: 3,
      entries: [1, 2, 3].map((i) => ({
        type: "normal" as const,
        term: 1,
        index: i,
        data: data(`e${i}`),
      })),
    });
    const out = s.step({
      type: "snap",
      from: 1n,
      term: 1,
      snapshot: {
        metadata: {
          index: 2,
          term: 1,
          confState: {
            voters: [1n, 2n, 3n],
            learners: [],
            votersOutgoing: [],
            learnersNext: [],
            autoLeave: false,
          },
        },
        data: data("old"),
      },
    });
    expect(out).toEqual([expect.objectContaining({ type: "appResp", index: 3, reject: false })]);
    expect(s.peer.snapshotsApplied).toEqual([]);
    expect(s.node.status().lastIndex).toBe(3);
  });

  // Rule: a snapshot whose last entry the follower already holds just fast-forwards its commit.
  test("§7 a snapshot matching an entry the follower holds only advances its commit", () => {
    const s = new Solo(2n, [1n, 2n, 3n], { preVote: false });
    s.step({
      type: "app",
      from: 1n,
      term: 1,
      index: 0,
      logTerm: 0,
      commit: 0,
      entries: [1, 2, 3].map((i) => ({
        type: "normal" as const,
        term: 1,
        index: i,
        data: data(`e${i}`),
      })),
    });
    s.step({
      type: "snap",
      from: 1n,
      term: 1,
      snapshot: {
        metadata: {
          index: 2,
          term: 1,
          confState: {
            voters: [1n, 2n, 3n],
            learners: [],
            votersOutgoing: [],
            learnersNext: [],
            autoLeave: false,
          },
        },
        data: data("s"),
      },
    });
    expect(s.peer.snapshotsApplied).toEqual([]);
    expect(s.node.status()).toMatchObject({ commit: 2, lastIndex: 3 });
  });

  // Rule: a node refuses a snapshot whose configuration does not include it.
  test("§7 a snapshot whose configuration excludes the receiver is refused", () => {
    const s = new Solo(2n, [1n, 2n, 3n], { preVote: false });
    s.step({
      type: "snap",
      from: 1n,
      term: 1,
      snapshot: {
        metadata: {
          index: 5,
          term: 1,
          confState: {
            voters: [1n, 3n],
            learners: [],
            votersOutgoing: [],
            learnersNext: [],
            autoLeave: false,
          },
        },
        data: data("s"),
      },
    });
    expect(s.peer.snapshotsApplied).toEqual([]);
    expect(s.node.status()).toMatchObject({ commit: 0, lastIndex: 0 });
  });

  // Rule: the transport reports how sending a snapshot ended; after a failure the leader probes
  // again from the follower's match, after success from the snapshot's index.
  test("§7 reportSnapshot moves the follower out of snapshot state", () => {
    for (const status of ["finish", "failure"] as const) {
      const c = new Cluster({ voters: [1n, 2n, 3n], config: cfg });
      c.campaign(1n);
      c.isolate(3n);
      c.propose(1n, "a");
      const snap = compact(c, 1n);
      c.recover();
      c.dropTypes("snap");
      c.tick(1);
      const match = c.node(1n).status().progress?.get(3n)?.match ?? -1;
      expect(c.node(1n).status().progress?.get(3n)).toMatchObject({ state: "snapshot" });
      c.node(1n).reportSnapshot(3n, status);
      const pr = c.node(1n).status().progress?.get(3n);
      expect(pr?.state).toBe("probe");
      expect(pr?.next).toBe(status === "finish" ? snap.metadata.index + 1 : match + 1);
    }
  });

  // Rule: a node restarted from a snapshot plus a log suffix recovers its state and membership.
  test("§7 a restarted node recovers from its snapshot and log", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: cfg });
    c.campaign(1n);
    c.propose(1n, "a");
    compact(c, 2n);
    c.propose(1n, "b");
    c.restart(2n);
    c.tick(2);
    expect(c.peer(2n).appliedData()).toEqual(["b"]);
    expect(c.node(2n).status().config.voters).toEqual([1n, 2n, 3n]);
    c.propose(1n, "c");
    expect(c.peer(2n).appliedData()).toEqual(["b", "c"]);
  });
});
