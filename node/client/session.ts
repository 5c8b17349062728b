import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  SessionCallSchema,
  SessionRequestSchema,
  type ApplyRequest,
  type ApplyResponse,
  type GetRequest,
  type GetResponse,
  type SessionCall,
  type SessionResult,
} from "../../proto/gen/juraft/store/v1/store_pb.js";
import { reasonHeader } from "../util/index.js";
import { codeOf, type SessionOpener, type SessionStream } from "./grpc-session.js";

/** Options of one session call. */
export interface SessionCallOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly traceContext?: Record<string, string>;
  readonly relayed?: boolean;
}

interface Pending {
  readonly resolve: (r: SessionResult) => void;
  readonly reject: (e: unknown) => void;
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

/** How often expired calls are failed: one timer per session, not one per call. */
const SWEEP_MS = 100;

/**
 * Many Apply and Get calls over one `StoreService.Session` stream (DESIGN.md §3): calls made in
 * the same event-loop turn travel in one message, and results come back batched and out of
 * order, matched by id. A broken stream fails every call in flight with UNAVAILABLE (the
 * caller retries elsewhere with the same txn id); the next call opens a new stream.
 */
export class SessionMux {
  readonly #open: SessionOpener;
  readonly #name: string;
  readonly #pending = new Map<bigint, Pending>();
  #outbox: SessionCall[] = [];
  #flushing = false;
  #nextId = 1n;
  #stream: SessionStream | undefined;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** A session over streams `open` opens; `name` (the endpoint) appears in errors. */
  constructor(open: SessionOpener, name: string) {
    this.#open = open;
    this.#name = name;
  }

  /** Applies a transaction through the session; rejects with a ConnectError as Apply would. */
  async apply(req: ApplyRequest, o: SessionCallOptions): Promise<ApplyResponse> {
    const r = await this.#call({ case: "apply", value: req }, o);
    if (r.result.case !== "apply") throw mismatch(this.#name, "apply", r.result.case);
    return r.result.value;
  }

  /** Reads a document through the session; rejects with a ConnectError as Get would. */
  async get(req: GetRequest, o: SessionCallOptions): Promise<GetResponse> {
    const r = await this.#call({ case: "get", value: req }, o);
    if (r.result.case !== "get") throw mismatch(this.#name, "get", r.result.case);
    return r.result.value;
  }

  /** Fails every call in flight and ends the stream; later calls fail at once. */
  close(): void {
    this.#closed = true;
    this.#teardown(new ConnectError(`session to ${this.#name} closed`, Code.Canceled));
  }

  #call(call: SessionCall["call"], o: SessionCallOptions): Promise<SessionResult> {
    if (this.#closed)
      return Promise.reject(new ConnectError(`session to ${this.#name} closed`, Code.Canceled));
    o.signal?.throwIfAborted();
    const id = this.#nextId++;
    return new Promise<SessionResult>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      if (o.signal !== undefined) {
        const signal = o.signal;
        onAbort = () => {
          this.#settle(id)?.reject(ConnectError.from(signal.reason, Code.Canceled));
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      this.#pending.set(id, {
        resolve,
        reject,
        deadline: Date.now() + o.timeoutMs,
        signal: o.signal,
        onAbort,
      });
      this.#outbox.push(
        create(SessionCallSchema, {
          id,
          call,
          traceContext: o.traceContext ?? {},
          relayed: o.relayed ?? false,
        }),
      );
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    // setImmediate, not a microtask: every call made in this turn of the event loop (e.g. by
    // all the callers a batch of results just woke) goes into the same message.
    setImmediate(() => {
      this.#flushing = false;
      const calls = this.#outbox;
      this.#outbox = [];
      if (calls.length > 0) this.#ensureStream().send(create(SessionRequestSchema, { calls }));
    });
  }

  #ensureStream(): SessionStream {
    if (this.#stream !== undefined) return this.#stream;
    this.#sweeper ??= setInterval(() => {
      this.#sweep();
    }, SWEEP_MS);
    this.#sweeper.unref();
    const stream: SessionStream = this.#open({
      onResponse: (res) => {
        for (const r of res.results) this.#deliver(r);
      },
      onEnd: (err) => {
        if (this.#stream === stream) this.#teardown(err);
      },
    });
    this.#stream = stream;
    return stream;
  }

  #deliver(r: SessionResult): void {
    const p = this.#settle(r.id);
    if (p === undefined) return; // timed out or canceled meanwhile
    if (r.result.case === "error") {
      const e = r.result.value;
      p.reject(new ConnectError(e.message, codeOf(e.code), { [reasonHeader]: e.reason }));
    } else {
      p.resolve(r);
    }
  }

  /** Removes a call from the pending table, detaching its abort listener. */
  #settle(id: bigint): Pending | undefined {
    const p = this.#pending.get(id);
    if (p === undefined) return undefined;
    this.#pending.delete(id);
    if (p.onAbort !== undefined) p.signal?.removeEventListener("abort", p.onAbort);
    return p;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.#pending) {
      if (p.deadline > now) continue;
      this.#settle(id);
      p.reject(new ConnectError(`call to ${this.#name} timed out`, Code.DeadlineExceeded));
    }
    if (this.#pending.size === 0 && this.#stream === undefined && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #teardown(err: unknown): void {
    const s = this.#stream;
    this.#stream = undefined;
    this.#outbox = []; // their callers are failed below; they must not run later unawaited
    s?.abort();
    for (const id of [...this.#pending.keys()]) this.#settle(id)?.reject(err);
    if (this.#closed && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}

function mismatch(name: string, want: string, got: string | undefined): ConnectError {
  return new ConnectError(
    `session to ${name}: a ${want} call was answered with ${got ?? "nothing"}`,
    Code.Internal,
  );
}
