/**
 * Strict BSON decoding into {@link Value}s. Malformed bytes never crash: they raise a coded
 * {@link StoreError} (`invalid_argument`, reason `BAD_BSON`).
 */
import { BSONRegExp, Binary, Decimal128, MaxKey, MinKey, ObjectId, Timestamp } from "bson";
import { badInput } from "./errors.js";
import { MAX_DEPTH } from "./normalize.js";
import type { Doc, Value } from "./values.js";
import { UtcDate, makeDouble } from "./values.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function bad(message: string, at: number): never {
  return badInput("BAD_BSON", `decode BSON at byte ${at}: ${message}`);
}

const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/** A cursor over a byte array (also used by txn-decode.ts, which reads ops straight from bytes). */
export class Reader {
  readonly bytes: Uint8Array;
  pos: number;
  constructor(bytes: Uint8Array, pos: number) {
    this.bytes = bytes;
    this.pos = pos;
  }

  /**
   * The 8 bytes at `at` in a shared scratch view: an int64 or a double without a DataView per
   * reader (making one is a runtime call, and a third of a node's entries carry an int64).
   */
  eight(at: number): DataView {
    const b = this.bytes;
    for (let i = 0; i < 8; i++) scratch[i] = b[at + i] as number;
    return scratchView;
  }

  need(n: number, end: number): void {
    if (n < 0 || this.pos + n > end) bad("truncated value", this.pos);
  }

  cstring(end: number): string {
    const start = this.pos;
    const z = zeroAt(this.bytes, start, end);
    this.pos = z + 1;
    return text(this.bytes, start, z);
  }
}

/** Strings up to this many bytes go through the intern table below. */
const SHORT = 48;
/** Slots of the intern table (a power of two). */
const INTERN_SLOTS = 4096;
/**
 * A direct-mapped table of recently decoded short ASCII strings: field names and small values
 * (statuses, model UUIDs) repeat across every transaction, so a hit returns the same string
 * without allocating, and documents built from it share one copy. It only ever returns a string
 * equal to the bytes, so decoding stays deterministic.
 */
const interned: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(
  undefined,
);

function shortAscii(bytes: Uint8Array, start: number, end: number): string | undefined {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if (b >= 0x80) return undefined;
    h = Math.imul(h ^ b, 0x01000193);
  }
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const hit = interned[slot];
  if (hit?.length === end - start) {
    let same = true;
    for (let i = 0; i < hit.length && same; i++) same = hit.charCodeAt(i) === bytes[start + i];
    if (same) return hit;
  }
  // Both are exact for ASCII; which is cheaper depends on the length (~20 bytes is even on Node 20).
  const s =
    end - start < 20
      ? String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[])
      : utf8.decode(bytes.subarray(start, end));
  interned[slot] = s;
  return s;
}

/**
 * The offset of the first zero byte in [start, end), or a BAD_BSON error. A loop: keys are short,
 * and Uint8Array.prototype.indexOf is a call into the runtime (~1,500 instructions each).
 */
export function zeroAt(bytes: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) if (bytes[i] === 0) return i;
  return bad("unterminated string", start);
}

function text(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT) {
    const s = shortAscii(bytes, start, end);
    if (s !== undefined) return s;
  }
  try {
    return utf8.decode(bytes.subarray(start, end));
  } catch {
    return bad("invalid UTF-8", start);
  }
}

/** Decodes the document starting at `offset`; returns it and the offset just past it. */
export function decodeDocAt(bytes: Uint8Array, offset: number): { doc: Doc; end: number } {
  const r = new Reader(bytes, offset);
  const doc = readDoc(r, bytes.length, 1);
  return { doc, end: r.pos };
}

/** Decodes exactly one BSON document (trailing bytes are an error). */
export function decodeDoc(bytes: Uint8Array): Doc {
  const { doc, end } = decodeDocAt(bytes, 0);
  if (end !== bytes.length) bad("trailing bytes after document", end);
  return doc;
}

/** Little-endian int32 at `at` (bounds checked by the caller). */
export function int32(b: Uint8Array, at: number): number {
  return (
    (b[at] as number) |
    ((b[at + 1] as number) << 8) |
    ((b[at + 2] as number) << 16) |
    ((b[at + 3] as number) << 24)
  );
}

/** Reads a document's length prefix; returns the offset of its terminating zero byte. */
export function openDoc(r: Reader, limit: number, depth: number): number {
  if (depth > MAX_DEPTH) bad(`nesting deeper than ${MAX_DEPTH}`, r.pos);
  const start = r.pos;
  r.need(5, limit);
  const size = int32(r.bytes, start);
  const end = start + size;
  if (size < 5 || end > limit) bad(`bad document length ${size}`, start);
  r.pos += 4;
  return end - 1;
}

