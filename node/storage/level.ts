/**
 * The one place that touches the callback API of the `rocksdb` binding: it turns each call into
 * a promise and each failure into a StorageError naming the action and the path. Writes run on
 * the binding's thread pool, so the event loop keeps ticking while a synced batch flushes.
 */
import RocksDB from "rocksdb";
import { ioError } from "./errors.js";

/** One put or delete of a write batch. */
export type LevelOperation = RocksDB.BatchOperation;

/** A promisified RocksDB handle (module-internal: RocksStorage keeps it `#`-private). */
export class Level {
  readonly #db: RocksDB.Db;
  readonly location: string;

  private constructor(location: string, db: RocksDB.Db) {
    this.location = location;
    this.#db = db;
  }

  /** Opens (creating it when `createIfMissing`) the database in directory `location`. */
  static async open(location: string, createIfMissing: boolean): Promise<Level> {
    const db = RocksDB(location);
    await new Promise<void>((resolve, reject) => {
      // infoLogLevel "info": RocksDB's LOG (flushes, compactions, stalls, errors) is its own
      // diagnostic for operators; the binding turns it off unless a level is given. The LOG
      // rolls at the binding's 2 MiB; RocksDB keeps up to 1000 of them.
      db.open({ createIfMissing, errorIfExists: false, infoLogLevel: "info" }, (err) => {
        if (err) reject(ioError(`cannot open RocksDB at '${location}'`, err));
        else resolve();
      });
    });
    return new Level(location, db);
  }

  /** Applies `ops` atomically; with `sync` the WAL is fsynced before the promise resolves. */
  batch(ops: readonly LevelOperation[], sync: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#db.batch(ops, { sync }, (err) => {
        if (err)
          reject(ioError(`cannot write a batch of ${ops.length} to '${this.location}'`, err));
        else resolve();
      });
    });
  }

  /**
   * Compacts the keys in [start, end] down to the bottom level (RocksDB's CompactRange), on the
   * binding's thread pool: tombstones of deleted keys are dropped and their space freed.
   * Writes go on meanwhile. The binding ignores RocksDB's status, so a failure here does not
   * reject: RocksDB keeps it as its background error (in its LOG), which fails later writes
   * when it is serious.
   */
  compactRange(start: Buffer, end: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#db.compactRange(start, end, (err) => {
        if (err) reject(ioError(`cannot compact a key range of '${this.location}'`, err));
        else resolve();
      });
    });
  }

  /** Estimated bytes on disk of the keys in [start, end) (flushed SST files only). */
  approximateSize(start: Buffer, end: Buffer): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#db.approximateSize(start, end, (err, size) => {
        if (err)
          reject(ioError(`cannot estimate the size of a key range of '${this.location}'`, err));
        else resolve(size);
      });
    });
  }

  /** Returns the values of `keys` (undefined where absent), from one consistent read. */
  async getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    try {
      return await this.#db.getMany(keys);
    } catch (err) {
      throw ioError(`cannot read ${keys.length} keys from '${this.location}'`, err);
    }
  }

  /** Yields the pairs with `gte <= key < lt` in key order, from an implicit snapshot. */
  async *range(gte: Buffer, lt: Buffer): AsyncGenerator<[Buffer, Buffer]> {
    let it: RocksDB.Iterator;
    try {
      it = this.#db.iterator({ gte, lt });
    } catch (err) {
      throw ioError(`cannot iterate over '${this.location}'`, err);
    }
    try {
      // The binding's async iterator ends the native iterator when the loop exits early.
      for await (const kv of it) yield kv;
    } catch (err) {
      throw ioError(`cannot iterate over '${this.location}'`, err);
    }
  }

  /** Closes the database; further calls fail in the binding. */
  close(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#db.close((err) => {
        if (err) reject(ioError(`cannot close RocksDB at '${this.location}'`, err));
        else resolve();
      });
    });
  }
}
