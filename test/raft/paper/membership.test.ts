/**
 * Raft paper §6 / thesis chapter 4: cluster membership changes. Single-member changes (§4.1),
 * learners (§4.2.1), joint consensus (§4.3, §6 of the paper), one change at a time, removed members
 * stop participating and a removed leader steps down (§4.2.2).
 */
import { Cluster, joint, leaveJoint, single, Solo, voteResp } from "./harness.js";
import {
  RaftErrorCode,
  RawNode,
  MemoryStorage,
  emptyConfState,
  isRaftError,
  type ConfChange,
  type NodeId,
} from "../../../node/raft/index.js";

const cfg = { preVote: true, checkQuorum: true } as const;

function dropped(f: () => unknown): boolean {
  try {
    f();
  } catch (err) {
    return isRaftError(err, RaftErrorCode.ProposalDropped);
  }
  return false;
}

/** A leader-elected cluster of `voters` with node 1 leading. */
function cluster(voters: readonly NodeId[]): Cluster {
  const c = new Cluster({ voters, config: cfg });
  expect(c.campaign(1n)).toBe("leader");
  return c;
}

describe("§6 single-member changes (thesis §4.1)", () => {
  // Rule: a server is added by a configuration entry in the log; once it applies, the new server
  // receives the log and counts in the majority.
  test("§6 an added server catches up and then counts towards the majority", () => {
    const c = cluster([1n, 2n, 3n]);
    c.propose(1n, "before");
    c.addNode(4n, cfg);
    c.proposeConfChange(1n, single("addNode", 4n));
    c.tick(2);
    for (const id of [1n, 2n, 3n, 4n]) {
      expect(c.node(id).status().config.voters).toEqual([1n, 2n, 3n, 4n]);
      expect(c.peer(id).appliedData()).toEqual(["before"]);
    }
    // With four voters, the leader plus one follower (2 of 4) is no longer a majority.
    c.cut(1n, 3n);
    c.cut(1n, 4n);
    const { index } = c.propose(1n, "needs three");
    expect(c.node(1n).status().commit).toBeLessThan(index);
    c.recover();
    c.tick(1);
    expect(c.node(1n).status().commit).toBeGreaterThanOrEqual(index);
  });

  // Rule: after a server is removed, a majority of the remaining servers suffices and the leader
  // stops replicating to the removed one.
  test("§6 after removing a server the rest commit without it and it gets nothing more", () => {
    const c = cluster([1n, 2n, 3n]);
    c.proposeConfChange(1n, single("removeNode", 3n));
    c.tick(1);
    expect(c.node(1n).status().config.voters).toEqual([1n, 2n]);
    const mark = c.sent.length;
    c.propose(1n, "x");
    c.tick(3);
    expect(c.sentSince(mark).filter((m) => m.to === 3n)).toEqual([]);
    expect(c.peer(2n).appliedData()).toEqual(["x"]);
    expect(c.peer(3n).appliedData()).toEqual([]);
  });

  // Rule: "removed servers ... will no longer participate": a removed node is not promotable and
  // never campaigns, however long it hears nothing.
  test("§6 a removed server that applied its removal never campaigns", () => {
    const c = cluster([1n, 2n, 3n]);
    c.proposeConfChange(1n, single("removeNode", 3n));
    c.tick(1);
    expect(c.node(3n).status().config.voters).toEqual([1n, 2n]);
    const term = c.node(3n).status().term;
    c.isolate(3n);
    c.tick(100, [3n]);
    expect(c.node(3n).status()).toMatchObject({ term, role: "follower" });
    expect(
      c.sent.filter((m) => m.from === 3n && (m.type === "vote" || m.type === "preVote")),
    ).toEqual([]);
  });

  // Rule (thesis §4.2.2): a leader that is removed from the configuration steps down once the
  // change is committed; meanwhile it refuses proposals. The others elect a new leader.
  test("§6 a removed leader steps down after the change commits", () => {
    const c = cluster([1n, 2n, 3n]);
    const { index } = c.node(1n).proposeConfChange(single("removeNode", 1n));
    c.stabilize();
    expect(c.node(1n).status().commit).toBeGreaterThanOrEqual(index);
    expect(c.peer(1n).appliedIndex).toBeGreaterThanOrEqual(index);
    expect(dropped(() => c.node(1n).propose(new Uint8Array(1)))).toBe(true);
    c.tick(30);
    expect(c.node(1n).status().role).toBe("follower");
    const l = c.leader();
    expect(l === 2n || l === 3n).toBe(true);
    c.propose(l ?? 0n, "after");
    expect(c.peer(2n).appliedData()).toEqual(["after"]);
    expect(c.peer(3n).appliedData()).toEqual(["after"]);
  });

  // Rule (thesis §4.1): "a leader ... will not begin a new configuration change until the
  // previous one has committed" (juraft: until applied). A second change is dropped meanwhile.
  test("§6 only one configuration change may be in flight", () => {
    const c = cluster([1n, 2n, 3n]);
    c.isolate(1n);
    c.node(1n).proposeConfChange(single("addLearner", 4n));
    expect(dropped(() => c.node(1n).proposeConfChange(single("addLearner", 5n)))).toBe(true);
    c.stabilize();
    expect(dropped(() => c.node(1n).proposeConfChange(single("addLearner", 5n)))).toBe(true);
    c.recover();
    c.tick(2);
    expect(c.node(1n).status().config.learners).toEqual([4n]);
    expect(dropped(() => c.node(1n).proposeConfChange(single("addLearner", 5n)))).toBe(false);
  });

  // Rule: a change that the configuration cannot take is refused at propose time (juraft drops it
  // with PROPOSAL_DROPPED instead of logging an empty entry as etcd does).
  test.each<[string, ConfChange]>([
    ["leaving a configuration that is not joint", leaveJoint],
    ["removing the last voter", single("removeNode", 1n)],
    [
      "removing every voter through joint consensus",
      joint("auto", [
        { type: "removeNode", nodeId: 1n },
        { type: "removeNode", nodeId: 2n },
        { type: "removeNode", nodeId: 3n },
      ]),
    ],
  ])("§6 an invalid change is refused at propose time: %s", (name, cc) => {
    const c = name === "removing the last voter" ? cluster([1n]) : cluster([1n, 2n, 3n]);
    const before = c.node(1n).status().lastIndex;
    expect(dropped(() => c.node(1n).proposeConfChange(cc))).toBe(true);
    expect(c.node(1n).status().lastIndex).toBe(before);
  });

  // Rule: a node does not campaign while committed configuration changes are not applied yet: it
  // might not know its own membership.
  test("§6 a node with a committed but unapplied conf change does not campaign", () => {
    const storage = new MemoryStorage({ ...emptyConfState, voters: [1n, 2n, 3n] });
    const n = new RawNode({ id: 2n, storage, random: () => 0, preVote: false });
    n.step({
      group: 1n,
      from: 1n,
      to: 2n,
      type: "app",
      term: 1,
      index: 0,
      logTerm: 0,
      commit: 1,
      entries: [{ type: "confChange", term: 1, index: 1, change: single("addNode", 4n) }],
    });
    n.campaign();
    expect(n.status()).toMatchObject({ role: "follower", term: 1 });
    const rd = n.ready();
    expect(rd.messages.filter((m) => m.type === "vote")).toEqual([]);
    expect(rd.committedEntries).toHaveLength(1);
  });
});

