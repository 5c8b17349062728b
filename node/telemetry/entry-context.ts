import type { TraceCarrier } from "./tracing.js";

/**
 * Reading the W3C trace context out of a Raft entry without decoding the rest of it. An entry's
 * data is a `juraft.cluster.v1.Command` whose field 3 is `map<string,string> trace_context`; on
 * the wire a map is a repeated message {1: key, 2: value} (protobuf encoding guide, "Maps").
 * Followers read it before they apply (append spans), so skipping the ops bytes matters.
 */

const TRACE_CONTEXT_FIELD = 3;
/** 2^49: below it a 7-bit group still adds exactly to a double. */
const EXACT_SCALE = 562_949_953_421_312;
/** 2^63: a varint's 10th byte at most. */
const MAX_SCALE = 9_223_372_036_854_775_808;
const decoder = new TextDecoder();
const none: TraceCarrier = Object.freeze({});

/** A cursor over protobuf wire format; every read is bounds checked. */
class Wire {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end: number = buf.length,
  ) {}

  varint(): number {
    let result = 0;
    // 128^k as a running product: `2 ** shift` compiles to a call of the C library's pow().
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError("truncated varint");
      const b = this.buf[this.pos++] as number;
      // Lengths and tags fit in 2^53; higher bits of wide varints (int64 values) are dropped.
      if (scale < EXACT_SCALE) result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
      if (scale > MAX_SCALE) throw new RangeError("varint longer than 10 bytes");
    }
  }

  /** Skips a field of wire type `wt`. */
  skip(wt: number): void {
    switch (wt) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        // Read the length first: `this.pos += this.varint()` would add to the stale position.
        const len = this.varint();
        this.pos += len;
        break;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new RangeError(`unsupported wire type ${wt}`);
    }
    if (this.pos > this.end) throw new RangeError("truncated field");
  }

  /** Returns the [start, end) of a length-delimited field. */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new RangeError("truncated field");
    return [start, this.pos];
  }
}

function mapEntry(w: Wire, start: number, end: number): [string, string] {
  const e = new Wire(w.buf, end);
  e.pos = start;
  let key = "";
  let value = "";
  while (e.pos < end) {
    const tag = e.varint();
    const field = Math.floor(tag / 8);
    if ((tag & 7) === 2 && (field === 1 || field === 2)) {
      const [s, t] = e.bytes();
      const text = decoder.decode(w.buf.subarray(s, t));
      if (field === 1) key = text;
      else value = text;
    } else e.skip(tag & 7);
  }
  return [key, value];
}

/**
 * Returns the trace context stored in a Command's bytes (empty when there is none, or when the
 * bytes are not a Command: telemetry never fails an entry).
 */
export function traceContextOfCommand(data: Uint8Array): TraceCarrier {
  // Allocated only for an entry that has one (at a low ratio almost none do).
  let out: Record<string, string> | undefined;
  try {
    const w = new Wire(data);
    while (w.pos < w.end) {
      const tag = w.varint();
      if (Math.floor(tag / 8) === TRACE_CONTEXT_FIELD && (tag & 7) === 2) {
        const [s, t] = w.bytes();
        const [k, v] = mapEntry(w, s, t);
        (out ??= {})[k] = v;
      } else w.skip(tag & 7);
    }
  } catch (err) {
    if (err instanceof RangeError) return none;
    throw err;
  }
  return out ?? none;
}
