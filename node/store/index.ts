/**
 * The document store's public surface (STYLES.md §7.3 rule 17: explicit named exports only).
 */
export { DocumentStore, resolveOptions } from "./store.js";
export type { StoreOptions, StoreStats } from "./store.js";
export type { ChangeEvent, EncodedTxnEntry, TxnEntry, TxnResult } from "./apply.js";
export type { ImportEntry, ImportResult } from "./import.js";
export type { FindOptions } from "./reads.js";
export { TxnMode } from "./txn-engine.js";
export { DEFAULT_IDEMPOTENCY, DEFAULT_TOMBSTONES } from "./state.js";
export type {
  IdempotencyBounds,
  RecordedOutcome,
  ResolvedOptions,
  TombstoneBounds,
} from "./state.js";
export { DOC_EXISTS, DOC_MISSING, parseOps } from "./txn-parse.js";
export { parseOpsBson } from "./txn-decode.js";
export { ErrorCode, InvariantError, StoreError } from "./errors.js";
export type { ErrorSite } from "./errors.js";
export { Kind, UtcDate, kindOf, makeDouble } from "./values.js";
export type { Doc, Value } from "./values.js";
export { compareValues, valuesEqual } from "./compare.js";
export { compileFilter } from "./matcher.js";
export type { Matcher } from "./matcher.js";
export { toDoc, toValue, MAX_DEPTH } from "./normalize.js";
export { BsonWriter, MAX_BSON_SIZE, docSize, encodeDoc } from "./bson-encode.js";
export { decodeDoc, decodeDocAt } from "./bson-decode.js";
export { BsonStreamDecoder, decodeStream } from "./bson-stream.js";
export { SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from "./snapshot.js";
export { SnapshotReader, restoreSnapshot } from "./snapshot-restore.js";
export { loadMongodump, metadataJson, mongodumpFiles } from "./mongodump.js";
export { STASH } from "./dump-format.js";
export type { DumpFile } from "./mongodump.js";
export { toCanonicalExtJson } from "./ejson.js";