describe("§6 learners (thesis §4.2.1)", () => {
  // Rule: a learner (non-voting member) receives the log but is not counted in majorities.
  test("§6 a learner replicates the log but does not count towards commitment", () => {
    const c = cluster([1n, 2n, 3n]);
    c.addNode(4n, cfg);
    c.proposeConfChange(1n, single("addLearner", 4n));
    c.propose(1n, "a");
    expect(c.peer(4n).appliedData()).toEqual(["a"]);
    expect(c.node(4n).status().config).toMatchObject({ voters: [1n, 2n, 3n], learners: [4n] });
    c.cut(1n, 2n);
    c.cut(1n, 3n);
    const { index } = c.propose(1n, "b");
    // The learner has it, the leader has it: still only one voter of three.
    expect(c.node(4n).status().lastIndex).toBe(index);
    expect(c.node(1n).status().commit).toBeLessThan(index);
  });

  // Rule: a learner never campaigns and its election timer is irrelevant.
  test("§6 a learner never starts an election", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], learners: [4n], config: cfg });
    c.isolate(4n);
    c.tick(100, [4n]);
    expect(c.node(4n).status()).toMatchObject({ role: "follower", term: 0 });
    c.node(4n).campaign();
    c.stabilize();
    expect(c.node(4n).status().role).toBe("follower");
  });

  // Rule: candidates ask voters only; a learner is not asked and cannot help win.
  test("§6 a candidate does not ask learners for votes", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { learners: [4n], preVote: false });
    s.node.campaign();
    const msgs = s.drain();
    expect(msgs.map((m) => m.to).sort()).toEqual([2n, 3n]);
    s.step(voteResp("voteResp", 4n, 1, false));
    expect(s.node.status().role).toBe("candidate");
  });

  // Rule: a learner is promoted to voter by an addNode change and then counts.
  test("§6 a learner promoted to voter counts towards the majority", () => {
    const c = cluster([1n, 2n, 3n]);
    c.addNode(4n, cfg);
    c.proposeConfChange(1n, single("addLearner", 4n));
    c.proposeConfChange(1n, single("addNode", 4n));
    c.tick(1);
    expect(c.node(4n).status().config).toMatchObject({ voters: [1n, 2n, 3n, 4n], learners: [] });
    expect(c.node(1n).status().progress?.get(4n)?.isLearner).toBe(false);
  });
});

