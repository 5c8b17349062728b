/**
 * Raft paper §5.1 (terms), §5.2 (leader election) and §5.4.1 (election restriction), in the
 * init/act/check shape of etcd's raft_paper_test.go. Pre-vote is off here so that the plain paper
 * rules are visible; thesis §9.6 is tested in prevote.test.ts.
 */
import { as, Cluster, Solo, voteResp } from "./harness.js";
import type { Message, Role } from "../../../node/raft/index.js";

const plain = { preVote: false, checkQuorum: false } as const;

function types(msgs: readonly Message[]): string[] {
  return msgs.map((m) => `${m.type}->${m.to}`).sort();
}

describe("§5.1 terms", () => {
  // Rule: "If one server's current term is smaller than the other's, then it updates its current
  // term to the larger value. If a candidate or leader discovers that its term is out of date, it
  // immediately reverts to follower state."
  test.each<Role>(["follower", "candidate", "leader"])(
    "§5.1 a %s that sees a higher term adopts it and becomes follower",
    (role) => {
      const s = new Solo(1n, [1n, 2n, 3n], plain);
      if (role === "candidate") {
        s.node.campaign();
        s.drain();
      } else if (role === "leader") {
        s.becomeLeader([2n]);
      }
      expect(s.node.status().role).toBe(role);
      const before = s.node.status().term;
      s.step({
        type: "appResp",
        from: 2n,
        term: before + 5,
        index: 0,
        reject: false,
        rejectHint: 0,
        logTerm: 0,
      });
      const st = s.node.status();
      expect(st.term).toBe(before + 5);
      expect(st.role).toBe("follower");
      expect(st.vote).toBe(0n);
      // The new term is persisted before anything is sent.
      expect(s.peer.storage.hardState().term).toBe(before + 5);
    },
  );

  // Rule: "If a server receives a request with a stale term number, it rejects the request."
  test("§5.1 a request with a stale term is rejected and does not change state", () => {
    const s = new Solo(1n, [1n, 2n, 3n], plain);
    s.step({
      type: "heartbeat",
      from: 2n,
      term: 3,
      commit: 0,
      context: new Uint8Array(0),
      sentTick: 0,
    });
    expect(s.node.status().term).toBe(3);
    const out = s.step({ type: "vote", from: 3n, term: 2, index: 10, logTerm: 2, transfer: false });
    // A stale vote request gets no grant; the node keeps its term and has not voted.
    expect(out.filter((m) => m.type === "voteResp" && !m.reject)).toEqual([]);
    expect(s.node.status()).toMatchObject({ term: 3, vote: 0n, lead: 2n });
    const app = s.step({
      type: "app",
      from: 3n,
      term: 2,
      index: 0,
      logTerm: 0,
      commit: 0,
      entries: [{ type: "normal", term: 2, index: 1, data: new Uint8Array(1) }],
    });
    expect(s.node.status().lastIndex).toBe(0);
    expect(app.every((m) => m.type !== "appResp" || m.index === 0)).toBe(true);
  });
});

