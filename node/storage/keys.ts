/**
 * The key layout: `u8 kind | u64 group (big-endian) | u64 index (big-endian)`, 17 bytes for
 * every key. Big-endian integers make RocksDB's bytewise order the numeric order, so the entries
 * of one group are one contiguous, ordered range, and further groups (multi-raft) only add
 * ranges. Singleton records use index 0.
 */
import type { GroupId, Index } from "../raft/index.js";

/** The key-format version this build reads and writes (stored under {@link versionKey}). */
export const formatVersion = 1;

/** Record kinds, the first byte of every key. */
export const Kind = {
  /** The key-format version of the whole database (group 0). */
  Version: 0x01,
  HardState: 0x02,
  Conf: 0x03,
  Snapshot: 0x04,
  LogStart: 0x05,
  Entry: 0x10,
} as const;

/** One of the kinds in {@link Kind}. */
export type Kind = (typeof Kind)[keyof typeof Kind];

/** The length of every key. */
export const keyLength = 17;

/** Returns the key of `kind` for `group` at `index`. */
export function key(kind: Kind, group: GroupId, index: Index = 0): Buffer {
  const k = Buffer.allocUnsafe(keyLength);
  k[0] = kind;
  k.writeBigUInt64BE(group, 1);
  // Indexes are < 2^53, so two 32-bit halves avoid a bigint conversion on the hot path.
  k.writeUInt32BE(Math.floor(index / 0x1_0000_0000), 9);
  k.writeUInt32BE(index >>> 0, 13);
  return k;
}

/** Returns the index of an entry key (or undefined if the key is not 17 bytes). */
export function indexOfKey(k: Buffer): Index | undefined {
  if (k.length !== keyLength) return undefined;
  return k.readUInt32BE(9) * 0x1_0000_0000 + k.readUInt32BE(13);
}

/** The key holding the database's key-format version. */
export const versionKey = key(Kind.Version, 0n);

/** Returns the half-open key range [gte, lt) of all entries of `group`. */
export function entryRange(group: GroupId): { gte: Buffer; lt: Buffer } {
  const gte = key(Kind.Entry, group, 0);
  // The first key after every index of this group: the same prefix with all index bytes 0xff,
  // plus one byte more (keys are 17 bytes, so this bound sorts after all of them).
  const lt = Buffer.concat([key(Kind.Entry, group, 0), Buffer.from([0])]);
  lt.fill(0xff, 9, 17);
  return { gte, lt };
}
