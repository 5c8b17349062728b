/** SnapshotFiles: round trips, checksum verification, crash leftovers and retention. */
import { open as openFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  SnapshotFiles,
  StorageErrorCode,
  isStorageError,
  snapshotFileName,
} from "../../node/storage/index.js";
import { tempDirs } from "./helpers.js";

const dirs = tempDirs("snap");
afterAll(() => dirs.cleanup());

async function* chunks(n: number, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < n; i++) {
    await Promise.resolve();
    yield new Uint8Array(size).fill(i & 0xff);
  }
}

async function readAll(data: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of data) parts.push(c);
  return Buffer.concat(parts);
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return isStorageError(err) ? err.code : String(err);
  }
  return undefined;
}

describe("SnapshotFiles", () => {
  test("round-trips data from an async iterable, with a header recording what it holds", async () => {
    const files = await SnapshotFiles.open(await dirs.make());
    const info = await files.write({ index: 42, term: 3 }, chunks(100, 10_000));
    expect(info).toMatchObject({ index: 42, term: 3, size: 1_000_000 });
    expect(info.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(info.path).toBe(join(files.dir, snapshotFileName(3, 42)));
    expect(snapshotFileName(3, 42)).toBe("00000000000000000003-00000000000000000042.snap");
    const reader = await files.open(42);
    expect(reader.info).toEqual(info);
    const data = await readAll(reader);
    expect(data.equals(await readAll(chunks(100, 10_000)))).toBe(true);
    // A reader can be iterated again (each pass rereads and re-verifies).
    expect((await readAll(reader)).length).toBe(1_000_000);
    expect(await files.latest()).toEqual(info);
  });

  test("accepts a plain iterable and empty data", async () => {
    const files = await SnapshotFiles.open(await dirs.make());
    await files.write({ index: 1, term: 1 }, []);
    expect((await readAll(await files.open(1))).length).toBe(0);
    await files.write({ index: 2, term: 1 }, [Buffer.from("ab"), new Uint8Array([99])]);
    expect((await readAll(await files.open(2))).toString()).toBe("abc");
  });

  test("a flipped data byte fails the checksum, naming the file", async () => {
    const files = await SnapshotFiles.open(await dirs.make());
    const info = await files.write({ index: 7, term: 2 }, chunks(3, 1000));
    const fh = await openFile(info.path, "r+");
    await fh.write(Buffer.from([0xee]), 0, 1, 64 + 1500);
    await fh.close();
    const reader = await files.open(7);
    const err = await readAll(reader).catch((e: unknown) => e);
    expect(isStorageError(err, StorageErrorCode.Corrupt)).toBe(true);
    expect(String(err)).toContain(`snapshot file '${info.path}' is corrupt: read 3000 bytes`);
  });

  test("a truncated file or a bad header is reported, and latest() skips it", async () => {
    const files = await SnapshotFiles.open(await dirs.make());
    const older = await files.write({ index: 5, term: 1 }, chunks(2, 100));
    const newer = await files.write({ index: 9, term: 1 }, chunks(2, 100));
    const fh = await openFile(newer.path, "r+");
    await fh.truncate(100);
    await fh.close();
    expect(await files.latest()).toEqual(older);
    const listing = await files.list();
    expect(listing.map((l) => l.index)).toEqual([9, 5]);
    expect(listing[0]?.error?.message).toContain("the header says 200 data bytes, the file has 36");
    expect(await codeOf(files.open(9))).toBe(StorageErrorCode.Corrupt);
    expect(await codeOf(files.open(6))).toBe(StorageErrorCode.NotFound);
    await writeFile(join(files.dir, snapshotFileName(1, 3)), "not a snapshot");
    expect(String((await files.list())[2]?.error)).toContain("bad header");
  });

  test("temp files left by a crash are removed at open; other files are left alone", async () => {
    const root = await dirs.make();
    const files = await SnapshotFiles.open(root);
    const kept = await files.write({ index: 3, term: 1 }, chunks(1, 10));
    await writeFile(join(files.dir, `${snapshotFileName(1, 4)}.0badf00d.tmp`), "partial");
    await writeFile(join(files.dir, "README"), "operator notes");
    await SnapshotFiles.open(root);
    expect((await readdir(files.dir)).sort()).toEqual([snapshotFileName(1, 3), "README"]);
    expect(await files.latest()).toEqual(kept);
  });

  test("keeps only the newest N files", async () => {
    const files = await SnapshotFiles.open(await dirs.make(), { keep: 3 });
    for (let i = 1; i <= 6; i++) await files.write({ index: i * 10, term: i }, chunks(1, 10));
    expect((await files.list()).map((l) => l.index)).toEqual([60, 50, 40]);
    const two = await SnapshotFiles.open(await dirs.make());
    for (let i = 1; i <= 4; i++) await two.write({ index: i, term: 1 }, chunks(1, 10));
    expect((await two.list()).map((l) => l.index)).toEqual([4, 3]);
    expect(await codeOf(SnapshotFiles.open(await dirs.make(), { keep: 0 }))).toBe(
      StorageErrorCode.Invalid,
    );
  });

  test("an abort or a failing source removes the temp file and changes nothing", async () => {
    const files = await SnapshotFiles.open(await dirs.make());
    const reason = new Error("stop");
    const ac = new AbortController();
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
      await Promise.resolve();
      ac.abort(reason);
      yield new Uint8Array(10);
    }
    await expect(files.write({ index: 1, term: 1 }, slow(), { signal: ac.signal })).rejects.toBe(
      reason,
    );
    const boom = new Error("source failed");
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
      await Promise.resolve();
      throw boom;
    }
    await expect(files.write({ index: 2, term: 1 }, failing())).rejects.toBe(boom);
    expect(await readdir(files.dir)).toEqual([]);
    await expect(files.write({ index: 3, term: 1 }, [], { signal: ac.signal })).rejects.toBe(
      reason,
    );
    expect(await codeOf(files.write({ index: 0, term: 1 }, []))).toBe(StorageErrorCode.Invalid);
  });
});
