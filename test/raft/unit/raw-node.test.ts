/** Unit tests of the RawNode API edges and of the entry helpers. */
import {
  InvariantError,
  MemoryStorage,
  RaftErrorCode,
  RawNode,
  describeEntry,
  emptyConfState,
  entriesSize,
  hardStateEqual,
  isEmptyHardState,
  isRaftError,
  limitSize,
  type Entry,
  type Message,
  type RaftConfig,
} from "../../../node/raft/index.js";

function node(over: Partial<RaftConfig> = {}, voters: bigint[] = [1n, 2n, 3n]): RawNode {
  return new RawNode({
    id: 1n,
    storage: new MemoryStorage({ ...emptyConfState, voters }),
    random: () => 0,
    ...over,
  });
}

function errCode(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (isRaftError(err)) return err.code;
    if (err instanceof InvariantError) return "INVARIANT";
    throw err;
  }
  return "ok";
}

/** Handles every Ready (persisting into `storage`), returning the messages. */
function drain(n: RawNode, storage?: MemoryStorage): Message[] {
  const out: Message[] = [];
  while (n.hasReady()) {
    const rd = n.ready();
    storage?.append(rd.entries);
    if (rd.hardState !== undefined) storage?.setHardState(rd.hardState);
    out.push(...rd.messages);
    for (const e of rd.committedEntries) if (e.type === "confChange") n.applyConfChange(e.change);
    n.advance();
  }
  return out;
}

function leader(): { n: RawNode; storage: MemoryStorage } {
  const storage = new MemoryStorage({ ...emptyConfState, voters: [1n, 2n, 3n] });
  const n = new RawNode({ id: 1n, storage, random: () => 0, preVote: false });
  n.campaign();
  drain(n, storage);
  n.step({
    group: 1n,
    from: 2n,
    to: 1n,
    type: "voteResp",
    term: 1,
    reject: false,
    ...{ commit: 0, commitTerm: 0 },
  });
  drain(n, storage);
  expect(n.status().role).toBe("leader");
  return { n, storage };
}

describe("RawNode bootstrap", () => {
  test("bootstrap writes one committed conf change per voter at term 1", () => {
    const storage = new MemoryStorage();
    const n = new RawNode({ id: 1n, storage, random: () => 0 });
    n.bootstrap([1n, 2n]);
    expect(n.status()).toMatchObject({
      term: 1,
      commit: 2,
      lastIndex: 2,
      config: { voters: [1n, 2n] },
    });
    const rd = n.ready();
    expect(rd.hardState).toEqual({ term: 1, vote: 0n, commit: 2 });
    expect(rd.entries.map((e) => e.type)).toEqual(["confChange", "confChange"]);
    expect(rd.committedEntries).toHaveLength(2);
    expect(rd.mustSync).toBe(true);
  });

  test("bootstrap twice, on non-empty storage or with no voters fails with INVALID_CONFIG", () => {
    const n = new RawNode({ id: 1n, storage: new MemoryStorage(), random: () => 0 });
    expect(
      errCode(() => {
        n.bootstrap([]);
      }),
    ).toBe(RaftErrorCode.InvalidConfig);
    n.bootstrap([1n]);
    expect(
      errCode(() => {
        n.bootstrap([1n]);
      }),
    ).toBe(RaftErrorCode.InvalidConfig);
  });
});

describe("RawNode Ready / advance", () => {
  test("ready() twice without advance() is a broken invariant", () => {
    const n = node();
    n.campaign();
    expect(n.hasReady()).toBe(true);
    n.ready();
    expect(n.hasReady()).toBe(false);
    expect(errCode(() => n.ready())).toBe("INVARIANT");
  });

  test("advance() without a Ready is a broken invariant", () => {
    const n = node();
    expect(
      errCode(() => {
        n.advance();
      }),
    ).toBe("INVARIANT");
  });

  test("a fresh node has no Ready; soft and hard state are reported only when they change", () => {
    const n = node({ preVote: false });
    expect(n.hasReady()).toBe(false);
    n.campaign();
    const rd = n.ready();
    expect(rd.softState).toEqual({ leader: 0n, role: "candidate" });
    expect(rd.hardState).toEqual({ term: 1, vote: 1n, commit: 0 });
    expect(rd.mustSync).toBe(true);
    n.advance();
    n.tick();
    expect(n.hasReady()).toBe(false);
  });
});

