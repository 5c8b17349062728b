/**
 * Snapshot data files in `<dir>/snap/`, one per snapshot, named `<term>-<index>.snap` (both
 * zero-padded to 20 digits so names sort). Each file is a 64-byte header (magic, index, term,
 * data size, sha256 of the data) followed by the data. A file is written under a temporary
 * name while the checksum is computed as it streams, fsynced, renamed into place and the
 * directory fsynced: a crash leaves either the whole file or a temp file that the next open
 * removes. Only the newest `keep` files are kept. One SnapshotFiles owns a directory.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Index, Term } from "../raft/index.js";
import { StorageError, StorageErrorCode, ioError, messageOf, throwIfAborted } from "./errors.js";

/** What a snapshot file's header records. */
export interface SnapshotFileInfo {
  readonly index: Index;
  readonly term: Term;
  /** Size of the data in bytes (the header excluded). */
  readonly size: number;
  /** Lowercase hex sha256 of the data. */
  readonly checksum: string;
  readonly path: string;
}

/** A snapshot file found by {@link SnapshotFiles.list}; `error` says why it is unusable. */
export interface SnapshotListing {
  readonly index: Index;
  readonly term: Term;
  readonly path: string;
  readonly info?: SnapshotFileInfo;
  readonly error?: StorageError;
}

/** An opened snapshot: its header, and its data (checksum verified at the end of each pass). */
export interface SnapshotReader extends AsyncIterable<Uint8Array> {
  readonly info: SnapshotFileInfo;
}

/** Options of {@link SnapshotFiles.open}. */
export interface SnapshotFilesOptions {
  /** How many snapshot files to keep, newest first (default 2, at least 1). */
  readonly keep?: number;
  readonly signal?: AbortSignal;
}

const magic = Buffer.from("JRSNAP01", "latin1");
const headerSize = 64;
const readChunk = 1 << 16;
const namePattern = /^(\d{20})-(\d{20})\.snap$/;

/** Returns the file name of the snapshot at (`term`, `index`). */
export function snapshotFileName(term: Term, index: Index): string {
  return `${String(term).padStart(20, "0")}-${String(index).padStart(20, "0")}.snap`;
}

function encodeHeader(index: Index, term: Term, size: number, digest: Buffer): Buffer {
  const h = Buffer.alloc(headerSize);
  magic.copy(h, 0);
  h.writeBigUInt64BE(BigInt(index), 8);
  h.writeBigUInt64BE(BigInt(term), 16);
  h.writeBigUInt64BE(BigInt(size), 24);
  digest.copy(h, 32);
  return h;
}

/** Snapshot data files of one node; see the module comment for the layout and crash safety. */
export class SnapshotFiles {
  /** The `snap` directory holding the files. */
  readonly dir: string;
  readonly keep: number;

  private constructor(dir: string, keep: number) {
    this.dir = dir;
    this.keep = keep;
  }

  /** Opens `<root>/snap` (creating it) and removes temp files left by a crash. */
  static async open(root: string, opts: SnapshotFilesOptions = {}): Promise<SnapshotFiles> {
    throwIfAborted(opts.signal);
    const keep = opts.keep ?? 2;
    if (!Number.isInteger(keep) || keep < 1) {
      throw new StorageError(StorageErrorCode.Invalid, `cannot keep ${keep} snapshot files`);
    }
    const dir = join(root, "snap");
    await io(`cannot create snapshot directory '${dir}'`, () => mkdir(dir, { recursive: true }));
    const files = new SnapshotFiles(dir, keep);
    const names = await files.#names();
    const temps = names.filter((n) => n.endsWith(".tmp"));
    for (const n of temps) {
      await io(`cannot remove leftover temp file '${join(dir, n)}'`, () => unlink(join(dir, n)));
    }
    if (temps.length > 0) await files.#syncDir();
    return files;
  }