/** Checks the terminating zero at `last` and moves past it. */
export function closeDoc(r: Reader, last: number): void {
  if (r.pos !== last || r.bytes[r.pos] !== 0) bad("document not terminated", r.pos);
  r.pos = last + 1;
}

// Documents and arrays have their own loops (no per-element callback): decoding runs for every
// entry a node applies and every request it validates, so it is on the hot path of writes.
/** Reads the document at `r.pos` (its end within `limit`), at nesting `depth` (top = 1). */
export function readDoc(r: Reader, limit: number, depth: number): Doc {
  const last = openDoc(r, limit, depth);
  const doc: Doc = new Map();
  while (r.pos < last) {
    const type = r.bytes[r.pos++] as number;
    const key = r.cstring(last);
    doc.set(key, readValue(r, type, last, depth));
  }
  closeDoc(r, last);
  return doc;
}

function readArray(r: Reader, limit: number, depth: number): Value[] {
  const last = openDoc(r, limit, depth);
  const arr: Value[] = [];
  while (r.pos < last) {
    const type = r.bytes[r.pos++] as number;
    r.pos = zeroAt(r.bytes, r.pos, last) + 1; // the key ("0", "1", ...) is not used
    arr.push(readValue(r, type, last, depth));
  }
  closeDoc(r, last);
  return arr;
}

/** Reads a value of BSON `type` at `r.pos`, within `end`, inside a document at `depth`. */
export function readValue(r: Reader, type: number, end: number, depth: number): Value {
  const at = r.pos;
  switch (type) {
    case 0x01:
      r.need(8, end);
      r.pos += 8;
      return makeDouble(r.eight(at).getFloat64(0, true));
    case 0x02:
      return readString(r, end);
    case 0x03:
      return readDoc(r, end, depth + 1);
    case 0x04:
      return readArray(r, end, depth + 1);
    case 0x08:
      r.need(1, end);
      r.pos += 1;
      if ((r.bytes[at] ?? 2) > 1) bad("bad boolean", at);
      return r.bytes[at] === 1;
    case 0x0a:
      return null;
    case 0x10:
      r.need(4, end);
      r.pos += 4;
      return int32(r.bytes, at);
    case 0x12:
      r.need(8, end);
      r.pos += 8;
      return r.eight(at).getBigInt64(0, true);
    default:
      return readRare(r, type, end);
  }
}

/** Reads a BSON string (type 0x02) at `r.pos`, within `end`. */
export function readString(r: Reader, end: number): string {
  r.need(4, end);
  const n = int32(r.bytes, r.pos);
  r.pos += 4;
  r.need(n, end);
  if (n < 1 || r.bytes[r.pos + n - 1] !== 0) bad("bad string length", r.pos - 4);
  const s = text(r.bytes, r.pos, r.pos + n - 1);
  r.pos += n;
  return s;
}

function readRare(r: Reader, type: number, end: number): Value {
  const at = r.pos;
  switch (type) {
    case 0x05: {
      r.need(5, end);
      const n = int32(r.bytes, at);
      const sub = r.bytes[at + 4] ?? 0;
      r.pos += 5;
      r.need(n, end);
      r.pos += n;
      return new Binary(r.bytes.slice(at + 5, at + 5 + n), sub);
    }
    case 0x07:
      r.need(12, end);
      r.pos += 12;
      return new ObjectId(r.bytes.slice(at, at + 12));
    case 0x09:
      r.need(8, end);
      r.pos += 8;
      return new UtcDate(r.eight(at).getBigInt64(0, true));
    case 0x0b:
      return readRegex(r, end);
    case 0x11: {
      r.need(8, end);
      r.pos += 8;
      const v = r.eight(at);
      return new Timestamp({ i: v.getUint32(0, true), t: v.getUint32(4, true) });
    }
    case 0x13:
      r.need(16, end);
      r.pos += 16;
      return new Decimal128(r.bytes.slice(at, at + 16));
    case 0xff:
      return new MinKey();
    case 0x7f:
      return new MaxKey();
    default:
      return badInput(
        "UNSUPPORTED_BSON_TYPE",
        `decode BSON at byte ${at - 1}: type 0x${type.toString(16)} is not supported`,
      );
  }
}

function readRegex(r: Reader, end: number): Value {
  const at = r.pos;
  const pattern = r.cstring(end);
  const options = r.cstring(end);
  if (!/^[ilmsux]*$/.test(options)) bad("bad regex options", at);
  return new BSONRegExp(pattern, options);
}
