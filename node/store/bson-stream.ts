/**
 * Splits a stream of byte chunks into BSON documents (snapshot restore, mongodump `.bson` files:
 * both are concatenated documents). Chunk boundaries may fall anywhere.
 */
import { decodeDoc } from "./bson-decode.js";
import { badInput } from "./errors.js";
import type { Doc } from "./values.js";

/** Incremental decoder: `push` chunks, get back every document completed so far. */
export class BsonStreamDecoder {
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;

  /** Adds a chunk; returns the documents it completes, in order. */
  push(chunk: Uint8Array): Doc[] {
    const rest = this.#buf.length - this.#pos;
    if (rest === 0) {
      this.#buf = chunk;
    } else {
      const next = new Uint8Array(rest + chunk.length);
      next.set(this.#buf.subarray(this.#pos));
      next.set(chunk, rest);
      this.#buf = next;
    }
    this.#pos = 0;
    const out: Doc[] = [];
    for (;;) {
      const avail = this.#buf.length - this.#pos;
      if (avail < 4) break;
      const b = this.#buf;
      const p = this.#pos;
      const size =
        ((b[p] ?? 0) |
          ((b[p + 1] ?? 0) << 8) |
          ((b[p + 2] ?? 0) << 16) |
          ((b[p + 3] ?? 0) << 24)) >>>
        0;
      if (size < 5 || size > 0x7fffffff)
        badInput("BAD_BSON", `decode BSON stream: bad document length ${size}`);
      if (avail < size) break;
      out.push(decodeDoc(b.subarray(p, p + size)));
      this.#pos += size;
    }
    return out;
  }

  /** True when no partial document is buffered. */
  get idle(): boolean {
    return this.#buf.length === this.#pos;
  }
}

/** Decodes a whole stream of concatenated documents. */
export function* decodeStream(chunks: Iterable<Uint8Array>): Generator<Doc> {
  const dec = new BsonStreamDecoder();
  for (const c of chunks) yield* dec.push(c);
  if (!dec.idle) badInput("BAD_BSON", "decode BSON stream: truncated document at the end");
}
