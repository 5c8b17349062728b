/**
 * BSON encoding of {@link Value}s (bsonspec.org 1.1), exact for every type the store holds, and
 * the encoded size of a document without encoding it (for the 16 MB limit of issue 3).
 */
import { badInput } from "./errors.js";
import type { Doc, Value } from "./values.js";
import { Kind, UtcDate, isInt32Number, kindOf } from "./values.js";

/** MongoDB's maximum BSON document size (16 MiB). */
export const MAX_BSON_SIZE = 16 * 1024 * 1024;

const encoder = new TextEncoder();

/** A growable byte buffer that BSON documents are appended to. */
export class BsonWriter {
  #buf: Uint8Array;
  #view: DataView;
  /** Number of bytes written so far. */
  length = 0;

  /** Creates a writer with an initial capacity in bytes. */
  constructor(capacity = 4096) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  #ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Returns a copy of the bytes written and empties the writer. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.length);
    this.length = 0;
    return out;
  }

  /** Appends one BSON document. */
  writeDoc(doc: Doc): void {
    const start = this.length;
    this.#int32(0);
    for (const k of doc.keys()) this.#element(k, doc.get(k) as Value);
    this.#byte(0);
    this.#view.setInt32(start, this.length - start, true);
  }

  #array(arr: readonly Value[]): void {
    const start = this.length;
    this.#int32(0);
    for (let i = 0; i < arr.length; i++) this.#element(String(i), arr[i] ?? null);
    this.#byte(0);
    this.#view.setInt32(start, this.length - start, true);
  }

  #byte(b: number): void {
    this.#ensure(1);
    this.#buf[this.length++] = b;
  }

  #int32(n: number): void {
    this.#ensure(4);
    this.#view.setInt32(this.length, n, true);
    this.length += 4;
  }

  #int64(n: bigint): void {
    this.#ensure(8);
    this.#view.setBigInt64(this.length, n, true);
    this.length += 8;
  }

  #bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.length);
    this.length += b.length;
  }

  #cstring(s: string): void {
    this.#ensure(s.length * 3 + 1);
    this.length += encoder.encodeInto(s, this.#buf.subarray(this.length)).written;
    this.#buf[this.length++] = 0;
  }

  #string(s: string): void {
    this.#ensure(s.length * 3 + 5);
    const at = this.length;
    this.length += 4;
    const n = encoder.encodeInto(s, this.#buf.subarray(this.length)).written;
    this.length += n;
    this.#buf[this.length++] = 0;
    this.#view.setInt32(at, n + 1, true);
  }

  #element(key: string, v: Value): void {
    if (typeof v === "string") {
      this.#byte(0x02);
      this.#cstring(key);
      this.#string(v);
      return;
    }
    if (typeof v === "number") {
      const int = isInt32Number(v);
      this.#byte(int ? 0x10 : 0x01);
      this.#cstring(key);
      this.#ensure(8);
      if (int) this.#int32(v);
      else {
        this.#view.setFloat64(this.length, v, true);
        this.length += 8;
      }
      return;
    }
    this.#other(key, v);
  }

  #other(key: string, v: Exclude<Value, string | number>): void {
    const k = kindOf(v);
    this.#byte(TYPE_BYTE[k]);
    this.#cstring(key);
    this.#payload(k, v);
  }

  #payload(k: Kind, v: Exclude<Value, string | number>): void {
    switch (k) {
      case Kind.doc: {
        this.writeDoc(v as Doc);
        return;
      }
      case Kind.array: {
        this.#array(v as Value[]);
        return;
      }
      case Kind.bool: {
        this.#byte(v === true ? 1 : 0);
        return;
      }
      case Kind.long: {
        this.#int64(v as bigint);
        return;
      }
      case Kind.date: {
        this.#int64((v as UtcDate).ms);
        return;
      }
      case Kind.null:
      case Kind.minKey:
      case Kind.maxKey:
        return;
      case Kind.binary:
      case Kind.decimal:
      case Kind.double:
      case Kind.int:
      case Kind.objectId:
      case Kind.regex:
      case Kind.string:
      case Kind.timestamp: {
        this.#opaque(v);
        return;
      }
    }
  }

  #opaque(v: Exclude<Value, string | number>): void {
    if (typeof v !== "object" || v === null || v instanceof Map || Array.isArray(v)) return;
    if (v instanceof UtcDate) return;
    switch (v._bsontype) {
      case "Double":
        this.#ensure(8);
        this.#view.setFloat64(this.length, v.value, true);
        this.length += 8;
        return;
      case "ObjectId": {
        this.#bytes(v.id);
        return;
      }
      case "Decimal128": {
        this.#bytes(v.bytes);
        return;
      }
      case "Binary": {
        const data = v.value();
        this.#int32(data.length);
        this.#byte(v.sub_type);
        this.#bytes(data);
        return;
      }
      case "Timestamp":
        this.#int32(v.i | 0);
        {
          this.#int32(v.t | 0);
          return;
        }
      case "BSONRegExp":
        this.#cstring(checkCstring(v.pattern));
        {
          this.#cstring(v.options);
          return;
        }
      case "MinKey":
      case "MaxKey":
        return;
    }
  }
}

