/**
 * Binary encodings of the small per-group records: hard state, configuration (with the
 * runtime's opaque member list), snapshot metadata and the log start (the index and term of the
 * entry just before the first stored one). Same primitives and strictness as the entry codec.
 */
import type { ConfState, HardState, Index, SnapshotMetadata, Term } from "../raft/index.js";
import { Reader, Writer, uvarintSize } from "./codec.js";

/** The configuration the runtime persisted after applying a conf change (or a snapshot). */
export interface ConfRecord {
  /** The index of the entry (or snapshot) that produced this configuration. */
  readonly index: Index;
  readonly confState: ConfState;
  /** Opaque to storage: the runtime's member names and addresses (its address book). */
  readonly members: Uint8Array;
}

/** The index and term of the entry just before the first stored entry (etcd's dummy entry). */
export interface LogStart {
  readonly index: Index;
  readonly term: Term;
}

/** Returns the encoded size of a hard state. */
function hardStateSize(hs: HardState): number {
  return uvarintSize(hs.term) + 8 + uvarintSize(hs.commit);
}

/** Encodes a hard state. */
export function encodeHardState(hs: HardState): Buffer {
  const w = new Writer(hardStateSize(hs));
  w.uvarint(hs.term);
  w.u64(hs.vote);
  w.uvarint(hs.commit);
  return w.finish();
}

/** Decodes a hard state (throws CORRUPT). */
export function decodeHardState(buf: Uint8Array): HardState {
  const r = new Reader(buf, "hard state");
  const hs = { term: r.uvarint(), vote: r.u64(), commit: r.uvarint() };
  r.end();
  return hs;
}

const idLists = ["voters", "learners", "votersOutgoing", "learnersNext"] as const;

function confStateSize(cs: ConfState): number {
  let size = 1;
  for (const k of idLists) size += uvarintSize(cs[k].length) + 8 * cs[k].length;
  return size;
}

function writeConfState(w: Writer, cs: ConfState): void {
  for (const k of idLists) {
    w.uvarint(cs[k].length);
    for (const id of cs[k]) w.u64(id);
  }
  w.u8(cs.autoLeave ? 1 : 0);
}

function readConfState(r: Reader): ConfState {
  const lists = idLists.map(() => {
    const n = r.uvarint();
    const ids: bigint[] = [];
    for (let i = 0; i < n; i++) ids.push(r.u64());
    return ids;
  });
  const autoLeave = r.u8();
  if (autoLeave > 1) r.fail(`autoLeave flag is ${autoLeave}`);
  const [voters = [], learners = [], votersOutgoing = [], learnersNext = []] = lists;
  return { voters, learners, votersOutgoing, learnersNext, autoLeave: autoLeave === 1 };
}

/** Encodes snapshot metadata. */
export function encodeSnapshotMetadata(m: SnapshotMetadata): Buffer {
  const w = new Writer(uvarintSize(m.index) + uvarintSize(m.term) + confStateSize(m.confState));
  w.uvarint(m.index);
  w.uvarint(m.term);
  writeConfState(w, m.confState);
  return w.finish();
}

/** Decodes snapshot metadata (throws CORRUPT). */
export function decodeSnapshotMetadata(buf: Uint8Array): SnapshotMetadata {
  const r = new Reader(buf, "snapshot metadata");
  const m = { index: r.uvarint(), term: r.uvarint(), confState: readConfState(r) };
  r.end();
  return m;
}

/** Encodes a configuration record. */
export function encodeConfRecord(c: ConfRecord): Buffer {
  const size =
    uvarintSize(c.index) +
    confStateSize(c.confState) +
    uvarintSize(c.members.length) +
    c.members.length;
  const w = new Writer(size);
  w.uvarint(c.index);
  writeConfState(w, c.confState);
  w.bytes(c.members);
  return w.finish();
}

/** Decodes a configuration record (throws CORRUPT); `members` is a view of `buf`. */
export function decodeConfRecord(buf: Uint8Array): ConfRecord {
  const r = new Reader(buf, "configuration");
  const c = { index: r.uvarint(), confState: readConfState(r), members: r.bytes() };
  r.end();
  return c;
}

/** Encodes a log start. */
export function encodeLogStart(s: LogStart): Buffer {
  const w = new Writer(uvarintSize(s.index) + uvarintSize(s.term));
  w.uvarint(s.index);
  w.uvarint(s.term);
  return w.finish();
}

/** Decodes a log start (throws CORRUPT). */
export function decodeLogStart(buf: Uint8Array): LogStart {
  const r = new Reader(buf, "log start");
  const s = { index: r.uvarint(), term: r.uvarint() };
  r.end();
  return s;
}
