/**
 * Raft paper §5.3 (log replication), §5.4.2 (committing entries from previous terms), §5.5
 * (idempotent RPCs) and flow control (thesis §10.2.1, etcd's progress states).
 */
import { as, Cluster, data, logOf, Solo, text } from "./harness.js";
import { type Entry, type Message, type NodeId, type Term } from "../../../node/raft/index.js";

const plain = { preVote: false, checkQuorum: false } as const;

function ent(term: Term, index: number, s = ""): Entry {
  return { type: "normal", term, index, data: data(s) };
}

function apps(msgs: readonly Message[], to?: NodeId): Extract<Message, { type: "app" }>[] {
  return msgs.filter(
    (m): m is Extract<Message, { type: "app" }> =>
      m.type === "app" && (to === undefined || m.to === to),
  );
}

describe("§5.3 log replication", () => {
  // Rule: "The leader appends the command to its log as a new entry, then issues AppendEntries
  // RPCs in parallel to each of the other servers", carrying prevLogIndex/prevLogTerm of the
  // entry before the new ones and the leader's commit index.
  test("§5.3 the leader appends a proposal and sends it to every follower", () => {
    const s = new Solo(1n, [1n, 2n, 3n], plain);
    s.becomeLeader([2n, 3n]);
    for (const from of [2n, 3n]) {
      s.step({
        type: "appResp",
        from,
        term: 1,
        index: 1,
        reject: false,
        rejectHint: 0,
        logTerm: 0,
      });
    }
    expect(s.node.status().commit).toBe(1);
    const pos = s.node.propose(data("x"));
    expect(pos).toEqual({ index: 2, term: 1 });
    const msgs = s.drain();
    expect(apps(msgs).map((m) => m.to)).toEqual([2n, 3n]);
    for (const m of apps(msgs)) {
      expect(m).toMatchObject({ term: 1, index: 1, logTerm: 1, commit: 1 });
      expect(m.entries.map(text)).toEqual(["x"]);
    }
    // The entry was persisted by the leader before the messages went out.
    expect(s.peer.storage.lastIndex()).toBe(2);
  });

  // Rule: "A log entry is committed once the leader that created the entry has replicated it on a
  // majority of the servers." In juraft the leader's own copy counts only once persisted.
  test("§5.3 an entry commits once a majority (leader included, once persisted) has it", () => {
    const s = new Solo(1n, [1n, 2n, 3n, 4n, 5n], plain);
    s.becomeLeader([2n, 3n]);
    s.node.propose(data("x"));
    // Before the Ready is handled, the leader's own copy is not durable and does not count.
    s.node.step({
      group: 1n,
      to: 1n,
      from: 2n,
      type: "appResp",
      term: 1,
      index: 2,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    s.node.step({
      group: 1n,
      to: 1n,
      from: 3n,
      type: "appResp",
      term: 1,
      index: 2,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    // Followers 2 and 3 have index 2 but the leader's copy is not durable: 2 of 5 is no majority.
    // (Index 1, the leader's empty entry, is durable and acknowledged by 2 and 3: it commits.)
    expect(s.node.status().commit).toBe(1);
    s.drain();
    expect(s.node.status().commit).toBe(2);
    expect(s.peer.appliedData()).toEqual(["x"]);
  });

  test("§5.3 an entry replicated on a minority does not commit", () => {
    const s = new Solo(1n, [1n, 2n, 3n, 4n, 5n], plain);
    s.becomeLeader([2n, 3n]);
    s.node.propose(data("x"));
    s.drain();
    s.step({
      type: "appResp",
      from: 2n,
      term: 1,
      index: 2,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    expect(s.node.status().commit).toBe(0);
    expect(s.peer.appliedData()).toEqual([]);
  });

  // Rule: committing an entry "also commits all preceding entries in the leader's log", and the
  // leader tells followers its commit index in later AppendEntries, after which they apply.
  test("§5.3 committing an index commits all preceding entries on every node", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: plain });
    c.campaign(1n);
    c.isolate(1n);
    for (const s of ["a", "b", "c"]) c.propose(1n, s);
    expect(c.node(1n).status().commit).toBe(4);
    c.recover();
    c.tick(1);
    for (const id of [1n, 2n, 3n]) {
      expect(c.node(id).status().commit).toBe(7);
      expect(c.peer(id).appliedData()).toEqual(["a", "b", "c"]);
    }
  });

  // Rule: AppendEntries receiver "Reply false if log doesn't contain an entry at prevLogIndex
  // whose term matches prevLogTerm", with a hint so the leader can skip back (thesis §5.3).
  test("§5.3 a follower rejects an append whose previous entry does not match", () => {
    const s = new Solo(2n, [1n, 2n, 3n], plain);
    s.step({
      type: "app",
      from: 1n,
      term: 3,
      index: 0,
      logTerm: 0,
      commit: 0,
      entries: [ent(1, 1), ent(1, 2), ent(2, 3)],
    });
    // Index 5 does not exist.
    const r1 = as(
      s.step({
        type: "app",
        from: 1n,
        term: 3,
        index: 5,
        logTerm: 3,
        commit: 0,
        entries: [ent(3, 6)],
      })[0],
      "appResp",
    );
    expect(r1).toMatchObject({ reject: true, index: 5, rejectHint: 3, logTerm: 2 });
    // Index 3 exists with term 2, the leader says term 3: the hint skips to the last entry of a
    // term <= 3... which is 3 itself, so the hint says (3, 2) and the leader skips term 2 wholesale.
    const r2 = as(
      s.step({ type: "app", from: 1n, term: 3, index: 3, logTerm: 3, commit: 0, entries: [] })[0],
      "appResp",
    );
    expect(r2).toMatchObject({ reject: true, index: 3, rejectHint: 3, logTerm: 2 });
    // Leader says index 3 has term 1: the follower points at index 2 (the last of term <= 1).
    const r3 = as(
      s.step({ type: "app", from: 1n, term: 3, index: 3, logTerm: 1, commit: 0, entries: [] })[0],
      "appResp",
    );
    expect(r3).toMatchObject({ reject: true, index: 3, rejectHint: 2, logTerm: 1 });
    expect(s.node.status().lastIndex).toBe(3);
  });

  // Rule: "If an existing entry conflicts with a new one (same index but different terms), delete
  // the existing entry and all that follow it" and "Append any new entries not already in the log".
  test("§5.3 a follower replaces a conflicting suffix with the leader's entries", () => {
    const s = new Solo(2n, [1n, 2n, 3n], plain);
    s.step({
      type: "app",
      from: 1n,
      term: 2,
      index: 0,
      logTerm: 0,
      commit: 1,
      entries: [ent(1, 1, "a"), ent(2, 2, "b"), ent(2, 3, "c")],
    });
    const out = s.step({
      type: "app",
      from: 3n,
      term: 3,
      index: 1,
      logTerm: 1,
      commit: 1,
      entries: [ent(3, 2, "B")],
    });
    expect(as(out[0], "appResp")).toMatchObject({ reject: false, index: 2 });
    expect(logOf(s.peer.storage)).toEqual([
      [1, 1],
      [3, 2],
    ]);
    expect(s.peer.storage.entries(2, 3, 1000).map(text)).toEqual(["B"]);
  });

  // Rule: entries already present are kept: a stale or duplicated AppendEntries that is a prefix of
  // the follower's log must not truncate it (§5.5: "Raft RPCs are idempotent").
  test("§5.5 a duplicated or stale AppendEntries does not truncate the log", () => {
    const s = new Solo(2n, [1n, 2n, 3n], plain);
    const full = {
      type: "app",
      from: 1n,
      term: 1,
      index: 0,
      logTerm: 0,
      commit: 0,
      entries: [ent(1, 1), ent(1, 2), ent(1, 3)],
    } as const;
    s.step(full);
    const again = s.step(full);
    expect(as(again[0], "appResp")).toMatchObject({ reject: false, index: 3 });
    const stale = s.step({ ...full, entries: [ent(1, 1)] });
    // The answer names the last index the message covered; the log keeps all three entries.
    expect(as(stale[0], "appResp")).toMatchObject({ reject: false, index: 1 });
    expect(logOf(s.peer.storage)).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
  });

  // Rule: "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new
  // entry)".
  test("§5.3 a follower commits min(leaderCommit, index of last new entry)", () => {
    const s = new Solo(2n, [1n, 2n, 3n], plain);
    s.step({
      type: "app",
      from: 1n,
      term: 1,
      index: 0,
      logTerm: 0,
      commit: 5,
      entries: [ent(1, 1, "a"), ent(1, 2, "b")],
    });
    expect(s.node.status().commit).toBe(2);
    expect(s.peer.appliedData()).toEqual(["a", "b"]);
    s.step({
      type: "app",
      from: 1n,
      term: 1,
      index: 2,
      logTerm: 1,
      commit: 3,
      entries: [ent(1, 3, "c"), ent(1, 4, "d")],
    });
    expect(s.node.status().commit).toBe(3);
    expect(s.peer.storage.hardState().commit).toBe(3);
  });

  // Rule: heartbeats carry the commit index, but never beyond what the follower is known to hold,
  // so that a follower is never told to commit entries it may not have.
  test("§5.3 heartbeats carry commit = min(follower match, leader commit)", () => {
    const s = new Solo(1n, [1n, 2n, 3n], { ...plain, heartbeatTick: 1 });
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
    expect(s.node.status().commit).toBe(1);
    const hb = s.tick(1).filter((m) => m.type === "heartbeat");
    expect(hb.map((m) => [m.to, as(m, "heartbeat").commit])).toEqual([
      [2n, 1],
      [3n, 0],
    ]);
  });

  // Rule (Figure 7): whatever a follower's log looks like, the leader finds the last matching entry
  // by backing up nextIndex, deletes the follower's extraneous entries and fills in the missing
  // ones, so that all logs end up identical (Log Matching).
  test.each([
    ["a", [1, 1, 1, 4, 4, 5, 5, 6, 6]],
    ["b", [1, 1, 1, 4]],
    ["c", [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]],
    ["d", [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]],
    ["e", [1, 1, 1, 4, 4, 4, 4]],
    ["f", [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]],
  ])(
    "§5.3 Figure 7 (%s): the leader brings a divergent follower log in line",
    (_name, follower) => {
      const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
      const c = new Cluster({ voters: [1n, 2n, 3n], config: plain, start: "seeded" });
      for (const [id, terms] of [
        [1n, leaderLog],
        [2n, follower],
        [3n, leaderLog],
      ] as const) {
        const st = c.peer(id).storage;
        st.append(terms.map((t, i) => ent(t, i + 1, `${t}.${i + 1}`)));
        st.setHardState({ term: 7, vote: 0n, commit: 0 });
        c.restart(id);
      }
      c.cut(1n, 2n);
      expect(c.campaign(1n)).toBe("leader");
      expect(c.node(1n).status().term).toBe(8);
      c.recover();
      c.propose(1n, "new");
      // The probe to 2 was lost while cut; the next heartbeat answer resumes probing.
      c.tick(2);
      const want = logOf(c.peer(1n).storage);
      expect(want).toHaveLength(12);
      expect(logOf(c.peer(2n).storage)).toEqual(want);
      expect(c.node(2n).status().commit).toBe(12);
      expect(c.peer(2n).appliedData()).toEqual(c.peer(1n).appliedData());
    },
  );

  // Rule (Log Matching, State Machine Safety): under message loss and leader changes, every node
  // applies the same entries in the same order. The harness checks each applied index.
  test("§5.3 logs converge and apply identically under random loss and leader changes", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const c = new Cluster({ voters: [1n, 2n, 3n, 4n, 5n], seed });
      c.dropRandomly(0.2, seed);
      let n = 0;
      for (let round = 0; round < 30; round++) {
        const l = c.leader();
        if (l !== undefined) {
          try {
            c.propose(l, `v${n}`);
            n++;
          } catch {
            // Not the leader any more: fine.
          }
        }
        if (round % 10 === 9 && l !== undefined) c.isolate(l);
        c.tick(3);
        if (round % 10 === 0) {
          c.recover();
          c.dropRandomly(0.2, seed + round);
        }
      }
      c.recover();
      const l = c.electLeader();
      c.propose(l, "final");
      c.tick(5);
      const ref = c.peer(l).appliedData();
      expect(ref).toContain("final");
      for (const p of c.peers.values()) expect(p.appliedData()).toEqual(ref);
    }
  });
});

describe("§5.4.2 committing entries from previous terms", () => {
  // Rule: "Raft never commits log entries from previous terms by counting replicas. Only log
  // entries from the leader's current term are committed by counting replicas" (Figure 8).
  test("§5.4.2 a leader does not commit a previous-term entry by counting replicas", () => {
    const t = new Solo(1n, [1n, 2n, 3n], {
      ...plain,
      log: [ent(1, 1), ent(2, 2)],
      hardState: { term: 3, vote: 0n, commit: 0 },
    });
    t.becomeLeader([2n]);
    expect(t.node.status()).toMatchObject({ term: 4, lastIndex: 3 });
    // Follower 2 holds the term-2 entry at index 2: a majority (1, 2) has it, but it is not of
    // term 4, so it must not commit.
    t.step({
      type: "appResp",
      from: 2n,
      term: 4,
      index: 2,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    expect(t.node.status().commit).toBe(0);
    expect(t.peer.applied).toEqual([]);
    // Once the leader's own empty entry of term 4 (index 3) is on a majority, everything commits.
    t.step({
      type: "appResp",
      from: 2n,
      term: 4,
      index: 3,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    expect(t.node.status().commit).toBe(3);
    expect(t.peer.applied.map((e) => e.term)).toEqual([1, 2, 4]);
  });

  // Rule: a new leader appends a blank no-op entry of its term at the start of its term, so that
  // previous-term entries get committed (thesis §6.4 uses it too).
  test("§5.4.2 a new leader appends an empty entry of its own term", () => {
    const c = new Cluster({ voters: [1n, 2n, 3n], config: plain });
    const before = c.node(2n).status().lastIndex;
    c.campaign(2n);
    const st = c.node(2n).status();
    const last = c.peer(2n).storage.entries(st.lastIndex, st.lastIndex + 1, 1000)[0];
    expect(st.lastIndex).toBe(before + 1);
    expect(last).toMatchObject({ type: "normal", term: st.term, index: before + 1 });
    expect(last?.type === "normal" ? last.data.length : -1).toBe(0);
    expect(st.commit).toBe(before + 1);
  });

  // Rule (Figure 8 (c)-(d)): an entry from a previous term that is stored on a majority may still
  // be overwritten by a later leader, so the current leader must not count it as committed.
  test("§5.4.2 Figure 8: a previous-term entry on a majority is not committed and may be overwritten", () => {
    // One entry per append, so that the term-2 entry and the term-4 entry travel separately.
    const c = new Cluster({ voters: [1n, 2n, 3n, 4n, 5n], config: { ...plain, maxSizePerMsg: 1 } });
    const campaignUntilLeader = (id: bigint): void => {
      for (let i = 0; i < 3 && c.node(id).status().role !== "leader"; i++) c.campaign(id);
      expect(c.node(id).status().role).toBe("leader");
    };
    campaignUntilLeader(1n);
    const base = c.node(1n).status().lastIndex;
    // (a) S1 (term 2) replicates "s1" at base+1 to S2 only.
    for (const id of [3n, 4n, 5n]) c.cut(1n, id);
    c.propose(1n, "s1");
    expect(c.node(2n).status().lastIndex).toBe(base + 1);
    // (b) S1 crashes; S5 is elected by S3, S4 (term 3) and writes an entry at base+1 that no one
    // else receives.
    c.recover();
    c.isolate(1n);
    c.drop((m) => m.from === 5n && m.type === "app");
    campaignUntilLeader(5n);
    expect(c.node(5n).status().lastIndex).toBe(base + 1);
    // (c) S1 restarts and is elected (term 4) by S2, S3, S4; it replicates its term-2 entry to
    // S3, but its own term-4 entry reaches nobody.
    c.recover();
    c.isolate(5n);
    c.restart(1n);
    let firstTo3 = true;
    c.hold((m) => {
      if (m.type !== "app" || m.from !== 1n || !m.entries.some((e) => e.term > 2)) return false;
      // The first term-4 append to S3 is rejected (S3 lacks base+1): let it through.
      if (m.to === 3n && firstTo3) {
        firstTo3 = false;
        return false;
      }
      return true;
    });
    campaignUntilLeader(1n);
    const term1 = c.node(1n).status().term;
    expect(c.node(3n).status().lastIndex).toBe(base + 1);
    // S1, S2 and S3 hold the term-2 entry: a majority. It must not be committed.
    expect(c.node(1n).status().commit).toBe(base);
    expect(c.peer(1n).appliedData()).toEqual([]);
    // (d) S1 crashes again; S5 is elected by S2, S3, S4 (its last term 3 beats their term 2) and
    // overwrites index base+1 everywhere. The harness would throw had anybody applied "s1".
    c.release();
    c.queue = [];
    c.recover();
    c.isolate(1n);
    c.restart(5n);
    campaignUntilLeader(5n);
    expect(c.node(5n).status().term).toBeGreaterThan(term1);
    c.propose(5n, "s5");
    c.recover();
    c.tick(3);
    for (const id of [1n, 2n, 3n, 4n, 5n]) {
      expect(c.peer(id).storage.term(base + 1)).toBe(3);
      expect(c.peer(id).appliedData()).toEqual(["s5"]);
    }
  });
});