function checkCstring(s: string): string {
  if (s.includes("\u0000")) badInput("BAD_REGEX", "encode regex: pattern contains a NUL byte");
  return s;
}

const TYPE_BYTE: Record<Kind, number> = {
  double: 0x01,
  string: 0x02,
  doc: 0x03,
  array: 0x04,
  binary: 0x05,
  objectId: 0x07,
  bool: 0x08,
  date: 0x09,
  null: 0x0a,
  regex: 0x0b,
  int: 0x10,
  timestamp: 0x11,
  long: 0x12,
  decimal: 0x13,
  minKey: 0xff,
  maxKey: 0x7f,
};

/** Encodes one document to BSON bytes. */
export function encodeDoc(doc: Doc): Uint8Array {
  const w = new BsonWriter(256);
  w.writeDoc(doc);
  return w.take();
}

/** Number of bytes `s` takes in UTF-8 (lone surrogates count as U+FFFD, as TextEncoder writes). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2;
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/** The encoded BSON size of a document, in bytes. */
export function docSize(doc: Doc): number {
  let n = 5;
  for (const k of doc.keys()) n += 2 + utf8Length(k) + valueSize(doc.get(k) as Value);
  return n;
}

function valueSize(v: Value): number {
  if (typeof v === "string") return 5 + utf8Length(v);
  if (typeof v === "number") return isInt32Number(v) ? 4 : 8;
  if (v instanceof Map) return docSize(v);
  if (Array.isArray(v)) {
    let n = 5;
    for (let i = 0; i < v.length; i++) n += 2 + String(i).length + valueSize(v[i] ?? null);
    return n;
  }
  return scalarSize(v);
}

function scalarSize(v: Exclude<Value, string | number | Doc | Value[]>): number {
  if (v === null || typeof v === "boolean") return v === null ? 0 : 1;
  if (typeof v === "bigint" || v instanceof UtcDate) return 8;
  switch (v._bsontype) {
    case "Double":
    case "Timestamp":
      return 8;
    case "ObjectId":
      return 12;
    case "Decimal128":
      return 16;
    case "Binary":
      return 5 + v.position;
    case "BSONRegExp":
      return utf8Length(v.pattern) + utf8Length(v.options) + 2;
    case "MinKey":
    case "MaxKey":
      return 0;
  }
}

/** A cheap upper bound of a value's encoded size (see {@link docSizeBound}). */
export function valueSizeBound(v: Value): number {
  return boundOf(v);
}

function boundOf(v: Value): number {
  if (typeof v === "string") return 5 + 3 * v.length;
  if (v instanceof Map) return docSizeBound(v);
  if (Array.isArray(v)) {
    let n = 5;
    for (const x of v) n += 12 + boundOf(x);
    return n;
  }
  return valueSize(v);
}

/** A cheap upper bound of `docSize` (strings counted at 3 bytes per UTF-16 unit). */
export function docSizeBound(doc: Doc): number {
  let n = 5;
  for (const k of doc.keys()) n += 2 + 3 * k.length + boundOf(doc.get(k) as Value);
  return n;
}

/** The exact size when `doc` may exceed {@link MAX_BSON_SIZE}, else 0 (the common, cheap path). */
export function oversize(doc: Doc): number {
  if (docSizeBound(doc) <= MAX_BSON_SIZE) return 0;
  const size = docSize(doc);
  return size > MAX_BSON_SIZE ? size : 0;
}