  /**
   * Writes a snapshot's data from `data` durably and returns its header; then deletes all but
   * the newest `keep` files. On failure or abort the temp file is removed and nothing changes.
   */
  async write(
    meta: { readonly index: Index; readonly term: Term },
    data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    opts: { readonly signal?: AbortSignal } = {},
  ): Promise<SnapshotFileInfo> {
    throwIfAborted(opts.signal);
    if (!Number.isSafeInteger(meta.index) || meta.index < 1 || !Number.isSafeInteger(meta.term)) {
      throw new StorageError(
        StorageErrorCode.Invalid,
        `cannot write snapshot ${meta.index} at term ${meta.term} to '${this.dir}'`,
      );
    }
    const path = join(this.dir, snapshotFileName(meta.term, meta.index));
    const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    const action = `cannot write snapshot file '${temp}'`;
    const fh = await io(action, () => open(temp, "wx"));
    let closed = false;
    try {
      const hash = createHash("sha256");
      let size = 0;
      // The header is written last, once size and checksum are known; reserve its room.
      let pos = await writeAll(fh, Buffer.alloc(headerSize), 0, action);
      for await (const chunk of data) {
        throwIfAborted(opts.signal);
        hash.update(chunk);
        size += chunk.length;
        pos = await writeAll(fh, chunk, pos, action);
      }
      throwIfAborted(opts.signal);
      const digest = hash.digest();
      await writeAll(fh, encodeHeader(meta.index, meta.term, size, digest), 0, action);
      await io(`cannot fsync snapshot file '${temp}'`, () => fh.sync());
      closed = true;
      await io(`cannot close snapshot file '${temp}'`, () => fh.close());
      await io(`cannot rename '${temp}' to '${path}'`, () => rename(temp, path));
      await this.#syncDir();
      await this.#prune();
      return { index: meta.index, term: meta.term, size, checksum: digest.toString("hex"), path };
    } catch (err) {
      const cleanup: unknown[] = [];
      if (!closed) await fh.close().catch((e: unknown) => cleanup.push(e));
      await unlink(temp).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") cleanup.push(e);
      });
      if (cleanup.length === 0) throw err;
      throw new StorageError(
        StorageErrorCode.Io,
        `${messageOf(err)}; then cannot clean up '${temp}': ${cleanup.map(messageOf).join("; ")}`,
        { cause: new AggregateError([err, ...cleanup]) },
      );
    }
  }

  /** Lists the snapshot files, newest (highest index) first, each checked by its header. */
  async list(): Promise<SnapshotListing[]> {
    const found: { index: Index; term: Term; path: string }[] = [];
    for (const name of await this.#names()) {
      const m = namePattern.exec(name);
      if (m === null) continue;
      found.push({ term: Number(m[1]), index: Number(m[2]), path: join(this.dir, name) });
    }
    found.sort((a, b) => b.index - a.index || b.term - a.term);
    const out: SnapshotListing[] = [];
    for (const f of found) {
      try {
        out.push({ ...f, info: await this.#readHeader(f.path, f) });
      } catch (err) {
        if (!(err instanceof StorageError)) throw err;
        out.push({ ...f, error: err });
      }
    }
    return out;
  }

  /** Returns the newest snapshot whose header is valid, if any (the data is checked on read). */
  async latest(): Promise<SnapshotFileInfo | undefined> {
    for (const l of await this.list()) if (l.info !== undefined) return l.info;
    return undefined;
  }

  /**
   * Opens the snapshot at `index`: throws NOT_FOUND if absent, CORRUPT on a bad header. Each
   * pass over the returned data throws CORRUPT naming the file if the checksum does not match.
   */
  async open(index: Index, opts: { readonly signal?: AbortSignal } = {}): Promise<SnapshotReader> {
    throwIfAborted(opts.signal);
    const listing = (await this.list()).find((l) => l.index === index);
    if (listing === undefined) {
      throw new StorageError(
        StorageErrorCode.NotFound,
        `cannot open snapshot ${index}: no such file in '${this.dir}'`,
      );
    }
    if (listing.error !== undefined) throw listing.error;
    const info = listing.info as SnapshotFileInfo;
    const signal = opts.signal;
    return {
      info,
      async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
        const hash = createHash("sha256");
        let size = 0;
        const stream = createReadStream(info.path, { start: headerSize, highWaterMark: readChunk });
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            throwIfAborted(signal);
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        } catch (err) {
          if (signal?.aborted === true && err === signal.reason) throw err;
          throw ioError(`cannot read snapshot file '${info.path}'`, err);
        } finally {
          stream.destroy();
        }
        const checksum = hash.digest("hex");
        if (size !== info.size || checksum !== info.checksum) {
          throw new StorageError(
            StorageErrorCode.Corrupt,
            `snapshot file '${info.path}' is corrupt: read ${size} bytes with sha256 ${checksum}, the header says ${info.size} bytes with sha256 ${info.checksum}`,
          );
        }
      },
    };
  }

  async #readHeader(path: string, f: { index: Index; term: Term }): Promise<SnapshotFileInfo> {
    const corrupt = (problem: string): StorageError =>
      new StorageError(StorageErrorCode.Corrupt, `snapshot file '${path}' is corrupt: ${problem}`);
    const h = Buffer.alloc(headerSize);
    const fh = await io(`cannot open snapshot file '${path}'`, () => open(path, "r"));
    let read: number;
    let fileSize: number;
    try {
      read = (await io(`cannot read '${path}'`, () => fh.read(h, 0, headerSize, 0))).bytesRead;
      fileSize = (await io(`cannot stat '${path}'`, () => fh.stat())).size;
    } finally {
      await fh.close();
    }
    if (read < headerSize || !h.subarray(0, 8).equals(magic)) throw corrupt("bad header");
    const index = Number(h.readBigUInt64BE(8));
    const term = Number(h.readBigUInt64BE(16));
    const size = Number(h.readBigUInt64BE(24));
    if (index !== f.index || term !== f.term) {
      throw corrupt(`the header says term ${term} index ${index}`);
    }
    if (fileSize !== headerSize + size) {
      throw corrupt(`the header says ${size} data bytes, the file has ${fileSize - headerSize}`);
    }
    return { index, term, size, checksum: h.subarray(32, 64).toString("hex"), path };
  }

  async #prune(): Promise<void> {
    const all = await this.list();
    const stale = all.slice(this.keep);
    for (const l of stale) {
      await io(`cannot remove old snapshot file '${l.path}'`, () => unlink(l.path));
    }
  }

  async #names(): Promise<string[]> {
    return io(`cannot list snapshot directory '${this.dir}'`, () => readdir(this.dir));
  }

  /** fsyncs the directory so that a rename or unlink in it survives a crash. */
  async #syncDir(): Promise<void> {
    const action = `cannot fsync snapshot directory '${this.dir}'`;
    const fh = await io(action, () => open(this.dir, "r"));
    try {
      await io(action, () => fh.sync());
    } finally {
      await fh.close();
    }
  }
}

/** Runs `fn`, turning a failure into an IO error naming `action`. */
async function io<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw ioError(action, err);
  }
}

/** Writes all of `buf` at `pos` (a write may be partial); returns the position after it. */
async function writeAll(fh: FileHandle, buf: Uint8Array, pos: number, action: string) {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await io(action, () =>
      fh.write(buf, off, buf.length - off, pos + off),
    );
    off += bytesWritten;
  }
  return pos + buf.length;
}
