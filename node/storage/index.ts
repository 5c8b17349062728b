/**
 * Durable storage of a node: the Raft log in RocksDB ({@link RocksStorage}) and snapshot data
 * files ({@link SnapshotFiles}). The only folder that touches the disk for Raft.
 */
export { Reader, Writer, uvarintSize } from "./codec.js";
export {
  decodeEntry,
  encodeEntry,
  encodedEntrySize,
  readEntry,
  writeEntry,
} from "./entry-codec.js";
export { StorageError, StorageErrorCode, isStorageError } from "./errors.js";
export { formatVersion } from "./keys.js";
export {
  RocksStorage,
  type RocksStorageOptions,
  type SaveUpdate,
  type WriteOptions,
} from "./rocks-storage.js";
export {
  SnapshotFiles,
  snapshotFileName,
  type SnapshotFileInfo,
  type SnapshotFilesOptions,
  type SnapshotListing,
  type SnapshotReader,
} from "./snapshot-files.js";
export type { ConfRecord, LogStart } from "./state-codec.js";
