/**
 * Thesis §9.6 (pre-vote), §6.2 / §4.2.3 (check-quorum and ignoring disruptive vote requests).
 */
import { as, Cluster, Solo, voteResp } from "./harness.js";
import type { Message } from "../../../node/raft/index.js";

function voteTypes(msgs: readonly Message[]): string[] {
  return msgs.map((m) => `${m.type}->${m.to}@${m.term}`).sort();
}

describe("§9.6 pre-vote", () => {
  // Rule: "a candidate would first ask other servers whether its log was up-to-date enough to get
  // their vote. Only if the candidate believed it could get votes from a majority would it
  // increment its term and start a normal election." The pre-candidate changes neither its term
  // nor its vote.
  test("§9.6 a timed-out follower first asks for pre-votes without changing its term", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { preVote: true, checkQuorum: false });
    const msgs = s.tick(10);
    expect(s.node.status()).toMatchObject({ role: "preCandidate", term: 0, vote: 0n });
    expect(voteTypes(msgs)).toEqual(["preVote->2@1", "preVote->3@1"]);
    expect(s.peer.storage.hardState()).toMatchObject({ term: 0, vote: 0n });
  });

  // Rule: with a majority of pre-votes the node starts a real election in the next term.
  test("§9.6 a pre-candidate with a majority of pre-votes starts a real election", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { preVote: true, checkQuorum: false });
    s.node.campaign();
    s.drain();
    const out = s.step(voteResp("preVoteResp", 2n, 1, false));
    expect(s.node.status()).toMatchObject({ role: "candidate", term: 1, vote: 1n });
    expect(voteTypes(out)).toEqual(["vote->2@1", "vote->3@1"]);
  });

  // Rule: a pre-candidate rejected by a majority gives up and stays in its term.
  test("§9.6 a pre-candidate rejected by a majority returns to follower in the same term", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { preVote: true, checkQuorum: false });
    s.node.campaign();
    s.drain();
    s.step(voteResp("preVoteResp", 2n, 0, true));
    s.step(voteResp("preVoteResp", 3n, 0, true));
    expect(s.node.status()).toMatchObject({ role: "follower", term: 0 });
  });

  // Rule: a pre-candidate that hears from a leader of its term follows it.
  test("§9.6 a pre-candidate that hears from a current leader becomes its follower", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { preVote: true, checkQuorum: false });
    s.step({
      type: "heartbeat",
      from: 2n,
      term: 2,
      commit: 0,
      context: new Uint8Array(0),
      sentTick: 0,
    });
    s.node.campaign();
    s.drain();
    expect(s.node.status().role).toBe("preCandidate");
    s.step({ type: "app", from: 2n, term: 2, index: 0, logTerm: 0, commit: 0, entries: [] });
    expect(s.node.status()).toMatchObject({ role: "follower", lead: 2n, term: 2 });
  });

  // Rule: granting a pre-vote does not change the voter's term or vote (nothing is persisted).
  test("§9.6 granting a pre-vote changes neither the voter's term nor its vote", () => {
    const s = new Solo(2n, [1n, 2n, 3n], { preVote: true, checkQuorum: false });
    s.step({ type: "vote", from: 3n, term: 1, index: 0, logTerm: 0, transfer: false });
    expect(s.node.status()).toMatchObject({ term: 1, vote: 3n });
    const out = s.step({
      type: "preVote",
      from: 1n,
      term: 2,
      index: 0,
      logTerm: 0,
      transfer: false,
    });
    expect(as(out[0], "preVoteResp")).toMatchObject({ reject: false, term: 2, to: 1n });
    expect(s.node.status()).toMatchObject({ term: 1, vote: 3n });
  });

  // Rule: a pre-vote is refused to a candidate whose log is not up-to-date (§5.4.1 applies).
  test("§9.6 a pre-vote is refused to a candidate with a less up-to-date log", () => {
    const s = new Solo(2n, [1n, 2n, 3n], { preVote: true, checkQuorum: false });
    s.step({
      type: "app",
      from: 3n,
      term: 2,
      index: 0,
      logTerm: 0,
      commit: 0,
      entries: [{ type: "normal", term: 2, index: 1, data: new Uint8Array(0) }],
    });
    const out = s.step({
      type: "preVote",
      from: 1n,
      term: 3,
      index: 5,
      logTerm: 1,
      transfer: false,
    });
    expect(as(out[0], "preVoteResp")).toMatchObject({ reject: true, term: 2 });
  });

  // Rule: a stale pre-vote (term not above the receiver's) is refused with the receiver's term.
  test("§9.6 a pre-vote from an older term is refused with the current term", () => {
    const s = new Solo(2n, [1n, 2n, 3n], { preVote: true, checkQuorum: false });
    s.step({
      type: "heartbeat",
      from: 3n,
      term: 5,
      commit: 0,
      context: new Uint8Array(0),
      sentTick: 0,
    });
    const out = s.step({
      type: "preVote",
      from: 1n,
      term: 4,
      index: 9,
      logTerm: 4,
      transfer: false,
    });
    expect(as(out[0], "preVoteResp")).toMatchObject({ reject: true, term: 5 });
  });

  // Rule (the point of §9.6): a server partitioned away keeps failing pre-votes, so its term does
  // not grow, and when it rejoins it does not force the leader to step down.
  test("§9.6 a partitioned node does not disrupt the cluster when it rejoins", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: { preVote: true, checkQuorum: false } });
    c.campaign(1n);
    const term = c.node(1n).status().term;
    c.isolate(3n);
    c.tick(100);
    expect(c.node(3n).status().term).toBe(term);
    c.recover();
    c.tick(5);
    expect(c.node(1n).status()).toMatchObject({ role: "leader", term });
    expect(c.node(3n).status()).toMatchObject({ role: "follower", lead: 1n, term });
  });

  // Contrast: without pre-vote, the same partition makes the rejoining node depose the leader.
  test("§9.6 without pre-vote the rejoining node's higher term deposes the leader", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: { preVote: false, checkQuorum: false } });
    c.campaign(1n);
    const term = c.node(1n).status().term;
    c.isolate(3n);
    c.tick(100);
    expect(c.node(3n).status().term).toBeGreaterThan(term);
    c.recover();
    c.tick(30);
    expect(c.node(1n).status().term).toBeGreaterThan(term);
  });
});

