/**
 * Thesis §6.4 (linearizable reads through ReadIndex) and §6.4.1 (lease reads; juraft bounds the
 * lease by the send tick of the heartbeat echoed in heartbeatResp).
 */
import { Cluster, data, Solo } from "./harness.js";
import { RaftErrorCode, isRaftError } from "../../../node/raft/index.js";

const ctx = (s: string): Uint8Array => data(s);
const dec = (u: Uint8Array): string => new TextDecoder().decode(u);

function cluster(readOnlyOption: "safe" | "leaseBased" = "safe"): Cluster {
  const c = new Cluster({
    voters: [1n, 2n, 3n],
    config: { preVote: true, checkQuorum: true, readOnlyOption },
  });
  expect(c.campaign(1n)).toBe("leader");
  return c;
}

describe("§6.4 ReadIndex", () => {
  // Rule: the leader records its commit index as the read index, then "sends a new round of
  // heartbeats and waits for their acknowledgments from a majority"; the read is served once the
  // state machine has applied the read index.
  test("§6.4 the leader answers a read after a majority acknowledges a heartbeat round", () => {
    const c = cluster();
    c.propose(1n, "x");
    const commit = c.node(1n).status().commit;
    const mark = c.sent.length;
    c.node(1n).readIndex(ctx("r1"));
    c.flush(1n);
    const hbs = c.sentSince(mark, "heartbeat");
    expect(hbs.map((m) => (m.type === "heartbeat" ? dec(m.context) : ""))).toEqual(["r1", "r1"]);
    expect(c.peer(1n).readStates).toEqual([]);
    c.stabilize();
    expect(c.peer(1n).readStates).toEqual([{ index: commit, context: ctx("r1") }]);
    expect(c.peer(1n).appliedIndex).toBeGreaterThanOrEqual(commit);
  });

  // Rule: without a majority the leader cannot be sure it is still leader: no answer.
  test("§6.4 a leader cut off from the majority does not answer reads", () => {
    const c = cluster();
    c.isolate(1n);
    c.node(1n).readIndex(ctx("r"));
    c.stabilize();
    c.tick(3, [1n]);
    expect(c.peer(1n).readStates).toEqual([]);
  });

  // Rule (§6.4 step 1): "If the leader has not yet marked an entry from its current term
  // committed, it waits until it has done so": its commit index may be stale until then.
  test("§6.4 reads wait until the new leader commits an entry of its term", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { preVote: false });
    s.becomeLeader([2n]);
    expect(s.node.status().commit).toBe(0);
    s.node.readIndex(ctx("early"));
    const out = s.drain();
    expect(out.filter((m) => m.type === "heartbeat")).toEqual([]);
    // The empty entry commits: the read is served through a heartbeat round.
    const after = s.step({
      type: "appResp",
      from: 2n,
      term: 1,
      index: 1,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    const hb = after.filter((m) => m.type === "heartbeat");
    expect(hb).toHaveLength(2);
    s.step({ type: "heartbeatResp", from: 3n, term: 1, context: ctx("early"), sentTick: 0 });
    expect(s.peer.readStates).toEqual([{ index: 1, context: ctx("early") }]);
  });

  // Rule: a follower asks the leader for the read index and serves the read locally once it has
  // applied that index.
  test("§6.4 a follower's read is forwarded to the leader and answered with its index", () => {
    const c = cluster();
    c.propose(1n, "x");
    const commit = c.node(1n).status().commit;
    c.node(3n).readIndex(ctx("f"));
    c.stabilize();
    expect(c.peer(3n).readStates).toEqual([{ index: commit, context: ctx("f") }]);
    expect(c.peer(1n).readStates).toEqual([]);
    expect(c.peer(3n).appliedIndex).toBeGreaterThanOrEqual(commit);
  });

  // Rule: a node that knows no leader cannot serve a read (the caller retries).
  test("§6.4 a read at a node that knows no leader is refused", () => {
    const s = new Solo(1n, [1n, 2n, 3n]);
    let err: unknown;
    try {
      s.node.readIndex(ctx("r"));
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, RaftErrorCode.ProposalDropped)).toBe(true);
  });

  // Rule: a single-voter cluster is its own majority: reads are answered without heartbeats.
  test("§6.4 a single-node cluster answers reads at once", () => {
    const c = new Cluster({ voters: [1n] });
    expect(c.campaign(1n)).toBe("leader");
    c.propose(1n, "x");
    c.node(1n).readIndex(ctx("solo"));
    c.stabilize();
    expect(c.peer(1n).readStates).toEqual([
      { index: c.node(1n).status().commit, context: ctx("solo") },
    ]);
  });

  // Rule: a heartbeat round that confirms a later read also confirms every earlier pending read.
  test("§6.4 one quorum round confirms all earlier pending reads in order", () => {
    const c = cluster();
    c.hold((m) => m.type === "heartbeatResp");
    c.node(1n).readIndex(ctx("a"));
    c.node(1n).readIndex(ctx("b"));
    c.stabilize();
    expect(c.peer(1n).readStates).toEqual([]);
    // Only the answers for "b" arrive.
    const forB = c.held.filter((m) => m.type === "heartbeatResp" && dec(m.context) === "b");
    c.held = forB;
    c.release();
    c.stabilize();
    expect(c.peer(1n).readStates.map((r) => dec(r.context))).toEqual(["a", "b"]);
  });
});