describe("§5.2 leader election", () => {
  // Rule: "If a follower receives no communication over a period of time called the election
  // timeout, then it assumes there is no viable leader and begins an election": it increments
  // its term, votes for itself and issues RequestVote RPCs to every other server.
  test("§5.2 a follower that hears nothing for an election timeout becomes candidate", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { ...plain, electionTick: 10 });
    expect(s.tick(9)).toEqual([]);
    expect(s.node.status().role).toBe("follower");
    const msgs = s.tick(1);
    const st = s.node.status();
    expect(st).toMatchObject({ role: "candidate", term: 1, vote: 1n });
    expect(types(msgs)).toEqual(["vote->2", "vote->3"]);
    for (const m of msgs)
      expect(as(m, "vote")).toMatchObject({ term: 1, index: 0, logTerm: 0, transfer: false });
    expect(s.peer.storage.hardState()).toMatchObject({ term: 1, vote: 1n });
  });

  // Rule: "a candidate continues in this state until ... a period of time goes by with no winner"
  // and then "times out and starts a new election by incrementing its term".
  test("§5.2 a candidate that neither wins nor loses starts a new election after a timeout", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { ...plain, electionTick: 10 });
    s.node.campaign();
    s.drain();
    expect(s.node.status().term).toBe(1);
    const msgs = s.tick(10);
    expect(s.node.status()).toMatchObject({ role: "candidate", term: 2, vote: 1n });
    expect(types(msgs)).toEqual(["vote->2", "vote->3"]);
  });

  // Rule: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all
  // followers in order to maintain their authority"; a leader never starts an election.
  test("§5.2 a leader sends heartbeats every heartbeat interval and never campaigns", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { ...plain, electionTick: 10, heartbeatTick: 3 });
    s.becomeLeader([2n]);
    s.drain();
    const term = s.node.status().term;
    expect(s.tick(2).filter((m) => m.type === "heartbeat")).toEqual([]);
    const hb = s.tick(1);
    expect(types(hb)).toEqual(["heartbeat->2", "heartbeat->3"]);
    s.tick(50);
    expect(s.node.status()).toMatchObject({ role: "leader", term });
  });

  // Rule: "A candidate wins an election if it receives votes from a majority of the servers in
  // the full cluster for the same term." Once it wins it becomes leader and sends heartbeats.
  test("§5.2 a candidate with votes from a majority becomes leader", () => {
    for (const [n, needed] of [
      [1, 0],
      [3, 1],
      [5, 2],
    ] as const) {
      const ids = Array.from({ length: n }, (_, i) => BigInt(i + 1));
      const s = new Solo(1n, ids, plain);
      s.node.campaign();
      s.drain();
      for (let i = 0; i < needed; i++) {
        expect(s.node.status().role).toBe("candidate");
        s.step(voteResp("voteResp", ids[i + 1] ?? 0n, 1, false));
      }
      expect(s.node.status().role).toBe("leader");
    }
  });

  // Rule: a candidate whose vote requests are rejected by a majority has lost and (etcd) returns to
  // follower state in the same term.
  test("§5.2 a candidate rejected by a majority becomes follower", () => {
    const s = new Solo(1n, [1n, 2n, 3n, 4n, 5n], plain);
    s.node.campaign();
    s.drain();
    s.step(voteResp("voteResp", 2n, 1, true));
    s.step(voteResp("voteResp", 3n, 1, true));
    expect(s.node.status().role).toBe("candidate");
    s.step(voteResp("voteResp", 4n, 1, true));
    expect(s.node.status()).toMatchObject({ role: "follower", term: 1 });
  });

  // Rule: "If the leader's term is at least as large as the candidate's current term, then the
  // candidate recognizes the leader as legitimate and returns to follower state."
  test("§5.2 a candidate that hears from a leader of its term becomes its follower", () => {
    for (const type of ["app", "heartbeat"] as const) {
      const s = new Solo(1n, [1n, 2n, 3n], plain);
      s.node.campaign();
      s.drain();
      if (type === "app") {
        s.step({ type, from: 2n, term: 1, index: 0, logTerm: 0, commit: 0, entries: [] });
      } else {
        s.step({ type, from: 2n, term: 1, commit: 0, context: new Uint8Array(0), sentTick: 0 });
      }
      expect(s.node.status()).toMatchObject({ role: "follower", term: 1, lead: 2n });
    }
  });

  // Rule: "If the term in the RPC is smaller than the candidate's current term, then the candidate
  // rejects the RPC and continues in candidate state."
  test("§5.2 a candidate rejects an AppendEntries of an older term", () => {
    const s = new Solo(1n, [1n, 2n, 3n], plain);
    s.node.campaign();
    s.node.campaign();
    s.drain();
    const out = s.step({
      type: "app",
      from: 2n,
      term: 1,
      index: 0,
      logTerm: 0,
      commit: 0,
      entries: [],
    });
    expect(s.node.status()).toMatchObject({ role: "candidate", term: 2 });
    // Without checkQuorum or pre-vote the stale leader is not answered at all.
    expect(out).toEqual([]);
  });

  // Rule: "Each server will vote for at most one candidate in a given term, on a
  // first-come-first-served basis." A repeated request from the same candidate is granted again.
  test("§5.2 a follower votes for at most one candidate per term", () => {
    const s = new Solo(1n, [1n, 2n, 3n], plain);
    const first = s.step({
      type: "vote",
      from: 2n,
      term: 1,
      index: 0,
      logTerm: 0,
      transfer: false,
    });
    expect(first).toEqual([
      expect.objectContaining({ type: "voteResp", to: 2n, reject: false, term: 1 }),
    ]);
    // The vote is persisted before the grant is sent.
    expect(s.peer.storage.hardState()).toMatchObject({ term: 1, vote: 2n });
    const second = s.step({
      type: "vote",
      from: 3n,
      term: 1,
      index: 5,
      logTerm: 1,
      transfer: false,
    });
    expect(second).toEqual([expect.objectContaining({ type: "voteResp", to: 3n, reject: true })]);
    const again = s.step({
      type: "vote",
      from: 2n,
      term: 1,
      index: 0,
      logTerm: 0,
      transfer: false,
    });
    expect(again).toEqual([expect.objectContaining({ type: "voteResp", to: 2n, reject: false })]);
    expect(s.node.status().vote).toBe(2n);
  });

  // Rule (§5.2 + Figure 2 "persistent state ... updated on stable storage before responding"): a
  // node that crashes after voting must not vote for somebody else in the same term after restart.
  test("§5.2 a vote survives a restart: no second vote in the same term", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: plain });
    c.node(2n).campaign();
    c.stabilize();
    expect(c.node(2n).status().role).toBe("leader");
    const term = c.node(1n).status().term;
    expect(c.node(1n).status().vote).toBe(2n);
    c.restart(1n);
    c.flush(1n);
    expect(c.node(1n).status()).toMatchObject({ term, vote: 2n });
    c.node(1n).step({
      group: 1n,
      from: 3n,
      to: 1n,
      type: "vote",
      term,
      index: 100,
      logTerm: term,
      transfer: false,
    });
    c.flush(1n);
    const answer = c.queue.find((m) => m.from === 1n && m.to === 3n);
    expect(as(answer, "voteResp").reject).toBe(true);
  });

  // Rule: "Raft uses randomized election timeouts ... chosen randomly from a fixed interval"
  // (here [electionTick, 2 * electionTick)), drawn from the injected random source.
  test("§5.2 election timeouts are randomized in [electionTick, 2*electionTick)", () => {
    const seen = new Set<number>();
    for (let r = 0; r < 10; r++) {
      const s = new Solo(1n, [1n, 2n, 3n], {
        ...plain,
        electionTick: 10,
        random: (n) => (n === 10 ? r : 0),
      });
      let ticks = 0;
      while (s.node.status().role === "follower") {
        s.tick(1);
        ticks++;
      }
      seen.add(ticks);
      expect(ticks).toBe(10 + r);
    }
    expect(seen.size).toBe(10);
  });

  // Rule: with randomized timeouts, split votes are rare and resolve quickly: whatever the seed,
  // a cluster ends with exactly one leader that every node follows (Election Safety is checked by
  // the harness on every Ready).
  test("§5.2 every seed elects exactly one leader that all nodes follow", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const c = new Cluster({ voters: [1n, 2n, 3n, 4n, 5n], config: plain, seed });
      const l = c.electLeader();
      const term = c.node(l).status().term;
      for (const p of c.peers.values()) expect(p.node.status()).toMatchObject({ term, lead: l });
    }
  });

  // Rule: a follower that keeps hearing from a leader (heartbeats) resets its election timer and
  // never starts an election.
  test("§5.2 heartbeats from the leader keep followers from campaigning", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: plain });
    expect(c.campaign(1n)).toBe("leader");
    const term = c.node(1n).status().term;
    c.tick(100);
    for (const p of c.peers.values()) expect(p.node.status()).toMatchObject({ term, lead: 1n });
  });

  // Rule: when the leader fails, followers time out and elect a new leader of a higher term.
  test("§5.2 a new leader is elected after the leader is cut off", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: plain, seed: 3 });
    c.campaign(1n);
    const term = c.node(1n).status().term;
    c.isolate(1n);
    c.tick(40, [2n, 3n]);
    const l = c.leader();
    expect(l === 2n || l === 3n).toBe(true);
    expect(c.node(l ?? 0n).status().term).toBeGreaterThan(term);
    // The old leader, once reconnected, steps down on the higher term.
    c.recover();
    c.tick(3);
    expect(c.node(1n).status()).toMatchObject({ role: "follower", lead: l });
  });
});

