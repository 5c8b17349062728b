/**
 * The entry data of a transaction: `juraft.cluster.v1.Command` in protobuf's wire format. Every
 * node decodes every entry and the leader encodes each proposal, so the common shape (no import
 * batch) has a hand-written codec; anything else (an import, an unknown field, a negative time)
 * goes through protobuf-es. Both write and read the same bytes (test/cluster/command.test.ts).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CommandSchema, type Command } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";

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
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

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

/** The string of UTF-8 bytes `b` (throws on invalid UTF-8); short ASCII decoded in JS. */
function stringOf(b: Uint8Array): string {
  if (b.length <= 64) {
    let ascii = true;
    for (let i = 0; i < b.length && ascii; i++) ascii = (b[i] as number) < 0x80;
    if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
  }
  return utf8Strict.decode(b);
}

/** Bytes of `n` as a protobuf varint (n a non-negative safe integer). */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Encodes a command as entry data. */
export function encodeCommand(c: TxnCommand): Uint8Array {
  if (c.import !== undefined || !Number.isSafeInteger(c.timeMs) || c.timeMs < 0)
    return viaProtobuf(c);
  const txnId = utf8Of(c.txnId);
  const trace: [Uint8Array, Uint8Array][] = [];
  for (const k in c.traceContext) trace.push([utf8Of(k), utf8Of(c.traceContext[k] ?? "")]);
  let size = 0;
  if (txnId.length > 0) size += 1 + varintSize(txnId.length) + txnId.length;
  if (c.ops.length > 0) size += 1 + varintSize(c.ops.length) + c.ops.length;
  for (const [k, v] of trace) {
    const entry = 2 + varintSize(k.length) + k.length + varintSize(v.length) + v.length;
    size += 1 + varintSize(entry) + entry;
  }
  if (c.timeMs !== 0) size += 1 + varintSize(c.timeMs);
  const out = new Uint8Array(size);
  let pos = 0;
  const varint = (n: number): void => {
    while (n >= 0x80) {
      out[pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    out[pos++] = n;
  };
  const field = (tag: number, b: Uint8Array): void => {
    out[pos++] = tag;
    varint(b.length);
    out.set(b, pos);
    pos += b.length;
  };
  if (txnId.length > 0) field(TXN_ID, txnId);
  if (c.ops.length > 0) field(OPS, c.ops);
  for (const [k, v] of trace) {
    out[pos++] = TRACE_CONTEXT;
    varint(2 + varintSize(k.length) + k.length + varintSize(v.length) + v.length);
    field(MAP_KEY, k);
    field(MAP_VALUE, v);
  }
  if (c.timeMs !== 0) {
    out[pos++] = TIME_MS;
    varint(c.timeMs);
  }
  if (pos !== size) throw new Error(`encode command: wrote ${pos} of ${size} bytes`);
  return out;
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

/** A cursor over the fields of one message; `undefined` from a read means "not the fast shape". */
class Fields {
  pos: number;
  readonly end: number;
  readonly b: Uint8Array;
  constructor(b: Uint8Array, pos: number, end: number) {
    this.b = b;
    this.pos = pos;
    this.end = end;
  }

  varint(): number | undefined {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8 && this.pos < this.end; i++) {
      const x = this.b[this.pos++] as number;
      n += (x & 0x7f) * scale;
      if (x < 0x80) return Number.isSafeInteger(n) ? n : undefined;
      scale *= 0x80;
    }
    return undefined;
  }

  bytes(): Uint8Array | undefined {
    const n = this.varint();
    if (n === undefined || this.pos + n > this.end) return undefined;
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** Decodes entry data written by {@link encodeCommand} (or by any protobuf encoder). */
export function decodeCommand(data: Uint8Array): TxnCommand {
  return fastDecode(data) ?? viaProtobufDecode(data);
}

function fastDecode(data: Uint8Array): TxnCommand | undefined {
  const f = new Fields(data, 0, data.length);
  let txnId = "";
  let ops: Uint8Array = new Uint8Array(0);
  const traceContext: Record<string, string> = {};
  let timeMs = 0;
  try {
    while (f.pos < f.end) {
      const tag = data[f.pos++];
      if (tag === TXN_ID || tag === OPS) {
        const b = f.bytes();
        if (b === undefined) return undefined;
        if (tag === OPS) ops = b;
        else txnId = stringOf(b);
      } else if (tag === TRACE_CONTEXT) {
        const entry = f.bytes();
        if (entry === undefined || !mapEntry(entry, traceContext)) return undefined;
      } else if (tag === TIME_MS) {
        const n = f.varint();
        if (n === undefined) return undefined;
        timeMs = n;
      } else {
        return undefined; // an import, or a field this codec does not know: protobuf-es decides
      }
    }
  } catch {
    return undefined; // invalid UTF-8: protobuf-es reports it in its own words
  }
  return { txnId, ops, traceContext, timeMs };
}

function mapEntry(b: Uint8Array, into: Record<string, string>): boolean {
  const f = new Fields(b, 0, b.length);
  let key = "";
  let value = "";
  while (f.pos < f.end) {
    const tag = b[f.pos++];
    const s = tag === MAP_KEY || tag === MAP_VALUE ? f.bytes() : undefined;
    if (s === undefined) return false;
    if (tag === MAP_KEY) key = stringOf(s);
    else value = stringOf(s);
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
