/**
 * The durable Raft log of one node: a {@link Storage} for the core, backed by RocksDB.
 *
 * The core reads synchronously, so the unsnapshotted log lives in memory (as in MemoryStorage;
 * the store is in memory anyway and the log is compacted after each snapshot) and every change
 * is written to RocksDB first. Order of every mutation: build one write batch from the current
 * mirror, write it (fsynced when asked), and only once RocksDB acknowledged it update the
 * in-memory mirror, in the same microtask that resolves the call. So the core never sees state
 * that is not on disk, and a failed write leaves both unchanged. Mutations are serialized: a
 * call made while another is in flight queues behind it and builds its batch when its turn
 * comes.
 */
import { mkdir } from "node:fs/promises";
import {
  sliceLogArray,
  termInLogArray,
  type Entry,
  type GroupId,
  type HardState,
  type Index,
  type InitialState,
  type Snapshot,
  type SnapshotMetadata,
  type Storage,
  type Term,
} from "../raft/index.js";
import { encodeEntry } from "./entry-codec.js";
import { StorageError, StorageErrorCode, ioError, messageOf, throwIfAborted } from "./errors.js";
import { Kind, entryRange, key } from "./keys.js";
import { Level, type LevelOperation } from "./level.js";
import { loadLog, type LoadedLog } from "./rocks-load.js";
import {
  encodeConfRecord,
  encodeHardState,
  encodeLogStart,
  encodeSnapshotMetadata,
  type ConfRecord,
} from "./state-codec.js";

/** Options of {@link RocksStorage.open}. */
export interface RocksStorageOptions {
  /** The Raft group whose log this is (default 0n); other groups' keys are left alone. */
  readonly group?: GroupId;
  /** Create the directory and database when missing (default true). */
  readonly create?: boolean;
  readonly signal?: AbortSignal;
}

/** Options of every write. */
export interface WriteOptions {
  /** fsync the RocksDB WAL before resolving (default true; pass `Ready.mustSync`). */
  readonly sync?: boolean;
  /** Checked when the call is made and when its turn comes; a started write is not cancelled. */
  readonly signal?: AbortSignal;
}

/** What {@link RocksStorage.save} persists in one atomic batch. */
export interface SaveUpdate {
  readonly hardState?: HardState;
  /** Entries to append; a conflicting tail of the stored log is truncated. */
  readonly entries: readonly Entry[];
  /**
   * Metadata of a snapshot received from the leader (`Ready.snapshot`): it replaces the whole
   * stored log (the core only hands one over when the log does not match it). Write its data
   * with SnapshotFiles first, so that the metadata never names a missing file.
   */
  readonly snapshot?: SnapshotMetadata;
  /** The configuration (and member list) after applying a conf change or a snapshot. */
  readonly conf?: ConfRecord;
}

const noData = new Uint8Array(0);

/** The most entries one compaction batch deletes (a few ms of event loop per batch). */
export const compactChunk = 1024;

/** A RocksDB-backed Raft {@link Storage}; see the module comment for the write order. */
export class RocksStorage implements Storage, AsyncDisposable {
  /** The database directory. */
  readonly dir: string;
  readonly group: GroupId;
  /** Whether `open` found no database and created it (the bootstrap rules need to know). */
  readonly created: boolean;
  readonly #db: Level;
  #hardState: HardState;
  #snapshot: SnapshotMetadata;
  #conf: ConfRecord | undefined;
  /** `#ents[0]` is a dummy at the log start (the entry just before the first stored one). */
  #ents: Entry[];
  /** The last queued mutation; never rejects (each caller gets its own outcome). */
  #tail: Promise<void> = Promise.resolve();
  /** The running RocksDB compaction of the deleted log, if any (see {@link compact}). */
  #reclaiming: Promise<void> | undefined;
  /** The highest compacted index whose range is still to be compacted by RocksDB. */
  #reclaimTo = 0;
  /** A failure of that compaction, thrown by the next write. */
  #reclaimError: StorageError | undefined;
  #closing: Promise<void> | undefined;

