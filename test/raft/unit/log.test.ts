/** Unit tests of node/raft/log.ts (RaftLog) and log-unstable.ts (UnstableLog). */
import { RaftLog } from "../../../node/raft/log.js";
import { UnstableLog } from "../../../node/raft/log-unstable.js";
import {
  InvariantError,
  MemoryStorage,
  RaftErrorCode,
  emptyConfState,
  isRaftError,
  type Entry,
  type Snapshot,
} from "../../../node/raft/index.js";

function ent(term: number, index: number, size = 0): Entry {
  return { type: "normal", term, index, data: new Uint8Array(size) };
}
function ents(from: number, terms: readonly number[]): Entry[] {
  return terms.map((t, i) => ent(t, from + i));
}
function snap(index: number, term: number): Snapshot {
  return {
    metadata: { index, term, confState: { ...emptyConfState, voters: [1n] } },
    data: new Uint8Array(0),
  };
}
function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (isRaftError(err)) return err.code;
    if (err instanceof InvariantError) return "INVARIANT";
    throw err;
  }
  return "ok";
}
const terms = (es: readonly Entry[]): number[] => es.map((e) => e.term);

describe("UnstableLog", () => {
  test("truncateAndAppend appends, replaces everything, or truncates a suffix", () => {
    const u = new UnstableLog(5);
    u.truncateAndAppend(ents(5, [1, 1, 1]));
    expect(u.entries.map((e) => e.index)).toEqual([5, 6, 7]);
    u.truncateAndAppend(ents(8, [2]));
    expect(terms(u.entries)).toEqual([1, 1, 1, 2]);
    u.truncateAndAppend(ents(7, [3, 3]));
    expect(terms(u.entries)).toEqual([1, 1, 3, 3]);
    u.truncateAndAppend(ents(4, [4]));
    expect(u.offset).toBe(4);
    expect(terms(u.entries)).toEqual([4]);
    u.truncateAndAppend([]);
    expect(u.entries).toHaveLength(1);
  });

  test("maybeFirstIndex / maybeLastIndex / maybeTerm with and without a snapshot", () => {
    const u = new UnstableLog(1);
    expect(u.maybeFirstIndex()).toBeUndefined();
    expect(u.maybeLastIndex()).toBeUndefined();
    expect(u.maybeTerm(1)).toBeUndefined();
    u.restore(snap(10, 3));
    expect(u.maybeFirstIndex()).toBe(11);
    expect(u.maybeLastIndex()).toBe(10);
    expect(u.maybeTerm(10)).toBe(3);
    expect(u.maybeTerm(9)).toBeUndefined();
    u.truncateAndAppend(ents(11, [4, 4]));
    expect(u.maybeLastIndex()).toBe(12);
    expect(u.maybeTerm(12)).toBe(4);
    expect(u.maybeTerm(13)).toBeUndefined();
  });

  test("stableTo only acknowledges entries that are still there with that term", () => {
    const u = new UnstableLog(1);
    u.truncateAndAppend(ents(1, [1, 1, 2]));
    expect(u.stableTo(2, 2)).toBe(false); // wrong term
    expect(u.stableTo(9, 1)).toBe(false); // beyond
    expect(u.stableTo(2, 1)).toBe(true);
    expect(u.offset).toBe(3);
    expect(terms(u.entries)).toEqual([2]);
    expect(u.stableTo(1, 1)).toBe(false); // already stable
  });

  test("stableSnapTo clears only the matching snapshot", () => {
    const u = new UnstableLog(1);
    u.restore(snap(5, 1));
    u.stableSnapTo(4);
    expect(u.snapshot).toBeDefined();
    u.stableSnapTo(5);
    expect(u.snapshot).toBeUndefined();
  });

  test("slice checks its bounds", () => {
    const u = new UnstableLog(3);
    u.truncateAndAppend(ents(3, [1, 1, 1]));
    expect(u.slice(4, 6).map((e) => e.index)).toEqual([4, 5]);
    expect(code(() => u.slice(2, 4))).toBe("INVARIANT");
    expect(code(() => u.slice(4, 7))).toBe("INVARIANT");
  });
});

