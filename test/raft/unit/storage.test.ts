/** Unit tests of MemoryStorage (node/raft/storage.ts). */
import {
  InvariantError,
  MemoryStorage,
  RaftErrorCode,
  emptyConfState,
  isRaftError,
  type Entry,
} from "../../../node/raft/index.js";

function ent(term: number, index: number, size = 0): Entry {
  return { type: "normal", term, index, data: new Uint8Array(size) };
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
/** Storage with entries 1..5 of terms 1 1 2 2 3. */
function filled(): MemoryStorage {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(1, 2), ent(2, 3), ent(2, 4), ent(3, 5)]);
  return s;
}

describe("MemoryStorage", () => {
  test("a new storage is empty and reports its seeded configuration", () => {
    const cs = { ...emptyConfState, voters: [1n, 2n] };
    const s = new MemoryStorage(cs);
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.initialState()).toEqual({
      hardState: { term: 0, vote: 0n, commit: 0 },
      confState: cs,
    });
    s.setHardState({ term: 2, vote: 1n, commit: 0 });
    expect(s.hardState()).toEqual({ term: 2, vote: 1n, commit: 0 });
    expect(s.initialState().hardState.term).toBe(2);
  });

  test("entries: range, size limit (at least one), COMPACTED and UNAVAILABLE", () => {
    const s = filled();
    expect(s.entries(2, 5, 1000).map((e) => e.index)).toEqual([2, 3, 4]);
    expect(s.entries(2, 5, 0).map((e) => e.index)).toEqual([2]);
    expect(s.entries(2, 5, 48).map((e) => e.index)).toEqual([2, 3]);
    expect(code(() => s.entries(0, 2, 100))).toBe(RaftErrorCode.Compacted);
    expect(code(() => s.entries(4, 7, 100))).toBe(RaftErrorCode.Unavailable);
  });

  test("term: COMPACTED below the snapshot, UNAVAILABLE past the end", () => {
    const s = filled();
    expect(s.term(5)).toBe(3);
    expect(code(() => s.term(6))).toBe(RaftErrorCode.Unavailable);
    s.createSnapshot(3, emptyConfState, new Uint8Array(0));
    s.compact(3);
    expect(s.term(3)).toBe(2);
    expect(code(() => s.term(2))).toBe(RaftErrorCode.Compacted);
  });

  test("compact keeps the dummy entry's term and is a no-op at or below the offset", () => {
    const s = filled();
    s.compact(4);
    expect(s.firstIndex()).toBe(5);
    expect(s.lastIndex()).toBe(5);
    expect(s.term(4)).toBe(2);
    s.compact(2);
    expect(s.firstIndex()).toBe(5);
    expect(
      code(() => {
        s.compact(9);
      }),
    ).toBe("INVARIANT");
    expect(code(() => s.entries(4, 6, 100))).toBe(RaftErrorCode.Compacted);
    expect(s.entries(5, 6, 100).map((e) => e.index)).toEqual([5]);
  });

  test("createSnapshot records term and membership; older snapshots are SNAP_OUT_OF_DATE", () => {
    const s = filled();
    const cs = { ...emptyConfState, voters: [1n] };
    const snap = s.createSnapshot(4, cs, new Uint8Array([7]));
    expect(snap.metadata).toEqual({ index: 4, term: 2, confState: cs });
    expect(s.snapshot()).toBe(snap);
    expect(s.initialState().confState).toBe(cs);
    expect(code(() => s.createSnapshot(4, cs, new Uint8Array(0)))).toBe(
      RaftErrorCode.SnapOutOfDate,
    );
    expect(code(() => s.createSnapshot(9, cs, new Uint8Array(0)))).toBe("INVARIANT");
    // Creating a snapshot does not compact.
    expect(s.firstIndex()).toBe(1);
  });

  test("applySnapshot replaces the log; an older one is SNAP_OUT_OF_DATE", () => {
    const s = filled();
    const cs = { ...emptyConfState, voters: [1n] };
    s.applySnapshot({ metadata: { index: 10, term: 4, confState: cs }, data: new Uint8Array(0) });
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(10);
    expect(s.term(10)).toBe(4);
    expect(
      code(() => {
        s.applySnapshot({
          metadata: { index: 10, term: 4, confState: cs },
          data: new Uint8Array(0),
        });
      }),
    ).toBe(RaftErrorCode.SnapOutOfDate);
    expect(
      code(() => {
        s.applySnapshot({
          metadata: { index: 8, term: 4, confState: cs },
          data: new Uint8Array(0),
        });
      }),
    ).toBe(RaftErrorCode.SnapOutOfDate);
  });

  test("append truncates a conflicting tail, ignores compacted entries and refuses gaps", () => {
    const s = filled();
    s.append([ent(4, 4), ent(4, 5), ent(4, 6)]);
    expect([4, 5, 6].map((i) => s.term(i))).toEqual([4, 4, 4]);
    expect(s.lastIndex()).toBe(6);
    s.append([ent(5, 3)]);
    expect(s.lastIndex()).toBe(3);
    expect(
      code(() => {
        s.append([ent(5, 9)]);
      }),
    ).toBe("INVARIANT");
    s.createSnapshot(2, emptyConfState, new Uint8Array(0));
    s.compact(2);
    // Entirely compacted: ignored.
    s.append([ent(9, 1), ent(9, 2)]);
    expect(s.term(2)).toBe(1);
    // Partly compacted: the covered prefix is skipped.
    s.append([ent(6, 2), ent(6, 3), ent(6, 4)]);
    expect(s.term(2)).toBe(1);
    expect([3, 4].map((i) => s.term(i))).toEqual([6, 6]);
    s.append([]);
    expect(s.lastIndex()).toBe(4);
  });

  test("sizeBytes counts stored entries with their overhead", () => {
    const s = new MemoryStorage();
    const empty = s.sizeBytes();
    s.append([ent(1, 1, 10), ent(1, 2, 20)]);
    expect(s.sizeBytes() - empty).toBe(24 + 10 + 24 + 20);
  });
});