  private constructor(dir: string, group: GroupId, db: Level, loaded: LoadedLog) {
    this.dir = dir;
    this.group = group;
    this.#db = db;
    this.created = loaded.created;
    this.#hardState = loaded.hardState;
    this.#snapshot = loaded.snapshot;
    this.#conf = loaded.conf;
    this.#ents = [dummy(loaded.logStart.index, loaded.logStart.term), ...loaded.entries];
  }

  /**
   * Opens (or creates) the log in `dir` and loads it into memory, verifying the layout; throws
   * CORRUPT or VERSION naming what is wrong, IO if RocksDB fails, or `signal.reason`.
   */
  static async open(dir: string, opts: RocksStorageOptions = {}): Promise<RocksStorage> {
    throwIfAborted(opts.signal);
    const create = opts.create ?? true;
    if (create) {
      try {
        await mkdir(dir, { recursive: true });
      } catch (err) {
        throw ioError(`cannot create raft log directory '${dir}'`, err);
      }
    }
    const db = await Level.open(dir, create);
    const group = opts.group ?? 0n;
    try {
      const loaded = await loadLog(db, dir, group, opts.signal);
      throwIfAborted(opts.signal);
      return new RocksStorage(dir, group, db, loaded);
    } catch (err) {
      await db.close().catch((closeErr: unknown) => {
        throw new StorageError(
          StorageErrorCode.Io,
          `${messageOf(err)}; then cannot close it: ${messageOf(closeErr)}`,
          { cause: new AggregateError([err, closeErr]) },
        );
      });
      throw err;
    }
  }

