/**
 * Flow control of replication (thesis §10.2.1 pipelining; etcd's probe/replicate/snapshot progress
 * states, inflights window, message size limits, uncommitted size limit).
 */
import { as, Cluster, data, Solo } from "./harness.js";
import { RaftErrorCode, isRaftError, type Message } from "../../../node/raft/index.js";

const plain = { preVote: false, checkQuorum: false } as const;

function appsTo(msgs: readonly Message[], to: bigint): Extract<Message, { type: "app" }>[] {
  return msgs.filter(
    (m): m is Extract<Message, { type: "app" }> => m.type === "app" && m.to === to,
  );
}

function ack(s: Solo, from: bigint, index: number): Message[] {
  const term = s.node.status().term;
  return s.step({ type: "appResp", from, term, index, reject: false, rejectHint: 0, logTerm: 0 });
}

describe("flow control (thesis §10.2.1)", () => {
  // Rule: while the leader does not know where a follower's log matches (probe), it sends at most
  // one append and waits for the answer before sending more.
  test("§10.2.1 in probe state the leader sends one append at a time", () => {
    const s = new Solo(1n, [1n, 2n], plain);
    s.becomeLeader([2n]);
    expect(s.node.status().progress?.get(2n)?.state).toBe("probe");
    const out: Message[] = [];
    for (const v of ["a", "b", "c"]) {
      s.node.propose(data(v));
      out.push(...s.drain());
    }
    // The election produced the first probe; the proposals add nothing while it is unanswered.
    expect(appsTo(out, 2n)).toEqual([]);
    const resumed = ack(s, 2n, 1);
    expect(s.node.status().progress?.get(2n)?.state).toBe("replicate");
    expect(appsTo(resumed, 2n).flatMap((m) => m.entries.map((e) => e.index))).toEqual([2, 3, 4]);
  });

  // Rule: once the match is known (replicate), appends are pipelined without waiting, up to
  // maxInflightMsgs unacknowledged messages.
  test("§10.2.1 in replicate state appends are pipelined up to maxInflightMsgs", () => {
    const s = new Solo(1n, [1n, 2n], { ...plain, maxInflightMsgs: 3 });
    s.becomeLeader([2n]);
    ack(s, 2n, 1);
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) {
      s.node.propose(data(`v${i}`));
      sent.push(...s.drain());
    }
    expect(appsTo(sent, 2n).map((m) => m.entries.map((e) => e.index))).toEqual([[2], [3], [4]]);
    expect(s.node.status().progress?.get(2n)?.inflight).toBe(3);
    // Acknowledging the first two frees the window: the rest goes out in one message.
    const more = ack(s, 2n, 3);
    expect(appsTo(more, 2n).map((m) => m.entries.map((e) => e.index))).toEqual([[5, 6]]);
  });

  // Rule: the window is also bounded in bytes (maxInflightBytes).
  test("§10.2.1 the inflight window is bounded by maxInflightBytes", () => {
    const s = new Solo(1n, [1n, 2n], { ...plain, maxInflightMsgs: 100, maxInflightBytes: 250 });
    s.becomeLeader([2n]);
    ack(s, 2n, 1);
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) {
      s.node.propose(new Uint8Array(76)); // 100 bytes with the 24-byte entry overhead
      sent.push(...s.drain());
    }
    // 100 + 100 = 200 < 250, the third makes 300 >= 250: full after three messages.
    expect(appsTo(sent, 2n)).toHaveLength(3);
    expect(s.node.status().progress?.get(2n)?.inflight).toBe(3);
  });

  // Rule: an append carries at most maxSizePerMsg bytes of entries (but at least one entry).
  test("§10.2.1 appends are split at maxSizePerMsg", () => {
    const c = new Cluster({ voters: [1n, 2n], config: { ...plain, maxSizePerMsg: 250 } });
    c.campaign(1n);
    c.isolate(1n);
    for (let i = 0; i < 6; i++) c.node(1n).propose(new Uint8Array(76));
    c.stabilize();
    c.recover();
    const mark = c.sent.length;
    c.tick(1);
    const batches = appsTo(c.sentSince(mark), 2n).map((m) => m.entries.length);
    expect(batches.length).toBeGreaterThan(1);
    expect(Math.max(...batches)).toBeLessThanOrEqual(2);
    expect(c.node(2n).status().commit).toBe(c.node(1n).status().lastIndex);
    // A single entry larger than the limit still goes out, alone.
    c.propose(1n, "x".repeat(1000));
    expect(c.node(2n).status().commit).toBe(c.node(1n).status().lastIndex);
  });

  // Rule: the leader refuses proposals once uncommitted payloads exceed
  // maxUncommittedEntriesSize (a bound on memory when followers are slow), and accepts again once
  // entries commit.
  test("§10.2.1 proposals beyond maxUncommittedEntriesSize are dropped until entries commit", () => {
    const c = new Cluster({
      voters: [1n, 2n, 3n],
      config: { ...plain, maxUncommittedEntriesSize: 100 },
    });
    c.campaign(1n);
    c.isolate(1n);
    c.node(1n).propose(new Uint8Array(60));
    let err: unknown;
    try {
      c.node(1n).propose(new Uint8Array(60));
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, RaftErrorCode.ProposalDropped)).toBe(true);
    // An empty proposal is always accepted.
    expect(() => c.node(1n).propose(new Uint8Array(0))).not.toThrow();
    c.stabilize();
    c.recover();
    c.tick(2);
    expect(c.node(1n).status().commit).toBe(c.node(1n).status().lastIndex);
    expect(() => c.node(1n).propose(new Uint8Array(60))).not.toThrow();
  });

  // Rule: a follower reported unreachable is probed again rather than pipelined to.
  test("§10.2.1 reportUnreachable moves a replicating follower back to probe", () => {
    const s = new Solo(1n, [1n, 2n], plain);
    s.becomeLeader([2n]);
    ack(s, 2n, 1);
    expect(s.node.status().progress?.get(2n)?.state).toBe("replicate");
    s.node.reportUnreachable(2n);
    expect(s.node.status().progress?.get(2n)).toMatchObject({ state: "probe", next: 2 });
  });

  // Rule (liveness): appends may be lost. If every append of a full window is lost, the leader
  // must still find its way back to the follower (etcd resumes through heartbeat answers), or
  // replication to that follower stops forever while it keeps answering heartbeats.
  test("§10.2.1 a follower whose whole inflight window was lost catches up again", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: { ...plain, maxInflightMsgs: 2 } });
    c.campaign(1n);
    c.drop((m) => m.type === "app" && m.to === 3n);
    for (const v of ["a", "b", "c", "d"]) c.propose(1n, v);
    expect(c.node(1n).status().progress?.get(3n)).toMatchObject({
      state: "replicate",
      inflight: 2,
    });
    c.recover();
    c.tick(5);
    expect(c.peer(3n).appliedData()).toEqual(["a", "b", "c", "d"]);
  });

  // Rule: a rejection of an append that was already superseded (stale) must not move next back.
  test("§5.3 a stale rejection does not disturb a replicating follower", () => {
    const s = new Solo(1n, [1n, 2n], plain);
    s.becomeLeader([2n]);
    ack(s, 2n, 1);
    s.node.propose(data("a"));
    s.drain();
    ack(s, 2n, 2);
    const before = s.node.status().progress?.get(2n);
    const out = s.step({
      type: "appResp",
      from: 2n,
      term: 1,
      index: 1,
      reject: true,
      rejectHint: 0,
      logTerm: 0,
    });
    expect(appsTo(out, 2n)).toEqual([]);
    expect(s.node.status().progress?.get(2n)).toEqual(before);
  });

  // Rule (thesis §5.3 fast backtracking): the follower's (hint, term) lets the leader skip all
  // entries of a term the follower does not have, instead of one index per round trip.
  test("§5.3 the leader skips a whole conflicting term on a hinted rejection", () => {
    const s = new Solo(1n, [1n, 2n], {
      ...plain,
      log: [1, 1, 3, 3, 3, 3].map((t, i) => ({
        type: "normal" as const,
        term: t,
        index: i + 1,
        data: new Uint8Array(0),
      })),
      hardState: { term: 3, vote: 0n, commit: 0 },
    });
    s.becomeLeader([2n]);
    // Follower's log is 1 1 2 2 2 2 2: it rejects the probe at 6 and hints (6, term 2).
    const out = s.step({
      type: "appResp",
      from: 2n,
      term: 4,
      index: 6,
      reject: true,
      rejectHint: 6,
      logTerm: 2,
    });
    const probe = as(appsTo(out, 2n)[0], "app");
    // The leader has no term-2 entries: the last index with term <= 2 is 2.
    expect(probe).toMatchObject({ index: 2, logTerm: 1 });
  });
});
