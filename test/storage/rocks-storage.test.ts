/** RocksStorage: the Storage contract, durability across reopen, truncation, compaction. */
import {
  RaftErrorCode,
  emptyConfState,
  isRaftError,
  type ConfState,
  type Entry,
} from "../../node/raft/index.js";
import { RocksStorage, StorageErrorCode, isStorageError } from "../../node/storage/index.js";
import { confEntry, ents, plain, tempDirs } from "./helpers.js";

const dirs = tempDirs("rocks");
afterAll(() => dirs.cleanup());

const cs3: ConfState = { ...emptyConfState, voters: [1n, 2n, 3n] };

async function reopen(s: RocksStorage): Promise<RocksStorage> {
  await s.close();
  return RocksStorage.open(s.dir);
}

function all(s: RocksStorage): Entry[] {
  return s.lastIndex() < s.firstIndex()
    ? []
    : [...s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity)];
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return isStorageError(err) ? err.code : String(err);
  }
  return undefined;
}

describe("RocksStorage", () => {
  test("a new log is empty, created, and says so only the first time", async () => {
    const dir = await dirs.make();
    const s = await RocksStorage.open(`${dir}/nested/log`);
    expect(s.created).toBe(true);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 0]);
    expect(s.initialState()).toEqual({
      hardState: { term: 0, vote: 0n, commit: 0 },
      confState: emptyConfState,
    });
    expect(s.snapshot().metadata.index).toBe(0);
    expect(s.term(0)).toBe(0);
    const t = await reopen(s);
    expect(t.created).toBe(false);
    await t.close();
  });

  test("create: false refuses a missing directory with IO", async () => {
    const dir = await dirs.make();
    expect(await codeOf(RocksStorage.open(`${dir}/absent`, { create: false }))).toBe(
      StorageErrorCode.Io,
    );
  });

  test("entries, hard state and configuration round-trip through a reopen", async () => {
    const s = await RocksStorage.open(await dirs.make());
    const log = [...ents(1, 3, 1), confEntry(4, 1, 4n), ...ents(5, 9, 2)];
    const hs = { term: 2, vote: 3n, commit: 7 };
    const members = new TextEncoder().encode('{"1":"a:1","2":"b:2"}');
    await s.save({ hardState: hs, entries: log, conf: { index: 4, confState: cs3, members } });
    const t = await reopen(s);
    expect(plain(all(t))).toEqual(plain(log));
    expect(t.hardState()).toEqual(hs);
    expect(t.initialState()).toEqual({ hardState: hs, confState: emptyConfState });
    expect(t.conf()?.confState).toEqual(cs3);
    expect(Buffer.from(t.conf()?.members ?? []).toString()).toBe('{"1":"a:1","2":"b:2"}');
    expect(t.term(9)).toBe(2);
    await t.setConf({ index: 9, confState: emptyConfState, members: new Uint8Array([1]) });
    const u = await reopen(t);
    expect(u.conf()?.index).toBe(9);
    expect(Array.from(u.conf()?.members ?? [])).toEqual([1]);
    await u.close();
  });

  test("follows the Storage contract: COMPACTED, UNAVAILABLE, size limits", async () => {
    const s = await RocksStorage.open(await dirs.make());
    await s.save({ entries: ents(1, 10, 1) });
    await s.recordSnapshot({ index: 5, term: 1, confState: cs3 });
    await s.compact(4);
    const raftCode = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        return isRaftError(err) ? err.code : String(err);
      }
      return undefined;
    };
    expect(raftCode(() => s.entries(4, 6, Infinity))).toBe(RaftErrorCode.Compacted);
    expect(raftCode(() => s.entries(5, 12, Infinity))).toBe(RaftErrorCode.Unavailable);
    expect(raftCode(() => s.term(3))).toBe(RaftErrorCode.Compacted);
    expect(raftCode(() => s.term(11))).toBe(RaftErrorCode.Unavailable);
    expect(s.term(4)).toBe(1);
    expect(s.entries(5, 11, 0)).toHaveLength(1); // at least one entry, whatever the limit
    expect(s.snapshot()).toEqual({
      metadata: { index: 5, term: 1, confState: cs3 },
      data: new Uint8Array(0),
    });
    await s.close();
  });

  test("a conflicting tail is truncated, and stays truncated after a reopen", async () => {
    const s = await RocksStorage.open(await dirs.make());
    await s.save({ entries: ents(1, 10, 1) });
    await s.save({ entries: ents(6, 7, 2), hardState: { term: 2, vote: 0n, commit: 5 } });
    expect([s.lastIndex(), s.term(7)]).toEqual([7, 2]);
    const t = await reopen(s);
    expect(plain(all(t))).toEqual(plain([...ents(1, 5, 1), ...ents(6, 7, 2)]));
    // Entries at or below the log start are ignored (the snapshot covers them).
    await t.recordSnapshot({ index: 3, term: 1, confState: cs3 });
    await t.compact(3);
    await t.save({ entries: [...ents(2, 4, 1), ...ents(5, 8, 3)] });
    const u = await reopen(t);
    expect(plain(all(u))).toEqual(plain([...ents(4, 4, 1), ...ents(5, 8, 3)]));
    await u.close();
  });

  test("compaction deletes entries a snapshot covers, and survives a reopen", async () => {
    const s = await RocksStorage.open(await dirs.make());
    await s.save({ entries: ents(1, 20, 1), hardState: { term: 1, vote: 1n, commit: 20 } });
    expect(await codeOf(s.compact(10))).toBe(StorageErrorCode.Invalid); // no snapshot yet
    await s.recordSnapshot({ index: 15, term: 1, confState: cs3 });
    await s.compact(10);
    await s.compact(5); // already compacted: a no-op
    expect([s.firstIndex(), s.lastIndex(), s.term(10)]).toEqual([11, 20, 1]);
    const t = await reopen(s);
    expect([t.firstIndex(), t.lastIndex()]).toEqual([11, 20]);
    expect(t.snapshot().metadata.index).toBe(15);
    expect(t.initialState().confState).toEqual(cs3);
    expect(plain(all(t))).toEqual(plain(ents(11, 20, 1)));
    await t.compact(15);
    const u = await reopen(t);
    expect([u.firstIndex(), u.lastIndex()]).toEqual([16, 20]);
    await u.close();
  });

  test("a long compaction runs in chunks that saves interleave with", async () => {
    const s = await RocksStorage.open(await dirs.make());
    for (let i = 0; i < 5; i++) await s.save({ entries: ents(i * 1000 + 1, i * 1000 + 1000, 1) });
    await s.recordSnapshot({ index: 4500, term: 1, confState: cs3 });
    const order: string[] = [];
    const compacting = s.compact(4500).then(() => order.push("compact"));
    const saving = s.save({ entries: ents(5001, 5001, 1) }).then(() => order.push("save"));
    await Promise.all([compacting, saving]);
    expect(order).toEqual(["save", "compact"]); // the save did not wait for all 4500 deletes
    expect([s.firstIndex(), s.lastIndex()]).toEqual([4501, 5001]);
    const t = await reopen(s);
    expect([t.firstIndex(), t.lastIndex(), t.term(4500)]).toEqual([4501, 5001, 1]);
    expect(plain(all(t))).toEqual(plain(ents(4501, 5001, 1)));
    await t.close();
  });

  test("after a compaction RocksDB compacts the deleted range: its disk space comes back", async () => {
    const s = await RocksStorage.open(await dirs.make());
    // 3000 entries of 2 KiB of noise (6 MiB, more than one 4 MiB memtable), in SST files after
    // a reopen. Each is one block of noise XOR its index: nothing Snappy can shrink.
    const block = new Uint8Array(2048);
    for (let i = 0, x = 7; i < block.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      block[i] = x >>> 24;
    }
    const big = (from: number, to: number): Entry[] =>
      ents(from, to, 1).map((e) => ({ ...e, data: block.map((b) => b ^ (e.index & 255)) }));
    for (let i = 0; i < 3; i++) await s.save({ entries: big(i * 1000 + 1, i * 1000 + 1000) });
    const t = await reopen(s);
    const before = await t.diskBytesUpTo(2500);
    expect(before).toBeGreaterThan(2500 * 2048 * 0.9);
    await t.recordSnapshot({ index: 2500, term: 1, confState: cs3 });
    await t.compact(2500);
    await t.reclaimed();
    // Without RocksDB's compaction the deleted values would stay in their SST files.
    expect(await t.diskBytesUpTo(2500)).toBeLessThan(before / 100);
    await t.compact(2500); // nothing deleted: no compaction started
    await t.reclaimed();
    const u = await reopen(t);
    expect([u.firstIndex(), u.lastIndex()]).toEqual([2501, 3000]);
    // Byte comparisons (toEqual on 1 MiB of Uint8Array elements takes seconds).
    const want = big(2501, 3000);
    const got = all(u);
    expect(got.length).toBe(want.length);
    const differ = got.filter((e, i) => {
      const w = want[i];
      if (w?.type !== "normal" || e.type !== "normal") return true;
      return e.index !== w.index || !Buffer.from(e.data).equals(w.data);
    });
    expect(differ.map((e) => e.index)).toEqual([]);
    await u.close();
  }, 30_000);

  test("a received snapshot replaces the whole log, atomically with the entries after it", async () => {
    const s = await RocksStorage.open(await dirs.make());
    await s.save({ entries: ents(1, 10, 1) });
    const meta = { index: 30, term: 4, confState: cs3 };
    await s.save({
      snapshot: meta,
      entries: ents(31, 32, 4),
      hardState: { term: 4, vote: 0n, commit: 30 },
    });
    expect([s.firstIndex(), s.lastIndex(), s.term(30)]).toEqual([31, 32, 4]);
    const t = await reopen(s);
    expect([t.firstIndex(), t.lastIndex(), t.term(30)]).toEqual([31, 32, 4]);
    expect(t.snapshot().metadata).toEqual(meta);
    expect(plain(all(t))).toEqual(plain(ents(31, 32, 4)));
    // A snapshot behind the current one is refused.
    const old = { index: 20, term: 3, confState: cs3 };
    expect(await codeOf(t.save({ snapshot: old, entries: [] }))).toBe(StorageErrorCode.Invalid);
    // A snapshot inside the current log also replaces it (the core sent it because it conflicts).
    await t.save({
      snapshot: { index: 31, term: 5, confState: cs3 },
      entries: [],
      hardState: { term: 5, vote: 0n, commit: 31 },
    });
    expect([t.firstIndex(), t.lastIndex()]).toEqual([32, 31]);
    const u = await reopen(t);
    expect([u.firstIndex(), u.lastIndex(), u.term(31)]).toEqual([32, 31, 5]);
    await u.close();
  });

  test("recordSnapshot checks the index and term against the log", async () => {
    const s = await RocksStorage.open(await dirs.make());
    await s.save({ entries: [...ents(1, 3, 1), ...ents(4, 5, 2)] });
    const snap = (index: number, term: number) => ({ index, term, confState: cs3 });
    expect(await codeOf(s.recordSnapshot(snap(6, 2)))).toBe(StorageErrorCode.Invalid);
    expect(await codeOf(s.recordSnapshot(snap(4, 1)))).toBe(StorageErrorCode.Invalid);
    await s.recordSnapshot(snap(4, 2));
    expect(await codeOf(s.recordSnapshot(snap(3, 1)))).toBe(StorageErrorCode.Invalid);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 5]); // the log is untouched
    await s.close();
  });

  test("a gap or a non-contiguous batch is INVALID and changes nothing", async () => {
    const s = await RocksStorage.open(await dirs.make());
    await s.save({ entries: ents(1, 3, 1) });
    expect(await codeOf(s.save({ entries: ents(5, 6, 1) }))).toBe(StorageErrorCode.Invalid);
    const holey = [...ents(4, 4, 1), ...ents(6, 6, 1)];
    expect(await codeOf(s.save({ entries: holey }))).toBe(StorageErrorCode.Invalid);
    const msg = await s.save({ entries: ents(5, 6, 1) }).catch((e: unknown) => String(e));
    expect(msg).toMatch(/cannot append entries from 5: the log ends at 3 \(a gap\)/);
    expect(s.lastIndex()).toBe(3);
    const t = await reopen(s);
    expect(t.lastIndex()).toBe(3);
    await t.close();
  });

  test("concurrent saves run one at a time, in call order", async () => {
    const s = await RocksStorage.open(await dirs.make());
    const seen: number[] = [];
    const calls: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) {
      // Each batch needs the previous one applied (else it would be a gap): order matters.
      calls.push(s.save({ entries: ents(i, i, 1) }).then(() => void seen.push(s.lastIndex())));
    }
    // A failing call in the middle does not stop the queue.
    calls.push(expect(s.save({ entries: ents(99, 99, 1) })).rejects.toThrow(/a gap/));
    calls.push(s.save({ entries: ents(51, 51, 1) }));
    await Promise.all(calls);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(s.lastIndex()).toBe(51);
    await s.close();
  });

  test("the core sees a save only once it is written", async () => {
    const s = await RocksStorage.open(await dirs.make());
    const p = s.save({ entries: ents(1, 5, 1) });
    expect(s.lastIndex()).toBe(0);
    await p;
    expect(s.lastIndex()).toBe(5);
    await s.close();
  });

  test("an aborted signal rejects with its reason, before or while queued", async () => {
    const s = await RocksStorage.open(await dirs.make());
    const reason = new Error("shutting down");
    const ac = new AbortController();
    ac.abort(reason);
    await expect(s.save({ entries: ents(1, 1, 1) }, { signal: ac.signal })).rejects.toBe(reason);
    await expect(RocksStorage.open(s.dir, { signal: ac.signal })).rejects.toBe(reason);
    const later = new AbortController();
    const first = s.save({ entries: ents(1, 1, 1) });
    const queued = s.save({ entries: ents(2, 2, 1) }, { signal: later.signal });
    later.abort(reason);
    await first;
    await expect(queued).rejects.toBe(reason);
    expect(s.lastIndex()).toBe(1);
    await s.close();
  });

  test("close waits for queued writes, is idempotent, and later writes fail CLOSED", async () => {
    const s = await RocksStorage.open(await dirs.make());
    const pending = s.save({ entries: ents(1, 100, 1) });
    const closing = s.close();
    expect(await codeOf(s.save({ entries: ents(101, 101, 1) }))).toBe(StorageErrorCode.Closed);
    expect(await codeOf(s.compact(1))).toBe(StorageErrorCode.Closed);
    await pending;
    await closing;
    await s.close();
    await s[Symbol.asyncDispose]();
    {
      await using t = await RocksStorage.open(s.dir);
      expect(t.lastIndex()).toBe(100);
    }
  });

  test("the event loop keeps ticking during synced writes", async () => {
    const s = await RocksStorage.open(await dirs.make());
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 1);
    const started = performance.now();
    for (let i = 1; i <= 200; i++) {
      await s.save({ entries: ents(i, i, 1), hardState: { term: 1, vote: 1n, commit: i } });
    }
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // No timing threshold (machines differ): only that timers ran while the writes were synced.
    expect(ticks).toBeGreaterThan(0);
    console.log(
      `200 synced saves: ${elapsed.toFixed(0)} ms, ${ticks} timer ticks, max gap ${maxGap.toFixed(1)} ms`,
    );
    await s.close();
  });
});