  initialState(): InitialState {
    // The snapshot's configuration, not the latest one: after a restart the in-memory store is
    // rebuilt from the snapshot and the log replayed from there, re-applying conf changes.
    return { hardState: this.#hardState, confState: this.#snapshot.confState };
  }

  entries(lo: Index, hi: Index, maxSize: number): readonly Entry[] {
    return sliceLogArray(this.#ents, lo, hi, maxSize);
  }

  term(index: Index): Term {
    return termInLogArray(this.#ents, index);
  }

  firstIndex(): Index {
    return this.#offset() + 1;
  }

  lastIndex(): Index {
    return this.#offset() + this.#ents.length - 1;
  }

  /**
   * Returns the latest snapshot's metadata with empty `data`: snapshot data lives in
   * SnapshotFiles, and the transport streams `SnapshotFiles.open(metadata.index)` instead.
   */
  snapshot(): Snapshot {
    return { metadata: this.#snapshot, data: noData };
  }

  /** Returns the persisted hard state. */
  hardState(): HardState {
    return this.#hardState;
  }

  /** Returns the latest persisted configuration record (the runtime's address book), if any. */
  conf(): ConfRecord | undefined {
    return this.#conf;
  }

  /**
   * Persists `update` as ONE RocksDB write batch (fsynced unless `sync: false`), then shows it
   * to the core. Throws INVALID on a gap or an out-of-date snapshot, IO if RocksDB fails.
   */
  save(update: SaveUpdate, opts: WriteOptions = {}): Promise<void> {
    return this.#enqueue("save to", opts.signal, async () => {
      const ops: LevelOperation[] = [];
      let ents = this.#ents;
      let replaced = false;
      if (update.snapshot !== undefined) {
        const s = update.snapshot;
        if (s.index <= this.#snapshot.index) {
          throw this.#invalid(`save snapshot ${s.index}: have snapshot ${this.#snapshot.index}`);
        }
        for (let i = this.firstIndex(); i <= this.lastIndex(); i++) ops.push(this.#del(i));
        ops.push(this.#put(Kind.Snapshot, encodeSnapshotMetadata(s)));
        ops.push(this.#put(Kind.LogStart, encodeLogStart(s)));
        ents = [dummy(s.index, s.term)];
        replaced = true;
      }
      const appended = this.#appendOps(ents, update.entries, ops);
      if (update.hardState !== undefined) {
        ops.push(this.#put(Kind.HardState, encodeHardState(update.hardState)));
      }
      if (update.conf !== undefined) ops.push(this.#put(Kind.Conf, encodeConfRecord(update.conf)));
      if (ops.length > 0) await this.#db.batch(ops, opts.sync ?? true);
      // Durable: now (and only now) the core may see it.
      if (appended !== undefined) {
        const { start, kept } = appended;
        const offset = (ents[0] as Entry).index;
        if (!replaced && start === offset + ents.length) {
          // The common case: a plain append to the live array (no copy of the whole log).
          for (const e of kept) ents.push(e);
        } else {
          ents = ents.slice(0, start - offset).concat(kept);
        }
      }
      this.#ents = ents;
      if (update.snapshot !== undefined) this.#snapshot = update.snapshot;
      if (update.hardState !== undefined) this.#hardState = update.hardState;
      if (update.conf !== undefined) this.#conf = update.conf;
    });
  }

  /** Persists the configuration after a conf change was applied: `save` with only `conf`. */
  setConf(conf: ConfRecord, opts: WriteOptions = {}): Promise<void> {
    return this.save({ entries: [], conf }, opts);
  }

  /**
   * Records a snapshot taken locally at `meta.index` (an applied index) without touching the
   * log; call {@link compact} afterwards. Write its data with SnapshotFiles first.
   */
  recordSnapshot(meta: SnapshotMetadata, opts: WriteOptions = {}): Promise<void> {
    return this.#enqueue("record a snapshot in", opts.signal, async () => {
      if (meta.index <= this.#snapshot.index) {
        throw this.#invalid(`record snapshot ${meta.index}: have snapshot ${this.#snapshot.index}`);
      }
      if (meta.index > this.lastIndex() || this.term(meta.index) !== meta.term) {
        throw this.#invalid(
          `record snapshot ${meta.index} at term ${meta.term}: the log ends at ${this.lastIndex()}` +
            (meta.index <= this.lastIndex() ? ` and has term ${this.term(meta.index)}` : ""),
        );
      }
      await this.#db.batch(
        [this.#put(Kind.Snapshot, encodeSnapshotMetadata(meta))],
        opts.sync ?? true,
      );
      this.#snapshot = meta;
    });
  }

  /**
   * Deletes the entries up to `index`, which a recorded snapshot must cover. Runs as batches of
   * at most {@link compactChunk} deletes, each moving the log start with it, queued one after
   * the other so that saves interleave (one batch of 100k deletes blocked the event loop for
   * 150 ms). Batches are not synced by default: losing one in a crash only brings back entries
   * the snapshot covers, together with the old log start (same atomic batch), which open
   * accepts; and RocksDB recovers its WAL as a prefix, so the next synced write makes it
   * durable before anything written after it. An abort between batches leaves a shorter
   * compaction, which is just as consistent.
   *
   * Then RocksDB compacts the deleted key range in the background (CompactRange; the promise
   * does not wait, the Raft loop must not): deleted keys otherwise stay in SST files as
   * tombstones over the old values until RocksDB's level sizes happen to pick those files, so
   * the log's disk space would not come back and scans at open would skip over them.
   * {@link reclaimed} waits for it; {@link close} too.
   */
  async compact(index: Index, opts: WriteOptions = {}): Promise<void> {
    const first = this.firstIndex();
    for (;;) {
      const more = await this.#enqueue("compact", opts.signal, async () => {
        const offset = this.#offset();
        if (index <= offset) return false;
        if (index > this.#snapshot.index) {
          throw this.#invalid(
            `compact to ${index}: the snapshot covers only ${this.#snapshot.index}`,
          );
        }
        const to = Math.min(index, offset + compactChunk);
        const term = this.term(to);
        const ops: LevelOperation[] = [];
        for (let i = offset + 1; i <= to; i++) ops.push(this.#del(i));
        ops.push(this.#put(Kind.LogStart, encodeLogStart({ index: to, term })));
        await this.#db.batch(ops, opts.sync ?? false);
        // In place: the core holds no reference to this array across calls.
        this.#ents.splice(0, to - offset + 1, dummy(to, term));
        return to < index;
      });
      if (!more) break;
    }
    if (this.firstIndex() > first) this.#reclaim(index); // something was deleted
  }

  /** Resolves when the background RocksDB compactions started by {@link compact} have ended. */
  async reclaimed(): Promise<void> {
    while (this.#reclaiming !== undefined) await this.#reclaiming;
  }

  /** Estimated bytes on disk of this group's entries up to `index` (tests and diagnostics). */
  diskBytesUpTo(index: Index): Promise<number> {
    return this.#db.approximateSize(
      entryRange(this.group).gte,
      key(Kind.Entry, this.group, index + 1),
    );
  }

  /** Starts (or queues: one at a time, the latest range) RocksDB's compaction of [0, to]. */
  #reclaim(to: Index): void {
    if (this.#closing !== undefined) return;
    this.#reclaimTo = Math.max(this.#reclaimTo, to);
    if (this.#reclaiming !== undefined) return;
    const loop = async (): Promise<void> => {
      while (this.#reclaimTo > 0 && this.#closing === undefined) {
        const end = this.#reclaimTo;
        this.#reclaimTo = 0;
        await this.#db.compactRange(entryRange(this.group).gte, key(Kind.Entry, this.group, end));
      }
    };
    this.#reclaiming = loop()
      .catch((err: unknown) => {
        // Not swallowed: the next write of the log fails with it (a storage error is fatal).
        this.#reclaimError ??= ioError(`RocksDB could not compact the log at '${this.dir}'`, err);
      })
      .finally(() => {
        this.#reclaiming = undefined;
      });
  }

  /** Waits for queued writes, then closes RocksDB; idempotent. Later writes throw CLOSED. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([this.#tail, this.reclaimed()]).then(() => this.#db.close());
    return this.#closing;
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Builds the batch ops appending `entries` to `ents`; returns what to splice in after. */
  #appendOps(
    ents: readonly Entry[],
    entries: readonly Entry[],
    ops: LevelOperation[],
  ): { start: Index; kept: readonly Entry[] } | undefined {
    const offset = (ents[0] as Entry).index;
    const last = offset + ents.length - 1;
    const first = entries[0];
    if (first === undefined || first.index + entries.length - 1 <= offset) return undefined;
    // Entries at or below the log start are covered by the snapshot: ignore them (as etcd).
    const kept = first.index <= offset ? entries.slice(offset + 1 - first.index) : entries;
    const start = (kept[0] as Entry).index;
    if (start > last + 1) {
      throw this.#invalid(`append entries from ${start}: the log ends at ${last} (a gap)`);
    }
    for (let i = 0; i < kept.length; i++) {
      const e = kept[i] as Entry;
      if (e.index !== start + i) {
        throw this.#invalid(`append entry ${e.index} at position ${start + i}: not contiguous`);
      }
      ops.push({ type: "put", key: key(Kind.Entry, this.group, e.index), value: encodeEntry(e) });
    }
    // Truncate the conflicting tail: the puts above overwrite up to the new last index.
    for (let i = start + kept.length; i <= last; i++) ops.push(this.#del(i));
    return { start, kept };
  }

  async #enqueue<T>(
    action: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    if (this.#closing !== undefined) {
      throw new StorageError(
        StorageErrorCode.Closed,
        `cannot ${action} raft log at '${this.dir}': it is closed`,
      );
    }
    throwIfAborted(signal);
    if (this.#reclaimError !== undefined) throw this.#reclaimError;
    const run = async (): Promise<T> => {
      throwIfAborted(signal);
      return fn();
    };
    const result = this.#tail.then(run);
    // The queue goes on after a failure; the failure itself reaches this call's caller.
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  #invalid(what: string): StorageError {
    return new StorageError(StorageErrorCode.Invalid, `cannot ${what} (raft log at '${this.dir}')`);
  }

  #put(kind: Kind, value: Buffer): LevelOperation {
    return { type: "put", key: key(kind, this.group), value };
  }

  #del(index: Index): LevelOperation {
    return { type: "del", key: key(Kind.Entry, this.group, index) };
  }

  #offset(): Index {
    return (this.#ents[0] as Entry).index;
  }
}

function dummy(index: Index, term: Term): Entry {
  return { type: "normal", term, index, data: noData };
}
