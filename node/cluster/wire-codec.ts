/**
 * The binary encoding of a batch of Raft messages on `RaftService.Stream` (version 1). Written
 * by hand with the log's own primitives because generic protobuf encoding of every message and
 * entry was the largest cost of replication in profiles (BENCHMARKS.md); entries inside appends
 * use exactly the log's entry format, so a follower's bytes are the leader's.
 *
 *     u8 version | uvarint count | count × message
 *     message:   u8 type | u64 group | u64 from | u64 to | uvarint term | body
 *
 * Snapshots never travel here (they stream on InstallSnapshot).
 */
import type { Message, MessageType } from "../raft/index.js";
import {
  Reader,
  StorageError,
  Writer,
  encodedEntrySize,
  readEntry,
  uvarintSize,
  writeEntry,
} from "../storage/index.js";
import { invalidArgument } from "./errors.js";

const version = 1;
const types: readonly MessageType[] = [
  "app",
  "appResp",
  "vote",
  "preVote",
  "voteResp",
  "preVoteResp",
  "heartbeat",
  "heartbeatResp",
  "snap",
  "timeoutNow",
  "readIndex",
  "readIndexResp",
  "transferLeader",
];
const typeCodes = new Map(types.map((t, i) => [t, i]));

const bytesSize = (b: Uint8Array): number => uvarintSize(b.length) + b.length;

function bodySize(m: Message): number {
  switch (m.type) {
    case "app": {
      let n =
        uvarintSize(m.index) +
        uvarintSize(m.logTerm) +
        uvarintSize(m.commit) +
        uvarintSize(m.entries.length);
      for (const e of m.entries) n += encodedEntrySize(e);
      return n;
    }
    case "appResp":
      return uvarintSize(m.index) + 1 + uvarintSize(m.rejectHint) + uvarintSize(m.logTerm);
    case "vote":
    case "preVote":
      return uvarintSize(m.index) + uvarintSize(m.logTerm) + 1;
    case "voteResp":
    case "preVoteResp":
      return 1 + uvarintSize(m.commit) + uvarintSize(m.commitTerm);
    case "heartbeat":
      return uvarintSize(m.commit) + bytesSize(m.context) + uvarintSize(m.sentTick);
    case "heartbeatResp":
      return bytesSize(m.context) + uvarintSize(m.sentTick);
    case "timeoutNow":
      return 0;
    case "readIndex":
      return bytesSize(m.context);
    case "readIndexResp":
      return uvarintSize(m.index) + bytesSize(m.context);
    case "transferLeader":
      return 8;
    case "snap":
      throw new Error("encode raft batch: a snap message travels on InstallSnapshot");
  }
}

function writeBody(w: Writer, m: Message): void {
  switch (m.type) {
    case "app":
      w.uvarint(m.index);
      w.uvarint(m.logTerm);
      w.uvarint(m.commit);
      w.uvarint(m.entries.length);
      for (const e of m.entries) writeEntry(w, e);
      return;
    case "appResp":
      w.uvarint(m.index);
      w.u8(m.reject ? 1 : 0);
      w.uvarint(m.rejectHint);
      w.uvarint(m.logTerm);
      return;
    case "vote":
    case "preVote":
      w.uvarint(m.index);
      w.uvarint(m.logTerm);
      w.u8(m.transfer ? 1 : 0);
      return;
    case "voteResp":
    case "preVoteResp":
      w.u8(m.reject ? 1 : 0);
      w.uvarint(m.commit);
      w.uvarint(m.commitTerm);
      return;
    case "heartbeat":
      w.uvarint(m.commit);
      w.bytes(m.context);
      w.uvarint(m.sentTick);
      return;
    case "heartbeatResp":
      w.bytes(m.context);
      w.uvarint(m.sentTick);
      return;
    case "timeoutNow":
      return;
    case "readIndex":
      w.bytes(m.context);
      return;
    case "readIndexResp":
      w.uvarint(m.index);
      w.bytes(m.context);
      return;
    case "transferLeader":
      w.u64(m.target);
      return;
    case "snap":
      throw new Error("encode raft batch: a snap message travels on InstallSnapshot");
  }
}

