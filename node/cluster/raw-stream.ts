import * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";

/** How a raw stream ended, for the transport's report. */
export interface StreamEnd {
  /** Words for the log: the status, reset code or error. */
  readonly why: string;
  /** The peer does not know the method (an older member): fall back to unary Send. */
  readonly unimplemented: boolean;
}

/**
 * The sending side of one `RaftService.Stream` to a peer, written as gRPC frames straight onto
 * the HTTP/2 stream (node/api/raft-stream.ts reads them): a batch costs one `write`, with HTTP/2
 * flow control as the only backpressure. Frames wait here while the stream opens or while it
 * is full (until `drain`); {@link queued} counts the messages they hold, which the transport
 * bounds. `onEnd` is called once, however the stream ends.
 */
export class RaftStreamWriter {
  #h2: http2.ClientHttp2Stream | undefined;
  #waiting: { readonly count: number; readonly frame: Uint8Array }[] = [];
  #writable = false;
  #ending = false;
  #ended = false;
  #queued = 0;
  readonly #onEnd: (end: StreamEnd) => void;

  /** Starts writing to the stream `open` resolves to; `signal` cancels it. */
  constructor(
    open: Promise<http2.ClientHttp2Stream>,
    signal: AbortSignal,
    onRead: (s: http2.ClientHttp2Stream) => void,
    onEnd: (end: StreamEnd) => void,
  ) {
    this.#onEnd = onEnd;
    open.then(
      (h2) => {
        this.#attach(h2, signal, onRead);
      },
      (err: unknown) => {
        this.#end({ why: `open: ${String(err)}`, unimplemented: false });
      },
    );
  }

  /** Messages handed over but not yet written to the HTTP/2 stream. */
  get queued(): number {
    return this.#queued;
  }

  /** Sends a frame holding `count` messages (dropped once the stream ended: Raft resends). */
  push(count: number, frame: Uint8Array): void {
    if (this.#ended || this.#ending) return;
    if (this.#writable && this.#waiting.length === 0) this.#write(frame);
    else {
      this.#waiting.push({ count, frame });
      this.#queued += count;
    }
  }

  /** Ends the stream after what it holds. */
  end(): void {
    if (this.#ending || this.#ended) return;
    this.#ending = true;
    if (this.#h2 !== undefined && this.#waiting.length === 0) this.#h2.end();
  }

  /** Writes; false when HTTP/2 buffered past its mark (then wait for 'drain'). */
  #write(frame: Uint8Array): boolean {
    this.#writable = (this.#h2 as http2.ClientHttp2Stream).write(frame);
    return this.#writable;
  }

  #flush(): void {
    const h2 = this.#h2;
    if (h2 === undefined) return;
    this.#writable = true;
    for (let w = this.#waiting.shift(); w !== undefined; w = this.#waiting.shift()) {
      this.#queued -= w.count;
      if (!this.#write(w.frame)) break;
    }
    if (this.#ending && this.#waiting.length === 0) h2.end();
  }

  #attach(h2: http2.ClientHttp2Stream, signal: AbortSignal, onRead: (s: typeof h2) => void): void {
    this.#h2 = h2;
    let status: string | undefined;
    let message = "";
    let error: Error | undefined;
    const onAbort = (): void => {
      h2.close(http2.constants.NGHTTP2_CANCEL);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    const statusOf = (h: http2.IncomingHttpHeaders): void => {
      const s = h["grpc-status"];
      if (typeof s === "string") {
        status = s;
        message = decodeURIComponent(String(h["grpc-message"] ?? ""));
      }
    };
    h2.on("response", statusOf); // trailers-only: the peer refused at once
    h2.on("trailers", statusOf);
    h2.on("data", () => {
      onRead(h2);
    });
    h2.on("drain", () => {
      this.#flush();
    });
    // Recorded and reported by 'close' below (to the transport, which logs it).
    h2.on("error", (err: Error) => {
      error = err;
    });
    // The peer's side ended (a refusal comes before this side ends): close this side too;
    // 'close' then reports it.
    h2.once("end", () => {
      h2.close();
    });
    h2.once("close", () => {
      signal.removeEventListener("abort", onAbort);
      const why =
        status === "0"
          ? "the peer ended the stream"
          : status !== undefined
            ? `gRPC status ${status}: ${message}`
            : error !== undefined
              ? error.message
              : `reset (HTTP/2 code ${h2.rstCode})`;
      this.#end({ why, unimplemented: status === String(Code.Unimplemented) });
    });
    this.#flush();
  }

  #end(e: StreamEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#waiting = [];
    this.#queued = 0;
    this.#onEnd(e);
  }
}
