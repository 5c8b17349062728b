/**
 * Loading and verifying a raft log from RocksDB at open. Everything is read from one database
 * state (getMany, then one ordered scan of the entries) and checked against the invariants the
 * writer keeps, so that a damaged or foreign directory fails loudly with what is wrong instead
 * of feeding the core a log it would misread.
 */
import {
  emptyConfState,
  emptyHardState,
  isEmptyHardState,
  type Entry,
  type GroupId,
  type HardState,
  type SnapshotMetadata,
} from "../raft/index.js";
import { decodeEntry } from "./entry-codec.js";
import { StorageError, StorageErrorCode, messageOf, throwIfAborted } from "./errors.js";
import { Kind, entryRange, formatVersion, indexOfKey, key, versionKey } from "./keys.js";
import type { Level } from "./level.js";
import {
  decodeConfRecord,
  decodeHardState,
  decodeLogStart,
  decodeSnapshotMetadata,
  type ConfRecord,
  type LogStart,
} from "./state-codec.js";

/** Everything a RocksStorage keeps in memory, as found on disk. */
export interface LoadedLog {
  /** Whether the database was empty (and was just stamped with the key-format version). */
  readonly created: boolean;
  readonly hardState: HardState;
  readonly conf: ConfRecord | undefined;
  readonly snapshot: SnapshotMetadata;
  readonly logStart: LogStart;
  /** The stored entries, in order, starting at `logStart.index + 1`. */
  readonly entries: Entry[];
}

/** The snapshot metadata of a log that has never had a snapshot. */
export const noSnapshot: SnapshotMetadata = { index: 0, term: 0, confState: emptyConfState };

/** How many entries are decoded between two checks of the abort signal. */
const abortCheckEvery = 4096;

/** Returns the version record's value for this build. */
export function versionValue(): Buffer {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(formatVersion);
  return v;
}

/** Loads and verifies the log of `group`; throws CORRUPT or VERSION naming what is wrong. */
export async function loadLog(
  db: Level,
  dir: string,
  group: GroupId,
  signal: AbortSignal | undefined,
): Promise<LoadedLog> {
  const corrupt = (problem: string, cause?: unknown): StorageError =>
    new StorageError(
      StorageErrorCode.Corrupt,
      `cannot open raft log at '${dir}': ${problem}`,
      cause === undefined ? undefined : { cause },
    );
  const decode = <T>(buf: Buffer | undefined, fn: (b: Buffer) => T, fallback: T): T => {
    if (buf === undefined) return fallback;
    try {
      return fn(buf);
    } catch (err) {
      throw corrupt(messageOf(err), err);
    }
  };

  const [version, hs, conf, snap, start] = await db.getMany([
    versionKey,
    key(Kind.HardState, group),
    key(Kind.Conf, group),
    key(Kind.Snapshot, group),
    key(Kind.LogStart, group),
  ]);
  let created = false;
  if (version === undefined) {
    for await (const [k] of db.range(Buffer.from([0]), Buffer.from([0xff]))) {
      throw corrupt(`it has records (first key ${k.toString("hex")}) but no key-format version`);
    }
    // A brand-new database: stamp it so that a later open can tell "empty" from "damaged".
    await db.batch([{ type: "put", key: versionKey, value: versionValue() }], true);
    created = true;
  } else if (version.length !== 4 || version.readUInt32BE() !== formatVersion) {
    throw new StorageError(
      StorageErrorCode.Version,
      `cannot open raft log at '${dir}': key-format version ${version.toString("hex")} is not ${formatVersion}, the only one this build reads`,
    );
  }

  const hardState = decode(hs, decodeHardState, emptyHardState);
  const confRecord = decode(conf, decodeConfRecord, undefined);
  const snapshot = decode(snap, decodeSnapshotMetadata, noSnapshot);
  const logStart = decode(start, decodeLogStart, { index: 0, term: 0 });

  const entries: Entry[] = [];
  let prev: LogStart = logStart;
  const { gte, lt } = entryRange(group);
  for await (const [k, v] of db.range(gte, lt)) {
    const index = indexOfKey(k);
    const expected = prev.index + 1;
    if (index !== expected) {
      throw corrupt(
        index === undefined
          ? `entry key ${k.toString("hex")} after entry ${prev.index} is malformed`
          : index < expected
            ? `entry ${index} is stored although the log starts after ${logStart.index}`
            : `entry ${expected} is missing between ${prev.index} and ${index}`,
      );
    }
    let e: Entry;
    try {
      e = decodeEntry(v, `entry ${index}`);
    } catch (err) {
      throw corrupt(messageOf(err), err);
    }
    if (e.index !== index) throw corrupt(`entry stored under index ${index} says index ${e.index}`);
    if (e.term < prev.term) {
      throw corrupt(`entry ${index} has term ${e.term}, below term ${prev.term} of ${prev.index}`);
    }
    entries.push(e);
    prev = e;
    if (entries.length % abortCheckEvery === 0) throwIfAborted(signal);
  }

  const last = prev.index;
  if (snapshot.index < logStart.index || snapshot.index > last) {
    throw corrupt(
      `snapshot ${snapshot.index} is outside the log [${logStart.index}, ${last}] it must cover`,
    );
  }
  const snapTerm =
    snapshot.index === logStart.index
      ? logStart.term
      : entries[snapshot.index - logStart.index - 1]?.term;
  if (snapTerm !== snapshot.term) {
    throw corrupt(`snapshot ${snapshot.index} has term ${snapshot.term}, the log has ${snapTerm}`);
  }
  if (
    !isEmptyHardState(hardState) &&
    (hardState.commit < logStart.index || hardState.commit > last)
  ) {
    throw corrupt(
      `commit index ${hardState.commit} is outside the log [${logStart.index}, ${last}]`,
    );
  }
  return { created, hardState, conf: confRecord, snapshot, logStart, entries };
}
