/**
 * Primitives of the binary record formats: unsigned LEB128 varints for indexes, terms and
 * lengths (small numbers dominate, and `number` is exact up to 2^53), fixed big-endian u64 for
 * node ids (random 64-bit ids would not shrink as varints). Decoding is strict: a short record,
 * an overlong varint or trailing bytes is corruption, reported as CORRUPT by the caller.
 */
import { StorageError, StorageErrorCode } from "./errors.js";

/** Returns the encoded size of `n` as an unsigned varint. */
export function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Writes records into a buffer sized in advance by the caller (no reallocation on hot paths). */
export class Writer {
  readonly buf: Buffer;
  pos = 0;

  /** Creates a writer over a fresh buffer of exactly `size` bytes. */
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Writes a non-negative safe integer as an unsigned varint. */
  uvarint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new StorageError(StorageErrorCode.Invalid, `cannot encode ${n}: not a u53`);
    }
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  /** Writes one byte. */
  u8(n: number): void {
    this.buf[this.pos++] = n;
  }

  /** Writes a u64 big-endian (throws on a value outside [0, 2^64)). */
  u64(n: bigint): void {
    this.pos = this.buf.writeBigUInt64BE(n, this.pos);
  }

  /** Writes a length-prefixed byte string. */
  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Returns the encoded record, checking that the precomputed size was exact. */
  finish(): Buffer {
    if (this.pos !== this.buf.length) {
      throw new Error(`encoder size mismatch: wrote ${this.pos} of ${this.buf.length} bytes`);
    }
    return this.buf;
  }
}

/** Reads a record; every method throws CORRUPT (naming `what`) on malformed input. */
export class Reader {
  readonly #buf: Uint8Array;
  readonly #what: string;
  #pos = 0;
  #view: DataView | undefined;

  /** Creates a reader over `buf`; `what` names the record in error messages ("entry 12"). */
  constructor(buf: Uint8Array, what: string) {
    this.#buf = buf;
    this.#what = what;
  }

  /** Throws a CORRUPT error about this record. */
  fail(problem: string): never {
    throw new StorageError(StorageErrorCode.Corrupt, `cannot decode ${this.#what}: ${problem}`);
  }

  /** Reads an unsigned varint that must fit in a safe integer. */
  uvarint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(n)) this.fail(`varint at byte ${this.#pos} exceeds 2^53`);
        return n;
      }
      scale *= 0x80;
    }
    return this.fail(`varint at byte ${this.#pos} is longer than 8 bytes`);
  }

  /** Reads one byte. */
  u8(): number {
    const b = this.#buf[this.#pos];
    if (b === undefined) this.fail(`truncated at byte ${this.#pos} of ${this.#buf.length}`);
    this.#pos++;
    return b;
  }

  /** Reads a u64 big-endian. */
  u64(): bigint {
    if (this.#pos + 8 > this.#buf.length) {
      this.fail(`truncated at byte ${this.#pos} of ${this.#buf.length}`);
    }
    // One view per reader: creating a DataView per read cost more than the read.
    this.#view ??= new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.length);
    const v = this.#view.getBigUint64(this.#pos);
    this.#pos += 8;
    return v;
  }

  /** Reads a length-prefixed byte string as a view (no copy) of the input. */
  bytes(): Uint8Array {
    const len = this.uvarint();
    if (this.#pos + len > this.#buf.length) {
      this.fail(`${len}-byte field at byte ${this.#pos} overruns ${this.#buf.length} bytes`);
    }
    const out = new Uint8Array(this.#buf.buffer, this.#buf.byteOffset + this.#pos, len);
    this.#pos += len;
    return out;
  }

  /** Whether every byte was consumed. */
  atEnd(): boolean {
    return this.#pos >= this.#buf.length;
  }

  /** Throws unless every byte was consumed: trailing garbage means a different format. */
  end(): void {
    if (this.#pos !== this.#buf.length) {
      this.fail(`${this.#buf.length - this.#pos} trailing bytes after byte ${this.#pos}`);
    }
  }
}
