import type { LogStore, SnapshotStore } from "../cluster/ports.js";
import type { SnapshotMetadata } from "../raft/index.js";
import type { RocksStorage, SnapshotFiles } from "../storage/index.js";

/** The runtime's view of the RocksDB log. */
export function rocksLogStore(s: RocksStorage): LogStore {
  return {
    initialState: () => s.initialState(),
    entries: (lo, hi, maxSize) => s.entries(lo, hi, maxSize),
    term: (i) => s.term(i),
    firstIndex: () => s.firstIndex(),
    lastIndex: () => s.lastIndex(),
    snapshot: () => s.snapshot(),
    save: (update, opts) => s.save(update, opts),
    markSnapshot: (meta, opts) => s.recordSnapshot(meta, opts ?? {}),
    compact: (index, opts) => s.compact(index, opts ?? {}),
  };
}

/** The runtime's view of the snapshot files; `latest` starts from what the log recorded. */
export function fileSnapshotStore(
  files: SnapshotFiles,
  latest: SnapshotMetadata | undefined,
): SnapshotStore {
  let newest = latest;
  return {
    async save(meta, data, opts) {
      await files.write(meta, data, opts ?? {});
      if (newest === undefined || meta.index > newest.index) newest = meta;
    },
    async *load(index, opts) {
      const reader = await files.open(index, opts ?? {});
      yield* reader;
    },
    latest: () => newest,
  };
}