describe("RaftLog", () => {
  function log(stable: readonly number[], unstable: readonly number[] = []): RaftLog {
    const st = new MemoryStorage();
    st.append(ents(1, stable));
    const l = new RaftLog(st);
    l.append(ents(stable.length + 1, unstable));
    return l;
  }

  test("bounds and terms span storage and the unstable tail", () => {
    const l = log([1, 1, 2], [3, 3]);
    expect(l.firstIndex()).toBe(1);
    expect(l.lastIndex()).toBe(5);
    expect(l.lastTerm()).toBe(3);
    expect(l.term(0)).toBe(0);
    expect(l.term(3)).toBe(2);
    expect(l.term(4)).toBe(3);
    expect(code(() => l.term(6))).toBe(RaftErrorCode.Unavailable);
    expect(l.zeroTermOnOutOfBounds(6)).toBe(0);
    expect(l.unstableEntries().map((e) => e.index)).toEqual([4, 5]);
  });

  test("after compaction terms below the snapshot are COMPACTED", () => {
    const st = new MemoryStorage();
    st.append(ents(1, [1, 1, 2, 2]));
    st.createSnapshot(2, emptyConfState, new Uint8Array(0));
    st.compact(2);
    const l = new RaftLog(st);
    expect(l.firstIndex()).toBe(3);
    expect(l.committed).toBe(2);
    expect(l.applied).toBe(2);
    expect(l.term(2)).toBe(1);
    expect(code(() => l.term(1))).toBe(RaftErrorCode.Compacted);
    expect(l.zeroTermOnOutOfBounds(1)).toBe(0);
    expect(code(() => l.slice(1, 3, 100))).toBe(RaftErrorCode.Compacted);
    expect(l.matchTerm(1, 1)).toBe(false);
    expect(l.matchTerm(2, 1)).toBe(true);
  });

  test("maybeAppend: mismatch, no-op, extension, conflict, commit = min(leader, last new)", () => {
    const l = log([1, 2, 3]);
    expect(l.maybeAppend(3, 2, 3, [])).toBeUndefined();
    expect(l.maybeAppend(4, 3, 3, [])).toBeUndefined();
    // Already present: nothing changes, commit follows.
    expect(l.maybeAppend(1, 1, 2, ents(2, [2]))).toBe(2);
    expect(l.lastIndex()).toBe(3);
    expect(l.committed).toBe(2);
    // Extension.
    expect(l.maybeAppend(3, 3, 10, ents(4, [3, 3]))).toBe(5);
    expect(l.committed).toBe(5);
    // Conflict below commit is a broken invariant.
    expect(code(() => l.maybeAppend(2, 2, 5, ents(3, [9])))).toBe("INVARIANT");
  });

  test("maybeAppend truncates a conflicting uncommitted suffix", () => {
    const l = log([1, 1, 1], [2, 2]);
    expect(l.maybeAppend(2, 1, 0, ents(3, [4, 4]))).toBe(4);
    expect(terms(l.entries(1, 1000))).toEqual([1, 1, 4, 4]);
  });

  test("findConflict and findConflictByTerm", () => {
    const l = log([1, 1, 2, 2, 5]);
    expect(l.findConflict(ents(1, [1, 1]))).toBe(0);
    expect(l.findConflict(ents(4, [2, 6]))).toBe(5);
    expect(l.findConflict(ents(5, [5, 5]))).toBe(6);
    expect(l.findConflictByTerm(5, 4)).toEqual([4, 2]);
    expect(l.findConflictByTerm(5, 5)).toEqual([5, 5]);
    expect(l.findConflictByTerm(5, 1)).toEqual([2, 1]);
    expect(l.findConflictByTerm(5, 0)).toEqual([0, 0]);
    const st = new MemoryStorage();
    st.append(ents(1, [3, 3, 3]));
    st.createSnapshot(2, emptyConfState, new Uint8Array(0));
    st.compact(2);
    const c = new RaftLog(st);
    // Below the log the answer is the first unknown index with term 0.
    expect(c.findConflictByTerm(3, 1)).toEqual([1, 0]);
  });

  test("append refuses to overwrite committed entries or leave a gap", () => {
    const l = log([1, 1]);
    l.commitTo(2);
    expect(code(() => l.append(ents(2, [2])))).toBe("INVARIANT");
    expect(code(() => l.append(ents(4, [2])))).toBe("INVARIANT");
    expect(l.append([])).toBe(2);
  });

  test("commitTo never goes back and never beyond the log; appliedTo stays in range", () => {
    const l = log([1, 1, 1]);
    l.commitTo(2);
    l.commitTo(1);
    expect(l.committed).toBe(2);
    expect(
      code(() => {
        l.commitTo(4);
      }),
    ).toBe("INVARIANT");
    l.appliedTo(1);
    expect(
      code(() => {
        l.appliedTo(3);
      }),
    ).toBe("INVARIANT");
    expect(
      code(() => {
        l.appliedTo(0);
      }),
    ).toBe("ok");
    expect(l.applied).toBe(1);
  });

  test("maybeCommit only commits entries of the given term (§5.4.2)", () => {
    const l = log([1, 1, 2]);
    expect(l.maybeCommit(2, 2)).toBe(false);
    expect(l.maybeCommit(3, 2)).toBe(true);
    expect(l.committed).toBe(3);
    expect(l.maybeCommit(3, 2)).toBe(false);
  });

  test("nextCommittedEntries hands out committed entries after applied, size-limited", () => {
    const l = new RaftLog(new MemoryStorage());
    l.append([ent(1, 1, 100), ent(1, 2, 100), ent(1, 3, 100)]);
    expect(l.hasNextCommittedEntries()).toBe(false);
    expect(l.nextCommittedEntries(1000)).toEqual([]);
    l.commitTo(3);
    expect(l.nextCommittedEntries(250).map((e) => e.index)).toEqual([1, 2]);
    expect(l.nextCommittedEntries(1).map((e) => e.index)).toEqual([1]);
    l.appliedTo(2);
    expect(l.nextCommittedEntries(1000).map((e) => e.index)).toEqual([3]);
  });

  test("slice spans storage and unstable entries and stops at the size limit", () => {
    const st = new MemoryStorage();
    st.append([ent(1, 1, 76), ent(1, 2, 76)]);
    const l = new RaftLog(st);
    l.append([ent(1, 3, 76), ent(1, 4, 76)]);
    expect(l.slice(1, 5, 1000).map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(l.slice(1, 5, 150).map((e) => e.index)).toEqual([1]);
    expect(l.slice(2, 5, 250).map((e) => e.index)).toEqual([2, 3]);
    expect(l.slice(3, 3, 10)).toEqual([]);
    expect(code(() => l.slice(3, 2, 10))).toBe("INVARIANT");
    expect(code(() => l.slice(3, 6, 10))).toBe("INVARIANT");
    expect(l.entries(5, 100)).toEqual([]);
  });

  test("stableTo, persistedLastIndex and restore from a snapshot", () => {
    const st = new MemoryStorage();
    const l = new RaftLog(st);
    l.append(ents(1, [1, 1]));
    expect(l.persistedLastIndex()).toBe(0);
    st.append(l.unstableEntries());
    expect(l.stableTo(2, 1)).toBe(true);
    expect(l.persistedLastIndex()).toBe(2);
    const s = snap(10, 2);
    l.restore(s);
    expect(l.snapshot()).toBe(s);
    expect(l.committed).toBe(10);
    expect(l.firstIndex()).toBe(11);
    expect(l.lastIndex()).toBe(10);
    expect(l.persistedLastIndex()).toBe(0);
    expect(l.hasNextCommittedEntries()).toBe(false);
    st.applySnapshot(s);
    l.stableSnapTo(10);
    expect(l.persistedLastIndex()).toBe(10);
    expect(l.snapshot()).toBe(s);
  });

  test("isUpToDate compares last term, then length (§5.4.1)", () => {
    const l = log([1, 2, 2]);
    expect(l.isUpToDate(3, 2)).toBe(true);
    expect(l.isUpToDate(2, 2)).toBe(false);
    expect(l.isUpToDate(1, 3)).toBe(true);
    expect(l.isUpToDate(9, 1)).toBe(false);
  });
});
