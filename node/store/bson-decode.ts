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

/** A cursor over a byte array. */
class Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos: number;
  constructor(bytes: Uint8Array, pos: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
  }

  need(n: number, end: number): void {
    if (n < 0 || this.pos + n > end) bad("truncated value", this.pos);
  }

  cstring(end: number): string {
    const start = this.pos;
    const z = this.bytes.indexOf(0, start);
    if (z < 0 || z >= end) bad("unterminated string", start);
    this.pos = z + 1;
    return text(this.bytes, start, z);
  }
}

function text(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 32) {
    let s = "";
    let ascii = true;
    for (let i = start; i < end; i++) {
      const b = bytes[i] ?? 0;
      if (b >= 0x80) {
        ascii = false;
        break;
      }
      s += String.fromCharCode(b);
    }
    if (ascii) return s;
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

function readDoc(r: Reader, limit: number, depth: number): Doc {
  const doc: Doc = new Map();
  readElements(r, limit, depth, (k, v) => doc.set(k, v));
  return doc;
}

function readArray(r: Reader, limit: number, depth: number): Value[] {
  const arr: Value[] = [];
  readElements(r, limit, depth, (_k, v) => arr.push(v));
  return arr;
}

function readElements(
  r: Reader,
  limit: number,
  depth: number,
  put: (k: string, v: Value) => unknown,
): void {
  if (depth > MAX_DEPTH) bad(`nesting deeper than ${MAX_DEPTH}`, r.pos);
  const start = r.pos;
  r.need(5, limit);
  const size = r.view.getInt32(start, true);
  const end = start + size;
  if (size < 5 || end > limit) bad(`bad document length ${size}`, start);
  r.pos += 4;
  while (r.pos < end - 1) {
    const type = r.bytes[r.pos++] ?? 0;
    const key = r.cstring(end - 1);
    put(key, readValue(r, type, end - 1, depth));
  }
  if (r.pos !== end - 1 || r.bytes[r.pos] !== 0) bad("document not terminated", r.pos);
  r.pos = end;
}

function readValue(r: Reader, type: number, end: number, depth: number): Value {
  const at = r.pos;
  switch (type) {
    case 0x01:
      r.need(8, end);
      r.pos += 8;
      return makeDouble(r.view.getFloat64(at, true));
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
      return r.view.getInt32(at, true);
    case 0x12:
      r.need(8, end);
      r.pos += 8;
      return r.view.getBigInt64(at, true);
    default:
      return readRare(r, type, end);
  }
}

function readString(r: Reader, end: number): string {
  r.need(4, end);
  const n = r.view.getInt32(r.pos, true);
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
      const n = r.view.getInt32(at, true);
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
      return new UtcDate(r.view.getBigInt64(at, true));
    case 0x0b:
      return readRegex(r, end);
    case 0x11:
      r.need(8, end);
      r.pos += 8;
      return new Timestamp({ i: r.view.getUint32(at, true), t: r.view.getUint32(at + 4, true) });
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