describe("§6 joint consensus (thesis §4.3)", () => {
  // Rule: "Log entries are replicated to all servers in both configurations" and "agreement (for
  // elections and entry commitment) requires separate majorities from both the old and new
  // configurations".
  test("§6 in a joint configuration commitment needs a majority of both halves", () => {
    const c = cluster([1n, 2n, 3n]);
    for (const id of [4n, 5n]) c.addNode(id, cfg);
    c.proposeConfChange(
      1n,
      joint("explicit", [
        { type: "addNode", nodeId: 4n },
        { type: "addNode", nodeId: 5n },
        { type: "removeNode", nodeId: 2n },
        { type: "removeNode", nodeId: 3n },
      ]),
    );
    c.tick(1);
    expect(c.node(1n).status().config).toMatchObject({
      voters: [1n, 4n, 5n],
      votersOutgoing: [1n, 2n, 3n],
      autoLeave: false,
    });
    // Incoming majority (1, 4, 5) only: not enough.
    c.cut(1n, 2n);
    c.cut(1n, 3n);
    const a = c.propose(1n, "a");
    expect(c.node(1n).status().commit).toBeLessThan(a.index);
    // Outgoing majority (1, 2) only: not enough either.
    c.recover();
    c.tick(1);
    c.cut(1n, 4n);
    c.cut(1n, 5n);
    c.cut(1n, 3n);
    const b = c.propose(1n, "b");
    expect(c.node(1n).status().commit).toBeLessThan(b.index);
    c.recover();
    c.tick(1);
    expect(c.node(1n).status().commit).toBeGreaterThanOrEqual(b.index);
  });

  // Rule: an explicit joint configuration stays until the application proposes leaving it; then
  // the new configuration alone is in effect and removed servers drop out.
  test("§6 an explicit joint configuration is left by an empty change", () => {
    const c = cluster([1n, 2n, 3n]);
    c.addNode(4n, cfg);
    c.proposeConfChange(
      1n,
      joint("explicit", [
        { type: "addNode", nodeId: 4n },
        { type: "removeNode", nodeId: 3n },
      ]),
    );
    c.tick(20);
    expect(c.node(1n).status().config.votersOutgoing).toEqual([1n, 2n, 3n]);
    // While joint, only the leave is accepted.
    expect(dropped(() => c.node(1n).proposeConfChange(single("addLearner", 9n)))).toBe(true);
    c.proposeConfChange(1n, leaveJoint);
    c.tick(1);
    for (const id of [1n, 2n, 4n]) {
      expect(c.node(id).status().config).toMatchObject({
        voters: [1n, 2n, 4n],
        votersOutgoing: [],
      });
    }
    expect(c.node(1n).status().progress?.has(3n)).toBe(false);
  });

  // Rule: with the auto transition a multi-member change enters the joint configuration and the
  // leader proposes leaving it as soon as it is applied.
  test("§6 an auto joint change enters and then leaves the joint configuration by itself", () => {
    const c = cluster([1n, 2n, 3n]);
    c.addNode(4n, cfg);
    c.proposeConfChange(
      1n,
      joint("auto", [
        { type: "addNode", nodeId: 4n },
        { type: "removeNode", nodeId: 2n },
      ]),
    );
    c.tick(2);
    const sizes = c
      .peer(3n)
      .applied.flatMap((e) => (e.type === "confChange" ? [e.change.changes.length] : []));
    expect(sizes.slice(-2)).toEqual([2, 0]);
    for (const id of [1n, 3n, 4n]) {
      expect(c.node(id).status().config).toMatchObject({
        voters: [1n, 3n, 4n],
        votersOutgoing: [],
        autoLeave: false,
      });
    }
  });

  // Rule: a voter demoted to learner in a joint change stays a voter of the outgoing half until
  // the joint configuration is left (learnersNext), then becomes a learner.
  test("§6 a voter demoted through joint consensus becomes a learner when the joint config is left", () => {
    const c = cluster([1n, 2n, 3n]);
    c.proposeConfChange(1n, joint("explicit", [{ type: "addLearner", nodeId: 3n }]));
    expect(c.node(1n).status().config).toMatchObject({
      voters: [1n, 2n],
      votersOutgoing: [1n, 2n, 3n],
      learnersNext: [3n],
      learners: [],
    });
    c.proposeConfChange(1n, leaveJoint);
    expect(c.node(1n).status().config).toMatchObject({
      voters: [1n, 2n],
      votersOutgoing: [],
      learnersNext: [],
      learners: [3n],
    });
    c.propose(1n, "x");
    expect(c.peer(3n).appliedData()).toEqual(["x"]);
  });

  // Rule: a leader elected while the configuration is joint with auto-leave finishes the
  // transition itself (the previous leader may have died before proposing the leave).
  test("§6 a new leader of an auto-leave joint configuration proposes the leave", () => {
    const c = cluster([1n, 2n, 3n]);
    c.addNode(4n, cfg);
    // Hide the automatic leave of leader 1 from everybody.
    c.drop(
      (m) =>
        m.from === 1n &&
        m.type === "app" &&
        m.entries.some((e) => e.type === "confChange" && e.change.changes.length === 0),
    );
    c.proposeConfChange(
      1n,
      joint("auto", [
        { type: "addNode", nodeId: 4n },
        { type: "removeNode", nodeId: 2n },
      ]),
    );
    c.tick(1);
    expect(c.node(3n).status().config.votersOutgoing).toEqual([1n, 2n, 3n]);
    c.isolate(1n);
    c.tick(40, [2n, 3n, 4n]);
    const l = c.leader();
    expect(l === 3n || l === 4n).toBe(true);
    expect(c.node(l ?? 0n).status().config).toMatchObject({
      voters: [1n, 3n, 4n],
      votersOutgoing: [],
    });
  });
});