describe("§6.4.1 lease reads", () => {
  /** A lease-mode cluster with its elected leader. */
  function leased(): { c: Cluster; l: bigint } {
    const c = new Cluster({
      voters: [1n, 2n, 3n],
      config: { preVote: true, checkQuorum: true, readOnlyOption: "leaseBased" },
    });
    return { c, l: c.electLeader() };
  }

  // Rule: a node that (re)starts in lease mode may have promised a lease before it crashed, so
  // it refuses votes for an election timeout.
  test("§6.4.1 in lease mode a freshly started node refuses to vote for an election timeout", () => {
    const c = new Cluster({
      voters: [1n, 2n, 3n],
      config: { preVote: true, checkQuorum: true, readOnlyOption: "leaseBased" },
    });
    expect(c.campaign(1n)).toBe("preCandidate");
    expect(c.node(2n).status().term).toBe(1);
    c.tick(9, [2n, 3n]);
    c.node(1n).campaign();
    c.stabilize();
    expect(c.node(1n).status().role).not.toBe("leader");
    c.tick(1, [2n, 3n]);
    expect(c.campaign(1n)).toBe("leader");
  });

  // Rule: with a valid lease the leader answers at once, without a heartbeat round.
  test("§6.4.1 a leader with a fresh lease answers without a heartbeat round", () => {
    const { c, l } = leased();
    c.tick(1);
    const mark = c.sent.length;
    c.node(l).readIndex(ctx("l"));
    c.flush(l);
    expect(c.peer(l).readStates).toEqual([{ index: c.node(l).status().commit, context: ctx("l") }]);
    expect(c.sentSince(mark, "heartbeat")).toEqual([]);
  });

  // Rule: the lease runs from the send tick of the newest acknowledged heartbeat; once an
  // election timeout has passed since, the leader must confirm with a quorum round again.
  test("§6.4.1 an expired lease falls back to a quorum round", () => {
    const { c, l } = leased();
    c.tick(1);
    // No heartbeat is acknowledged any more; appends keep check-quorum satisfied.
    c.hold((m) => m.type === "heartbeatResp");
    for (let i = 0; i < 10; i++) {
      c.propose(l, `p${i}`);
      c.tick(1, [l]);
    }
    expect(c.node(l).status().role).toBe("leader");
    const mark = c.sent.length;
    c.node(l).readIndex(ctx("late"));
    c.stabilize();
    expect(c.peer(l).readStates).toEqual([]);
    expect(
      c
        .sentSince(mark, "heartbeat")
        .filter((m) => m.type === "heartbeat" && dec(m.context) === "late"),
    ).toHaveLength(2);
    c.release();
    c.stabilize();
    expect(c.peer(l).readStates.map((r) => dec(r.context))).toEqual(["late"]);
  });

  // Rule: a delayed heartbeat answer must not extend the lease beyond the time the heartbeat was
  // sent (juraft echoes the send tick).
  test("§6.4.1 a delayed heartbeat answer does not extend the lease", () => {
    const { c, l } = leased();
    c.tick(1);
    c.hold((m) => m.type === "heartbeatResp");
    c.tick(1, [l]);
    const early = c.held;
    c.held = [];
    for (let i = 0; i < 9; i++) {
      c.propose(l, `p${i}`);
      c.tick(1, [l]);
    }
    // Only the answers to the early heartbeat arrive, 9 ticks late; later ones are lost.
    c.held = early;
    c.release();
    c.stabilize();
    c.isolate(l);
    // 9 ticks after the early heartbeat was sent: the lease holds thanks to the late answers.
    c.node(l).readIndex(ctx("r1"));
    c.flush(l);
    expect(c.peer(l).readStates.map((r) => dec(r.context))).toEqual(["r1"]);
    // 10 ticks after it was sent the lease is over, though the answers arrived 1 tick ago.
    c.tick(1, [l]);
    expect(c.node(l).status().role).toBe("leader");
    c.node(l).readIndex(ctx("r2"));
    c.flush(l);
    expect(c.peer(l).readStates.map((r) => dec(r.context))).toEqual(["r1"]);
  });

  // Rule: during a leadership transfer the lease is void (the target may already lead).
  test("§6.4.1 no lease reads while a leadership transfer is in progress", () => {
    const { c, l } = leased();
    c.tick(1);
    const target = l === 1n ? 2n : 1n;
    c.isolate(target);
    c.node(l).transferLeader(target);
    c.node(l).readIndex(ctx("t"));
    c.flush(l);
    expect(c.peer(l).readStates).toEqual([]);
  });
});