describe("§5.4.1 election restriction", () => {
  // Rule: "the voter denies its vote if its own log is more up-to-date than that of the candidate.
  // ... If the logs have last entries with different terms, then the log with the later term is
  // more up-to-date. If the logs end with the same term, then whichever log is longer is more
  // up-to-date."
  test.each([
    // [candidate last term, candidate last index, granted] against a voter log ending at (2, 3)
    [1, 5, false],
    [2, 2, false],
    [2, 3, true],
    [2, 4, true],
    [3, 1, true],
  ])(
    "§5.4.1 voter with log ending (term 2, index 3) vs candidate (term %i, index %i): granted=%s",
    (logTerm, index, granted) => {
      const s = new Solo(1n, [1n, 2n, 3n], plain);
      s.step({
        type: "app",
        from: 2n,
        term: 2,
        index: 0,
        logTerm: 0,
        commit: 0,
        entries: [
          { type: "normal", term: 1, index: 1, data: new Uint8Array(0) },
          { type: "normal", term: 2, index: 2, data: new Uint8Array(0) },
          { type: "normal", term: 2, index: 3, data: new Uint8Array(0) },
        ],
      });
      expect(s.node.status().lastIndex).toBe(3);
      const out = s.step({ type: "vote", from: 3n, term: 3, index, logTerm, transfer: false });
      expect(out).toEqual([
        expect.objectContaining({ type: "voteResp", to: 3n, reject: !granted, term: 3 }),
      ]);
      expect(s.node.status().vote).toBe(granted ? 3n : 0n);
      expect(s.node.status().term).toBe(3);
    },
  );

  // Rule (Leader Completeness): a candidate that lacks a committed entry cannot win, because a
  // majority holds the entry and refuses its vote.
  test("§5.4.1 a node missing committed entries cannot become leader", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: plain });
    c.campaign(1n);
    c.cut(1n, 3n);
    c.propose(1n, "x");
    expect(c.node(1n).status().commit).toBe(c.node(2n).status().commit);
    const committed = c.node(1n).status().commit;
    expect(c.node(3n).status().lastIndex).toBeLessThan(committed);
    c.recover();
    c.isolate(1n);
    // 3 campaigns repeatedly; 2 refuses every time, so 3 never wins.
    for (let i = 0; i < 5; i++) {
      c.node(3n).campaign();
      c.stabilize();
      expect(c.node(3n).status().role).not.toBe("leader");
    }
    expect(c.campaign(2n)).toBe("leader");
    c.recover();
    c.tick(2);
    expect(c.peer(3n).appliedData()).toEqual(["x"]);
  });
});
