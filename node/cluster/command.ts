/**
 * The entry data of a transaction: `juraft.cluster.v1.Command` in protobuf's wire format. Every
 * node decodes every entry and the leader encodes each proposal, so the common shape (no import
 * batch) has a hand-written codec; anything else (an import, an unknown field, a negative time)
 * goes through protobuf-es. Both write and read the same bytes (test/cluster/command.test.ts).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CommandSchema, type Command } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import { Reader, StorageError, Writer, uvarintSize } from "../storage/index.js";

/** A transaction (or an import batch) as it travels in a Raft entry. */
export interface TxnCommand {
  readonly txnId: string;
  /** BSON {"ops": [...]}, already validated. */
  readonly ops: Uint8Array;
  readonly traceContext: Readonly<Record<string, string>>;
  readonly timeMs: number;
  /** Set for `juraft import` instead of ops: BSON documents of one collection. */
  readonly import?: { readonly collection: string; readonly documents: readonly Uint8Array[] };
}

// Field tags of Command (field number << 3 | wire type).
const TXN_ID = 0x0a;
const OPS = 0x12;
const TRACE_CONTEXT = 0x1a;
const TIME_MS = 0x20;
// Field tags inside a map entry.
const MAP_KEY = 0x0a;
const MAP_VALUE = 0x12;

const utf8 = new TextEncoder();
const utf8Lenient = new TextDecoder();

/** UTF-8 bytes of `s`; ASCII (txn ids, trace headers) without a call into the runtime. */
function utf8Of(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 0x80) return utf8.encode(s);
    out[i] = ch;
  }
  return out;
}

/**
 * The string of UTF-8 bytes `b`; short ASCII decoded in JS. Undefined when the text holds U+FFFD,
 * which is what invalid UTF-8 decodes to: protobuf-es (strict) then decides. No exception is
 * relied on (a TypeError from another realm, as under jest's VM modules, is not `instanceof`).
 */
function stringOf(b: Uint8Array): string | undefined {
  if (b.length <= 64) {
    let ascii = true;
    for (let i = 0; i < b.length && ascii; i++) ascii = (b[i] as number) < 0x80;
    if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
  }
  const s = utf8Lenient.decode(b);
  return s.includes("\uFFFD") ? undefined : s;
}

/** Encodes a command as entry data. */
export function encodeCommand(c: TxnCommand): Uint8Array {
  if (c.import !== undefined || !Number.isSafeInteger(c.timeMs) || c.timeMs < 0)
    return viaProtobuf(c);
  const txnId = utf8Of(c.txnId);
  const trace: [Uint8Array, Uint8Array][] = [];
  for (const k in c.traceContext) trace.push([utf8Of(k), utf8Of(c.traceContext[k] ?? "")]);
  // A protobuf length-delimited field is the storage codec's length-prefixed bytes after a tag.
  const fieldSize = (b: Uint8Array): number => 1 + uvarintSize(b.length) + b.length;
  const entrySize = ([k, v]: [Uint8Array, Uint8Array]): number => fieldSize(k) + fieldSize(v);
  let size = 0;
  if (txnId.length > 0) size += fieldSize(txnId);
  if (c.ops.length > 0) size += fieldSize(c.ops);
  for (const kv of trace) size += 1 + uvarintSize(entrySize(kv)) + entrySize(kv);
  if (c.timeMs !== 0) size += 1 + uvarintSize(c.timeMs);
  const w = new Writer(size);
  const field = (tag: number, b: Uint8Array): void => {
    w.u8(tag);
    w.bytes(b);
  };
  if (txnId.length > 0) field(TXN_ID, txnId);
  if (c.ops.length > 0) field(OPS, c.ops);
  for (const kv of trace) {
    w.u8(TRACE_CONTEXT);
    w.uvarint(entrySize(kv));
    field(MAP_KEY, kv[0]);
    field(MAP_VALUE, kv[1]);
  }
  if (c.timeMs !== 0) {
    w.u8(TIME_MS);
    w.uvarint(c.timeMs);
  }
  return w.finish();
}

function viaProtobuf(c: TxnCommand): Uint8Array {
  return toBinary(
    CommandSchema,
    create(CommandSchema, {
      txnId: c.txnId,
      ops: c.ops,
      traceContext: { ...c.traceContext },
      timeMs: BigInt(c.timeMs),
      ...(c.import !== undefined
        ? { import: { collection: c.import.collection, documents: [...c.import.documents] } }
        : {}),
    }),
  );
}

/** Decodes entry data written by {@link encodeCommand} (or by any protobuf encoder). */
export function decodeCommand(data: Uint8Array): TxnCommand {
  return fastDecode(data) ?? viaProtobufDecode(data);
}

/**
 * The common shape read with the storage codec's Reader (protobuf varints are its uvarints,
 * length-delimited fields its length-prefixed bytes); undefined for anything else.
 */
function fastDecode(data: Uint8Array): TxnCommand | undefined {
  const r = new Reader(data, "command");
  let txnId = "";
  let ops: Uint8Array = new Uint8Array(0);
  const traceContext: Record<string, string> = {};
  let timeMs = 0;
  try {
    while (!r.atEnd()) {
      const tag = r.u8();
      if (tag === OPS) ops = r.bytes();
      else if (tag === TXN_ID) {
        const id = stringOf(r.bytes());
        if (id === undefined) return undefined;
        txnId = id;
      } else if (tag === TIME_MS) timeMs = r.uvarint();
      else if (tag !== TRACE_CONTEXT || !mapEntry(r.bytes(), traceContext)) return undefined;
    }
  } catch (err) {
    // Truncated or overlong: protobuf-es decides, and reports it in its own words.
    if (err instanceof StorageError) return undefined;
    throw err;
  }
  return { txnId, ops, traceContext, timeMs };
}

/** Reads one map entry into `into`; false when it is not the key/value shape. */
function mapEntry(b: Uint8Array, into: Record<string, string>): boolean {
  const r = new Reader(b, "trace context entry");
  let key = "";
  let value = "";
  while (!r.atEnd()) {
    const tag = r.u8();
    const text = tag === MAP_KEY || tag === MAP_VALUE ? stringOf(r.bytes()) : undefined;
    if (text === undefined) return false;
    if (tag === MAP_KEY) key = text;
    else value = text;
  }
  into[key] = value;
  return true;
}

function viaProtobufDecode(data: Uint8Array): TxnCommand {
  const c: Command = fromBinary(CommandSchema, data);
  const base = {
    txnId: c.txnId,
    ops: c.ops,
    traceContext: c.traceContext,
    timeMs: Number(c.timeMs),
  };
  if (c.import === undefined) return base;
  return { ...base, import: { collection: c.import.collection, documents: c.import.documents } };
}
