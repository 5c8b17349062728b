/** A damaged or foreign RocksDB directory fails to open with a coded error naming the damage. */
import { emptyConfState } from "../../node/raft/index.js";
import { RocksStorage, StorageErrorCode, isStorageError } from "../../node/storage/index.js";
import { encodeEntry } from "../../node/storage/entry-codec.js";
import { Kind, key, versionKey } from "../../node/storage/keys.js";
import { Level, type LevelOperation } from "../../node/storage/level.js";
import { encodeSnapshotMetadata } from "../../node/storage/state-codec.js";
import { ents, tempDirs } from "./helpers.js";

const dirs = tempDirs("corrupt");
afterAll(() => dirs.cleanup());

/** Writes entries 1..5 (term 1) through RocksStorage, then applies `ops` underneath it. */
async function damaged(ops: readonly LevelOperation[]): Promise<string> {
  const dir = await dirs.make();
  const s = await RocksStorage.open(dir);
  await s.save({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 1n, commit: 5 } });
  await s.close();
  const db = await Level.open(dir, false);
  await db.batch(ops, true);
  await db.close();
  return dir;
}

async function openError(dir: string): Promise<{ code: string; message: string }> {
  try {
    const s = await RocksStorage.open(dir);
    await s.close();
  } catch (err) {
    if (isStorageError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error(`opening '${dir}' succeeded`);
}

const entryKey = (i: number) => key(Kind.Entry, 0n, i);
const [e4] = ents(4, 4, 1);

describe("corrupt layouts", () => {
  test("a missing entry", async () => {
    const dir = await damaged([{ type: "del", key: entryKey(3) }]);
    expect(await openError(dir)).toEqual({
      code: StorageErrorCode.Corrupt,
      message: `[CORRUPT] cannot open raft log at '${dir}': entry 3 is missing between 2 and 4`,
    });
  });

  test("an undecodable entry", async () => {
    const dir = await damaged([{ type: "put", key: entryKey(2), value: Buffer.from([0, 1]) }]);
    const err = await openError(dir);
    expect(err.code).toBe(StorageErrorCode.Corrupt);
    expect(err.message).toContain("cannot decode entry 2: truncated at byte 2 of 2");
  });

  test("an entry under the wrong key", async () => {
    const dir = await damaged([
      { type: "put", key: entryKey(2), value: encodeEntry(e4 ?? fail()) },
    ]);
    expect((await openError(dir)).message).toContain("entry stored under index 2 says index 4");
  });

  test("a term going backwards", async () => {
    const dir = await damaged([
      { type: "put", key: entryKey(6), value: encodeEntry(ents(6, 6, 0)[0] ?? fail()) },
    ]);
    expect((await openError(dir)).message).toContain("entry 6 has term 0, below term 1 of 5");
  });

  test("a snapshot the log does not cover", async () => {
    const meta = encodeSnapshotMetadata({ index: 9, term: 1, confState: emptyConfState });
    const dir = await damaged([{ type: "put", key: key(Kind.Snapshot, 0n), value: meta }]);
    expect((await openError(dir)).message).toContain(
      "snapshot 9 is outside the log [0, 5] it must cover",
    );
  });

  test("a commit index beyond the log", async () => {
    const dir = await damaged([{ type: "del", key: entryKey(5) }]);
    expect((await openError(dir)).message).toContain("commit index 5 is outside the log [0, 4]");
  });

  test("another key-format version", async () => {
    const v2 = Buffer.from([0, 0, 0, 2]);
    const dir = await damaged([{ type: "put", key: versionKey, value: v2 }]);
    const err = await openError(dir);
    expect(err.code).toBe(StorageErrorCode.Version);
    expect(err.message).toContain("key-format version 00000002 is not 1");
  });

  test("records without a key-format version (not a juraft log)", async () => {
    const dir = await damaged([{ type: "del", key: versionKey }]);
    const err = await openError(dir);
    expect(err.code).toBe(StorageErrorCode.Corrupt);
    expect(err.message).toContain("has records (first key 02");
  });

  test("each group is verified on its own", async () => {
    const dir = await damaged([
      { type: "put", key: key(Kind.Entry, 7n, 9), value: Buffer.from("not ours") },
    ]);
    const s = await RocksStorage.open(dir);
    expect(s.lastIndex()).toBe(5);
    await s.close();
    const other = await RocksStorage.open(dir, { group: 7n }).catch((e: unknown) => e);
    expect(String(other)).toContain("entry 1 is missing between 0 and 9");
  });
});

function fail(): never {
  throw new Error("fixture missing");
}
