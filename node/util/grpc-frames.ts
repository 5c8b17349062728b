/**
 * gRPC's length-prefixed messages on an HTTP/2 stream (gRPC over HTTP/2, "Length-Prefixed-
 * Message": a compressed flag byte, a 4-byte big-endian length, the message). Used where juraft
 * speaks the gRPC protocol on a raw stream instead of through Connect's stream pipeline (Raft
 * traffic between members), so a message costs a write, not a chain of async iterators.
 */

/** gRPC's content type for protobuf messages. */
export const grpcContentType = "application/grpc+proto";

/** The 5-byte prefix of a frame. */
export const FRAME_HEADER_BYTES = 5;

/** Why a frame stream cannot be read. */
export class FrameError extends Error {
  override readonly name = "FrameError";
  /** `compressed` (juraft negotiates no compression) or `too_large`. */
  readonly reason: "compressed" | "too_large";

  /** An error; `message` names what was read and what was wrong. */
  constructor(reason: "compressed" | "too_large", message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Writes the frame header of a `length`-byte uncompressed message at `out[at..at+5)`. */
export function writeFrameHeader(out: Uint8Array, at: number, length: number): void {
  out[at] = 0;
  out[at + 1] = (length >>> 24) & 0xff;
  out[at + 2] = (length >>> 16) & 0xff;
  out[at + 3] = (length >>> 8) & 0xff;
  out[at + 4] = length & 0xff;
}

/** The gRPC frame of a protobuf message `bytes` (a copy after the 5-byte prefix). */
export function frameOf(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + bytes.length);
  writeFrameHeader(out, 0, bytes.length);
  out.set(bytes, FRAME_HEADER_BYTES);
  return out;
}

/** The frame of an empty message (e.g. an empty protobuf response). */
export const emptyFrame: Uint8Array = new Uint8Array(FRAME_HEADER_BYTES);

/**
 * Splits the bytes of a stream into messages, across chunk boundaries. Messages are views into
 * the chunks when they lie within one (no copy), else copies.
 */
export class FrameReader {
  readonly #maxBytes: number;
  readonly #what: string;
  /** Bytes received but not yet returned as a message. */
  #parts: Uint8Array[] = [];
  #partBytes = 0;
  /** Bytes #parts must hold before a message can complete (header, then header + length). */
  #need = FRAME_HEADER_BYTES;

  /** A reader refusing messages over `maxBytes`; `what` names the stream in errors. */
  constructor(maxBytes: number, what: string) {
    this.#maxBytes = maxBytes;
    this.#what = what;
  }

  /** Takes the next chunk; returns the messages it completed, in order. Throws FrameError. */
  push(chunk: Uint8Array): Uint8Array[] {
    let buf = chunk;
    if (this.#partBytes > 0) {
      this.#parts.push(chunk);
      this.#partBytes += chunk.length;
      // A large message arrives in many chunks: join them once, when it is complete.
      if (this.#partBytes < this.#need) return [];
      buf = concat(this.#parts, this.#partBytes);
      this.#parts = [];
      this.#partBytes = 0;
    }
    const out: Uint8Array[] = [];
    let pos = 0;
    for (;;) {
      const left = buf.length - pos;
      if (left < FRAME_HEADER_BYTES) {
        this.#need = FRAME_HEADER_BYTES;
        break;
      }
      const length = this.#header(buf, pos);
      if (left < FRAME_HEADER_BYTES + length) {
        this.#need = FRAME_HEADER_BYTES + length;
        break;
      }
      const start = pos + FRAME_HEADER_BYTES;
      out.push(buf.subarray(start, start + length));
      pos = start + length;
    }
    if (pos < buf.length) {
      this.#parts.push(buf.subarray(pos));
      this.#partBytes = buf.length - pos;
    }
    return out;
  }

  /** Checks the header at `pos` and returns the message length. */
  #header(buf: Uint8Array, pos: number): number {
    const flag = buf[pos] as number;
    const length =
      (buf[pos + 1] as number) * 0x1000000 +
      (((buf[pos + 2] as number) << 16) |
        ((buf[pos + 3] as number) << 8) |
        (buf[pos + 4] as number));
    if (flag !== 0)
      throw new FrameError(
        "compressed",
        `read ${this.#what}: a message with flags ${flag} (no compression was negotiated)`,
      );
    if (length > this.#maxBytes)
      throw new FrameError(
        "too_large",
        `read ${this.#what}: a message of ${length} bytes, over the limit of ${this.#maxBytes}`,
      );
    return length;
  }

  /** Bytes of an incomplete message still held (non-zero when a stream ends: truncated). */
  get pending(): number {
    return this.#partBytes;
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
