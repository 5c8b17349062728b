/**
 * Minimal types for the untyped `rocksdb` 5.2.1 binding (Level, abstract-leveldown 7): only what
 * node/storage uses. The API is callback-only except getMany and iterators (see MATRIX.md).
 */
declare module "rocksdb" {
  type Callback = (err: Error | null | undefined) => void;

  namespace RocksDB {
    /** Options of `open` (RocksDB's own names). */
    interface OpenOptions {
      readonly createIfMissing?: boolean;
      readonly errorIfExists?: boolean;
      readonly readOnly?: boolean;
      /** RocksDB's own LOG file in the directory; the binding disables it when unset. */
      readonly infoLogLevel?: "debug" | "info" | "warn" | "error" | "fatal" | "header";
    }
    /** One operation of an array batch. */
    type BatchOperation =
      | { readonly type: "put"; readonly key: Buffer; readonly value: Buffer }
      | { readonly type: "del"; readonly key: Buffer };
    /** Options of a range iterator; keys and values are Buffers by default. */
    interface IteratorOptions {
      readonly gte?: Buffer;
      readonly lt?: Buffer;
      readonly limit?: number;
    }
    /** An iterator; it reads from an implicit snapshot taken when it is created. */
    interface Iterator extends AsyncIterable<[Buffer, Buffer]> {
      end(callback: Callback): void;
    }
    /** An open (or opening) database handle. */
    interface Db {
      readonly status: "new" | "opening" | "open" | "closing" | "closed";
      open(options: OpenOptions, callback: Callback): void;
      close(callback: Callback): void;
      batch(
        operations: readonly BatchOperation[],
        options: { readonly sync: boolean },
        callback: Callback,
      ): void;
      getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]>;
      /** Manual compaction of [start, end]; the binding drops RocksDB's status (never errs). */
      compactRange(start: Buffer, end: Buffer, callback: Callback): void;
      /** Estimated bytes on disk (SST files) of the keys in [start, end). */
      approximateSize(
        start: Buffer,
        end: Buffer,
        callback: (err: Error | null | undefined, size: number) => void,
      ): void;
      iterator(options: IteratorOptions): Iterator;
    }
  }

  const RocksDB: (location: string) => RocksDB.Db;
  export = RocksDB;
}