describe("§6 effects of applying a change on the leader", () => {
  // Rule: once a removal is applied, the smaller majority may already cover entries the leader
  // holds: they commit at once (etcd's TestCommitAfterRemoveNode).
  test("§6 entries waiting for a removed voter commit as soon as the removal is applied", () => {
    const s = new Solo(1n, [1n, 2n], { preVote: false });
    s.becomeLeader([2n]);
    s.step({
      type: "appResp",
      from: 2n,
      term: 1,
      index: 1,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    const cc = s.node.proposeConfChange(single("removeNode", 2n));
    s.node.propose(new TextEncoder().encode("x"));
    s.drain();
    expect(s.node.status().commit).toBe(1);
    // 2 acknowledges only the removal.
    s.step({
      type: "appResp",
      from: 2n,
      term: 1,
      index: cc.index,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    s.drain();
    expect(s.node.status().config.voters).toEqual([1n]);
    expect(s.peer.appliedData()).toEqual(["x"]);
  });

  // Rule (thesis §3.10 + §4): a transfer whose target is removed by a change applied meanwhile is
  // aborted, and a transfer to a non-member is ignored.
  test("§6 removing the target of a pending leadership transfer aborts the transfer", () => {
    const c = cluster([1n, 2n, 3n]);
    c.cut(1n, 2n);
    c.cut(1n, 3n);
    c.node(1n).proposeConfChange(single("removeNode", 3n));
    c.node(1n).transferLeader(3n);
    c.stabilize();
    expect(c.node(1n).status().leadTransferee).toBe(3n);
    c.recover();
    c.cut(1n, 3n);
    c.tick(1, [1n, 2n]);
    expect(c.node(1n).status().config.voters).toEqual([1n, 2n]);
    expect(c.node(1n).status()).toMatchObject({ role: "leader", leadTransferee: 0n });
    c.node(1n).transferLeader(3n);
    expect(c.node(1n).status().leadTransferee).toBe(0n);
  });

  // Rule (thesis §4.2.2): a removed leader that cannot reach the new configuration still steps
  // down, after an election timeout.
  test("§6 a removed leader cut off from the others steps down after an election timeout", () => {
    const c = cluster([1n, 2n, 3n]);
    c.proposeConfChange(1n, single("removeNode", 1n));
    expect(c.node(1n).status().config.voters).toEqual([2n, 3n]);
    c.isolate(1n);
    c.tick(10, [1n]);
    expect(c.node(1n).status().role).toBe("follower");
  });
});