describe("RawNode inputs", () => {
  test("proposals on a follower are dropped with PROPOSAL_DROPPED", () => {
    const n = node();
    expect(errCode(() => n.propose(new Uint8Array(1)))).toBe(RaftErrorCode.ProposalDropped);
    expect(
      errCode(() =>
        n.proposeConfChange({
          transition: "auto",
          changes: [{ type: "addNode", nodeId: 4n }],
          context: new Uint8Array(0),
        }),
      ),
    ).toBe(RaftErrorCode.ProposalDropped);
  });

  test("misrouted messages (other group or other node) are dropped", () => {
    const n = node();
    const hb = {
      from: 2n,
      type: "heartbeat",
      term: 5,
      commit: 0,
      context: new Uint8Array(0),
      sentTick: 0,
    } as const;
    n.step({ ...hb, group: 2n, to: 1n });
    n.step({ ...hb, group: 1n, to: 3n });
    expect(n.status().term).toBe(0);
    expect(n.hasReady()).toBe(false);
    n.step({ ...hb, group: 1n, to: 1n });
    expect(n.status()).toMatchObject({ term: 5, lead: 2n });
  });

  test("answers from nodes outside the configuration are dropped", () => {
    const { n } = leader();
    const before = n.status();
    n.step({
      group: 1n,
      from: 9n,
      to: 1n,
      type: "appResp",
      term: 7,
      index: 5,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    expect(n.status().term).toBe(before.term);
    expect(n.status().role).toBe("leader");
  });

  test("readIndex with no leader throws PROPOSAL_DROPPED; on a candidate too", () => {
    const n = node({ preVote: false });
    expect(
      errCode(() => {
        n.readIndex(new Uint8Array([1]));
      }),
    ).toBe(RaftErrorCode.ProposalDropped);
    n.campaign();
    expect(
      errCode(() => {
        n.readIndex(new Uint8Array([1]));
      }),
    ).toBe(RaftErrorCode.ProposalDropped);
  });

  test("a follower forwards readIndex to its leader with no term", () => {
    const n = node();
    n.step({
      group: 1n,
      from: 2n,
      to: 1n,
      type: "heartbeat",
      term: 3,
      commit: 0,
      context: new Uint8Array(0),
      sentTick: 0,
    });
    drain(n);
    n.readIndex(new Uint8Array([9]));
    const msgs = drain(n);
    expect(msgs).toEqual([
      { type: "readIndex", to: 2n, from: 1n, group: 1n, term: 0, context: new Uint8Array([9]) },
    ]);
  });

  test("transferLeader on a follower without a leader throws PROPOSAL_DROPPED", () => {
    const n = node();
    expect(
      errCode(() => {
        n.transferLeader(2n);
      }),
    ).toBe(RaftErrorCode.ProposalDropped);
  });

  test("reportUnreachable and reportSnapshot are ignored on a follower", () => {
    const n = node();
    n.reportUnreachable(2n);
    n.reportSnapshot(2n, "failure");
    expect(n.hasReady()).toBe(false);
    expect(n.status().progress).toBeUndefined();
  });
});

describe("RawNode status", () => {
  test("status reports term, vote, commit, applied, role and the leader's progress", () => {
    const { n } = leader();
    const st = n.status();
    expect(st).toMatchObject({
      id: 1n,
      term: 1,
      vote: 1n,
      lead: 1n,
      role: "leader",
      leadTransferee: 0n,
      lastIndex: 1,
      commit: 0,
      applied: 0,
    });
    expect([...(st.progress?.keys() ?? [])]).toEqual([1n, 2n, 3n]);
    expect(st.progress?.get(1n)).toMatchObject({
      match: 1,
      state: "replicate",
      isLearner: false,
      recentActive: true,
    });
    expect(st.progress?.get(2n)).toMatchObject({ match: 0, next: 1, state: "probe", inflight: 0 });
    n.step({
      group: 1n,
      from: 2n,
      to: 1n,
      type: "appResp",
      term: 1,
      index: 1,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    drain(n);
    expect(n.status()).toMatchObject({ commit: 1, applied: 1 });
    expect(n.status().progress?.get(2n)).toMatchObject({ match: 1, state: "replicate" });
  });

  test("a node restarted with an applied index resumes applying after it", () => {
    const storage = new MemoryStorage({ ...emptyConfState, voters: [1n] });
    storage.append(
      [1, 2, 3].map((i): Entry => ({ type: "normal", term: 1, index: i, data: new Uint8Array(0) })),
    );
    storage.setHardState({ term: 1, vote: 1n, commit: 3 });
    const n = new RawNode({ id: 1n, storage, random: () => 0, applied: 2 });
    expect(n.status()).toMatchObject({ commit: 3, applied: 2 });
    expect(n.ready().committedEntries.map((e) => e.index)).toEqual([3]);
  });

  test("a hard state commit beyond the log is a broken invariant", () => {
    const storage = new MemoryStorage({ ...emptyConfState, voters: [1n] });
    storage.setHardState({ term: 1, vote: 0n, commit: 5 });
    expect(errCode(() => new RawNode({ id: 1n, storage, random: () => 0 }))).toBe("INVARIANT");
  });
});

describe("entry helpers", () => {
  const e = (size: number, index = 1): Entry => ({
    type: "normal",
    term: 1,
    index,
    data: new Uint8Array(size),
  });
  test("sizes and limitSize keep at least one entry", () => {
    expect(entriesSize([e(1), e(2)])).toBe(24 + 1 + 24 + 2);
    expect(limitSize([], 0)).toEqual([]);
    expect(limitSize([e(100), e(1)], 10)).toHaveLength(1);
    expect(limitSize([e(1), e(1), e(1)], 50)).toHaveLength(2);
    const all = [e(1), e(1)];
    expect(limitSize(all, 1000)).toBe(all);
  });

  test("hard state helpers and describeEntry", () => {
    expect(isEmptyHardState({ term: 0, vote: 0n, commit: 0 })).toBe(true);
    expect(isEmptyHardState({ term: 0, vote: 0n, commit: 1 })).toBe(false);
    expect(hardStateEqual({ term: 1, vote: 2n, commit: 3 }, { term: 1, vote: 2n, commit: 3 })).toBe(
      true,
    );
    expect(hardStateEqual({ term: 1, vote: 2n, commit: 3 }, { term: 1, vote: 1n, commit: 3 })).toBe(
      false,
    );
    expect(describeEntry(e(3, 7))).toBe("1/7 normal(3B)");
    expect(
      describeEntry({
        type: "confChange",
        term: 2,
        index: 4,
        change: {
          transition: "explicit",
          changes: [{ type: "addNode", nodeId: 5n }],
          context: new Uint8Array(0),
        },
      }),
    ).toBe("2/4 confChange[explicit](addNode:5)");
    expect(
      describeEntry({
        type: "confChange",
        term: 2,
        index: 4,
        change: { transition: "auto", changes: [], context: new Uint8Array(0) },
      }),
    ).toBe("2/4 confChange[auto](leave)");
  });
});