describe("§6.2 check-quorum and §4.2.3 disruptive servers", () => {
  // Rule (thesis §6.2): "a leader steps down if an election timeout elapses without a successful
  // round of heartbeats to a majority of its cluster".
  test("§6.2 a leader cut off from a majority steps down after an election timeout", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: { preVote: true, checkQuorum: true } });
    c.campaign(1n);
    c.isolate(1n);
    c.tick(10, [1n]);
    expect(c.node(1n).status().role).toBe("leader");
    c.tick(11, [1n]);
    expect(c.node(1n).status()).toMatchObject({ role: "follower", lead: 0n });
  });

  test("§6.2 a leader that hears from a majority keeps leading", () => {
    const c = new Cluster({
      voters: [1n, 2n, 3n, 4n, 5n],
      config: { preVote: true, checkQuorum: true },
    });
    c.campaign(1n);
    c.isolate(4n);
    c.isolate(5n);
    c.tick(50, [1n, 2n, 3n]);
    expect(c.node(1n).status().role).toBe("leader");
  });

  // Rule (thesis §4.2.3): "if a server receives a RequestVote request within the minimum election
  // timeout of hearing from a current leader, it does not update its term or grant its vote".
  test("§4.2.3 a follower that heard from the leader recently ignores a vote request", () => {
    const s = new Solo(2n, [1n, 2n, 3n], { preVote: false, checkQuorum: true });
    s.step({
      type: "heartbeat",
      from: 1n,
      term: 1,
      commit: 0,
      context: new Uint8Array(0),
      sentTick: 0,
    });
    const out = s.step({ type: "vote", from: 3n, term: 2, index: 0, logTerm: 0, transfer: false });
    expect(out).toEqual([]);
    expect(s.node.status()).toMatchObject({ term: 1, lead: 1n, vote: 0n });
    // Once an election timeout passed without the leader, the request is granted.
    s.tick(10);
    const later = s.step({
      type: "vote",
      from: 3n,
      term: 5,
      index: 0,
      logTerm: 0,
      transfer: false,
    });
    expect(as(later[0], "voteResp")).toMatchObject({ reject: false, term: 5 });
  });

  // Rule (etcd, with check-quorum or pre-vote): a follower answers an append from a stale leader,
  // so that the stale leader learns the new term and steps down.
  test("§6.2 a stale leader learns the newer term from a follower's answer", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: { preVote: true, checkQuorum: true } });
    c.campaign(1n);
    c.cutOneWay(2n, 1n);
    c.cutOneWay(3n, 1n);
    c.cutOneWay(1n, 2n);
    c.tick(30, [2n, 3n]);
    const l = c.leader();
    expect(l === 2n || l === 3n).toBe(true);
    // 1 still believes it leads an old term (its check-quorum has not fired yet).
    c.recover();
    c.cutOneWay(1n, 2n);
    c.node(1n).propose(new Uint8Array(1));
    c.stabilize();
    expect(c.node(1n).status()).toMatchObject({
      role: "follower",
      term: c.node(l ?? 0n).status().term,
    });
  });
});
