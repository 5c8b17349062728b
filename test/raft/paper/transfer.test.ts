/** Thesis §3.10: leadership transfer. */
import { Cluster, data, Solo } from "./harness.js";
import { RaftErrorCode, isRaftError } from "../../../node/raft/index.js";

function cluster(): Cluster {
  const c = new Cluster({ voters: [1n, 2n, 3n], config: { preVote: true, checkQuorum: true } });
  expect(c.campaign(1n)).toBe("leader");
  return c;
}

function dropped(f: () => unknown): boolean {
  try {
    f();
  } catch (err) {
    return isRaftError(err, RaftErrorCode.ProposalDropped);
  }
  return false;
}

describe("§3.10 leadership transfer", () => {
  // Rule: the leader makes sure the target's log is current, then "sends it a TimeoutNow request.
  // This request has the same effect as the target server's election timer firing".
  test("§3.10 an up-to-date target receives timeoutNow and becomes leader", () => {
    const c = cluster();
    const term = c.node(1n).status().term;
    const mark = c.sent.length;
    c.node(1n).transferLeader(2n);
    c.stabilize();
    expect(c.sentSince(mark, "timeoutNow").map((m) => m.to)).toEqual([2n]);
    expect(c.node(2n).status()).toMatchObject({ role: "leader", term: term + 1 });
    expect(c.node(1n).status()).toMatchObject({ role: "follower", lead: 2n });
  });

  // Rule: a lagging target is first brought up to date; timeoutNow follows its acknowledgment.
  test("§3.10 a lagging target is caught up before timeoutNow", () => {
    const c = cluster();
    c.cut(1n, 3n);
    c.propose(1n, "x");
    c.recover();
    c.hold((m) => m.type === "timeoutNow");
    c.node(1n).transferLeader(3n);
    c.stabilize();
    expect(c.held.map((m) => m.to)).toEqual([3n]);
    expect(c.node(3n).status().lastIndex).toBe(c.node(1n).status().lastIndex);
    c.release();
    c.stabilize();
    expect(c.node(3n).status().role).toBe("leader");
    expect(c.peer(3n).appliedData()).toEqual(["x"]);
  });

  // Rule: "the prior leader stops accepting client requests" during the transfer.
  test("§3.10 proposals are refused while a transfer is in progress", () => {
    const c = cluster();
    c.isolate(3n);
    c.node(1n).transferLeader(3n);
    c.stabilize();
    expect(c.node(1n).status().leadTransferee).toBe(3n);
    expect(dropped(() => c.node(1n).propose(data("x")))).toBe(true);
  });

  // Rule: "If the transfer does not complete within an election timeout, the prior leader aborts
  // the transfer and resumes accepting client requests."
  test("§3.10 a transfer that does not finish within an election timeout is aborted", () => {
    const c = cluster();
    c.isolate(3n);
    c.node(1n).transferLeader(3n);
    c.tick(10, [1n, 2n]);
    expect(c.node(1n).status()).toMatchObject({ role: "leader", leadTransferee: 0n });
    expect(dropped(() => c.node(1n).propose(data("x")))).toBe(false);
  });

  // Rule: only a voter other than the leader can be a target.
  test("§3.10 transfers to the leader itself, a learner or a stranger are ignored", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { learners: [4n], preVote: false });
    s.becomeLeader([2n]);
    for (const target of [1n, 4n, 9n]) {
      s.node.transferLeader(target);
      expect(s.drain().filter((m) => m.type === "timeoutNow")).toEqual([]);
      expect(s.node.status().leadTransferee).toBe(0n);
    }
  });

  // Rule: a campaign started by timeoutNow is not blocked by the followers' leader lease (thesis
  // §4.2.3 "a leader ... transferring leadership" is the exception) and skips pre-vote.
  test("§3.10 a transfer election overrides the followers' lease and skips pre-vote", () => {
    const c = cluster();
    const mark = c.sent.length;
    c.node(1n).transferLeader(3n);
    c.stabilize();
    const votes = c
      .sentSince(mark)
      .filter((m) => m.from === 3n && (m.type === "vote" || m.type === "preVote"));
    expect(votes.map((m) => (m.type === "vote" ? [m.type, m.transfer] : [m.type]))).toEqual([
      ["vote", true],
      ["vote", true],
    ]);
    expect(c.node(3n).status().role).toBe("leader");
  });

  // Rule: a follower asked to transfer forwards the request to the leader.
  test("§3.10 a transfer requested at a follower is forwarded to the leader", () => {
    const c = cluster();
    c.node(2n).transferLeader(3n);
    c.stabilize();
    expect(c.node(3n).status().role).toBe("leader");
  });

  // Rule: a node that knows no leader cannot forward a transfer.
  test("§3.10 a transfer at a node without a leader is refused", () => {
    const s = new Solo(1n, [1n, 2n, 3n]);
    let err: unknown;
    try {
      s.node.transferLeader(2n);
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, RaftErrorCode.ProposalDropped)).toBe(true);
  });

  // Rule: a new transfer to another target replaces a pending one; the same target is not re-sent.
  test("§3.10 a transfer to another target replaces the pending one", () => {
    const c = cluster();
    c.isolate(3n);
    c.node(1n).transferLeader(3n);
    c.stabilize();
    c.node(1n).transferLeader(3n);
    expect(c.node(1n).status().leadTransferee).toBe(3n);
    c.recover();
    c.isolate(3n);
    c.node(1n).transferLeader(2n);
    c.stabilize();
    expect(c.node(2n).status().role).toBe("leader");
  });
});