/** Encodes messages (none of them `snap`) as one batch. */
export function encodeBatch(messages: readonly Message[]): Uint8Array {
  let size = 1 + uvarintSize(messages.length);
  for (const m of messages) size += 1 + 24 + uvarintSize(m.term) + bodySize(m);
  const w = new Writer(size);
  w.u8(version);
  w.uvarint(messages.length);
  for (const m of messages) {
    w.u8(typeCodes.get(m.type) ?? 255);
    w.u64(m.group);
    w.u64(m.from);
    w.u64(m.to);
    w.uvarint(m.term);
    writeBody(w, m);
  }
  return w.finish();
}

/**
 * Decodes a batch written by {@link encodeBatch}; byte fields are views of `buf`. Malformed
 * input (from a broken or hostile peer) throws INVALID_ARGUMENT with reason BAD_RAFT_MESSAGE.
 */
export function decodeBatch(buf: Uint8Array): Message[] {
  try {
    const r = new Reader(buf, "raft message batch");
    const v = r.u8();
    if (v !== version) r.fail(`unknown version ${v}`);
    const n = r.uvarint();
    const out: Message[] = [];
    for (let i = 0; i < n; i++) out.push(readMessage(r));
    r.end();
    return out;
  } catch (err) {
    if (err instanceof StorageError)
      throw invalidArgument("BAD_RAFT_MESSAGE", `decode raft message batch: ${err.message}`);
    throw err;
  }
}

function readMessage(r: Reader): Message {
  const code = r.u8();
  const type = types[code] ?? r.fail(`unknown message type ${code}`);
  const group = r.u64();
  const from = r.u64();
  const to = r.u64();
  const term = r.uvarint();
  // Object literals, never `{ ...base, more }`: on Node 20 a spread followed by new properties
  // took microseconds per object (V8's slow clone path), the largest cost of decoding.
  switch (type) {
    case "app": {
      const index = r.uvarint();
      const logTerm = r.uvarint();
      const commit = r.uvarint();
      const count = r.uvarint();
      const entries = [];
      for (let i = 0; i < count; i++) entries.push(readEntry(r));
      return { type, group, from, to, term, index, logTerm, commit, entries };
    }
    case "appResp": {
      const index = r.uvarint();
      const reject = readBool(r);
      const rejectHint = r.uvarint();
      const logTerm = r.uvarint();
      return { type, group, from, to, term, index, reject, rejectHint, logTerm };
    }
    case "vote":
    case "preVote": {
      const index = r.uvarint();
      const logTerm = r.uvarint();
      const transfer = readBool(r);
      return { type, group, from, to, term, index, logTerm, transfer };
    }
    case "voteResp":
    case "preVoteResp": {
      const reject = readBool(r);
      const commit = r.uvarint();
      const commitTerm = r.uvarint();
      return { type, group, from, to, term, reject, commit, commitTerm };
    }
    case "heartbeat": {
      const commit = r.uvarint();
      const context = r.bytes();
      const sentTick = r.uvarint();
      return { type, group, from, to, term, commit, context, sentTick };
    }
    case "heartbeatResp": {
      const context = r.bytes();
      const sentTick = r.uvarint();
      return { type, group, from, to, term, context, sentTick };
    }
    case "timeoutNow":
      return { type, group, from, to, term };
    case "readIndex":
      return { type, group, from, to, term, context: r.bytes() };
    case "readIndexResp": {
      const index = r.uvarint();
      const context = r.bytes();
      return { type, group, from, to, term, index, context };
    }
    case "transferLeader":
      return { type, group, from, to, term, target: r.u64() };
    case "snap":
      return r.fail("a snap message cannot travel in a batch");
  }
}

function readBool(r: Reader): boolean {
  const b = r.u8();
  if (b > 1) r.fail(`boolean byte ${b}`);
  return b === 1;
}
