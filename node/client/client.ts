import { randomUUID } from "node:crypto";
import {
  Code,
  ConnectError,
  createClient,
  type CallOptions,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { Http2SessionManager, createConnectTransport } from "@connectrpc/connect-node";
import {
  ClusterService,
  type StatusResponse,
} from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import {
  ApplyRequestSchema,
  Consistency,
  GetRequestSchema,
  Outcome,
  StoreService,
  type ApplyResponse,
  type WatchEvent,
} from "../../proto/gen/juraft/store/v1/store_pb.js";
import { create } from "@bufbuild/protobuf";
import { grpcSessionOpener, managerStreams } from "./grpc-session.js";
import { SessionMux } from "./session.js";
import { decodeDoc, encodeDoc, toDoc, toValue, type Doc, type Value } from "../store/index.js";
import { noClientTelemetry, type ClientTelemetry } from "../telemetry/client-telemetry.js";

/** Read consistency (DESIGN.md §4). */
export type ReadConsistency = "quorum" | "local";

/** Options of a client. */
export interface ClientOptions {
  /** host:port of nodes, tried in turn. */
  readonly endpoints: readonly string[];
  /** Attempts per call across endpoints before giving up. Default 3 rounds of all endpoints. */
  readonly attempts?: number;
  /** Per-call deadline. Default 10 s. */
  readonly timeoutMs?: number;
  /**
   * Talk TLS (h2 over TLS) instead of h2c: `ca` verifies the nodes' certificates (default: the
   * system's CAs); `cert` and `key` are this client's certificate for nodes that require one.
   */
  readonly tls?: {
    readonly ca?: Uint8Array;
    readonly cert?: Uint8Array;
    readonly key?: Uint8Array;
  };
  /** A bearer token sent with every call (nodes started with `--auth-token-file`). */
  readonly token?: string;
  /**
   * Send writes to the leader when it is one of `endpoints` (default true); false sends them to
   * the current endpoint, which relays them.
   */
  readonly routeWritesToLeader?: boolean;
  /** CLIENT spans whose W3C context travels in the headers (`juraft --trace`). Default: none. */
  readonly telemetry?: ClientTelemetry;
}

/** What the client knows of the leader's endpoint. */
interface LeaderGuess {
  readonly endpoint?: string;
  /** When this guess was made (a failed guess is retried after LEADER_RETRY_MS). */
  readonly since: number;
  readonly asking?: Promise<void>;
}

const noLeader = (since: number): LeaderGuess => ({ since });

/** How long to wait before asking for the leader again after not finding it. */
const LEADER_RETRY_MS = 1000;

/** The outcome of a transaction. */
export type TxnOutcome =
  | {
      readonly outcome: "applied";
      readonly index: bigint;
      readonly revnos: readonly bigint[];
      readonly txnId: string;
      readonly duplicate: boolean;
    }
  | {
      readonly outcome: "aborted";
      readonly index: bigint;
      readonly opIndex: number;
      readonly reason: string;
      readonly assert: Value | undefined;
      readonly txnId: string;
      readonly duplicate: boolean;
    };

const retryable = new Set([
  Code.Unavailable,
  Code.DeadlineExceeded,
  Code.Unknown,
  Code.Internal,
  Code.Canceled,
]);

/**
 * A juraft client: tries endpoints in turn, moves on when a node is unavailable, and retries a
 * transaction with the same txn id so that a retry never applies twice (idempotency table).
 */
export class JuraftClient implements AsyncDisposable {
  readonly #endpoints: readonly string[];
  readonly #transports = new Map<string, Transport>();
  readonly #sessions: Http2SessionManager[] = [];
  readonly #managers = new Map<string, Http2SessionManager>();
  /** Headers of raw gRPC streams (sessions): what the interceptors add to Connect calls. */
  readonly #headers: Readonly<Record<string, string>>;
  readonly #stores = new Map<string, Client<typeof StoreService>>();
  readonly #clusters = new Map<string, Client<typeof ClusterService>>();
  readonly #muxes = new Map<string, SessionMux>();
  readonly #attempts: number;
  readonly #timeoutMs: number;
  readonly #tls: ClientOptions["tls"];
  readonly #interceptors: Interceptor[];
  readonly #tel: ClientTelemetry;
  #current = 0;
  readonly #routeWrites: boolean;
  #leader: LeaderGuess = noLeader(0);

  /** Creates a client; no connection is made until the first call. */
  constructor(o: ClientOptions) {
    if (o.endpoints.length === 0) throw new Error("create client: no endpoints given");
    this.#endpoints = o.endpoints;
    this.#attempts = o.attempts ?? 3 * o.endpoints.length;
    this.#timeoutMs = o.timeoutMs ?? 10_000;
    this.#tls = o.tls;
    this.#tel = o.telemetry ?? noClientTelemetry;
    this.#interceptors = [
      ...this.#tel.interceptors,
      ...(o.token === undefined ? [] : [bearer(o.token)]),
    ];
    this.#routeWrites = o.routeWritesToLeader ?? true;
    this.#headers = o.token === undefined ? {} : { authorization: `Bearer ${o.token}` };
  }

  #transport(endpoint: string): Transport {
    let t = this.#transports.get(endpoint);
    if (t === undefined) {
      const tls = this.#tls;
      const baseUrl = `${tls === undefined ? "http" : "https"}://${endpoint}`;
      // Our own session manager, so that close() ends the connection deterministically.
      const sessionManager = new Http2SessionManager(
        baseUrl,
        undefined,
        tls === undefined
          ? undefined
          : {
              ...(tls.ca !== undefined ? { ca: Buffer.from(tls.ca) } : {}),
              ...(tls.cert !== undefined ? { cert: Buffer.from(tls.cert) } : {}),
              ...(tls.key !== undefined ? { key: Buffer.from(tls.key) } : {}),
            },
      );
      this.#sessions.push(sessionManager);
      this.#managers.set(endpoint, sessionManager);
      t = createConnectTransport({
        baseUrl,
        httpVersion: "2",
        useBinaryFormat: true,
        sessionManager,
        interceptors: this.#interceptors,
      });
      this.#transports.set(endpoint, t);
    }
    return t;
  }

  /** Closes every connection. */
  close(): void {
    for (const m of this.#muxes.values()) m.close();
    this.#muxes.clear();
    for (const s of this.#sessions) s.abort();
    this.#sessions.length = 0;
    this.#managers.clear();
    this.#transports.clear();
    this.#stores.clear();
    this.#clusters.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** The StoreService client for the current endpoint. */
  store(endpoint = this.#endpoints[this.#current] as string): Client<typeof StoreService> {
    let c = this.#stores.get(endpoint);
    if (c === undefined) {
      c = createClient(StoreService, this.#transport(endpoint));
      this.#stores.set(endpoint, c);
    }
    return c;
  }

  /** The ClusterService client for `endpoint` (default: the current one). */
  cluster(endpoint = this.#endpoints[this.#current] as string): Client<typeof ClusterService> {
    let c = this.#clusters.get(endpoint);
    if (c === undefined) {
      c = createClient(ClusterService, this.#transport(endpoint));
      this.#clusters.set(endpoint, c);
    }
    return c;
  }

  /** The multiplexed session to `endpoint` that carries apply and get. */
  #mux(endpoint: string): SessionMux {
    let m = this.#muxes.get(endpoint);
    if (m === undefined) {
      this.#transport(endpoint);
      const streams = managerStreams(
        this.#managers.get(endpoint) as Http2SessionManager,
        this.#headers,
      );
      m = new SessionMux(grpcSessionOpener(streams, endpoint), endpoint);
      this.#muxes.set(endpoint, m);
    }
    return m;
  }

  async #call<T>(
    fn: (endpoint: string, call: CallOptions) => Promise<T>,
    signal?: AbortSignal,
    retried?: () => void,
    prefer?: string,
  ): Promise<T> {
    // Connect's own deadline: cheaper than a timeout signal linked to the caller's per call.
    const call: CallOptions = {
      timeoutMs: this.#timeoutMs,
      ...(signal !== undefined ? { signal } : {}),
    };
    let last: unknown;
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      signal?.throwIfAborted();
      const endpoint =
        attempt === 0 && prefer !== undefined ? prefer : (this.#endpoints[this.#current] as string);
      try {
        return await fn(endpoint, call);
      } catch (err) {
        const ce = ConnectError.from(err);
        if (!retryable.has(ce.code) || signal?.aborted === true) throw ce;
        last = ce;
        retried?.();
        if (endpoint === this.#leader.endpoint) this.#leader = noLeader(Date.now());
        if (endpoint === prefer) continue;
        this.#current = (this.#current + 1) % this.#endpoints.length;
        if (attempt + 1 >= this.#endpoints.length)
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * (attempt + 1))));
      }
    }
    throw last;
  }

  /** The leader's endpoint as this client last learned it (writes go there), if known. */
  get leaderEndpoint(): string | undefined {
    return this.#leader.endpoint;
  }

  /**
   * The endpoint to send writes to: the leader's, when it is one of this client's endpoints
   * (MongoDB drivers send writes to the primary likewise). A write sent to a follower is
   * relayed, which costs the cluster a second hop; this saves it. Learned with GetRaftLeader,
   * forgotten when a call to it fails; undefined (use any endpoint) while unknown.
   */
  #writeEndpoint(): string | undefined {
    if (!this.#routeWrites || this.#endpoints.length < 2) return undefined;
    const l = this.#leader;
    if (l.endpoint !== undefined) return l.endpoint;
    if (l.asking === undefined && Date.now() - l.since >= LEADER_RETRY_MS) {
      const asking = this.leaderAddress(AbortSignal.timeout(this.#timeoutMs)).then(
        (address) => {
          if (this.#leader.asking !== asking) return;
          const known = this.#endpoints.includes(address);
          this.#leader = known ? { endpoint: address, since: Date.now() } : noLeader(Date.now());
        },
        () => {
          if (this.#leader.asking === asking) this.#leader = noLeader(Date.now());
        },
      );
      this.#leader = { since: l.since, asking };
    }
    return undefined;
  }

  /** Applies a transaction (a list of mgo/txn ops); retries keep the same txn id. */
  async apply(
    ops: readonly unknown[],
    opts: { txnId?: string; signal?: AbortSignal } = {},
  ): Promise<TxnOutcome> {
    const txnId = opts.txnId ?? randomUUID();
    const bytes = encodeDoc(toDoc({ ops }, "ops"));
    const res = await this.#tel.call(
      "juraft.client.apply",
      { "juraft.txn.id": txnId, "juraft.txn.op_count": ops.length },
      (retried) =>
        this.#call(
          (e, call) =>
            this.#mux(e).apply(create(ApplyRequestSchema, { txnId, ops: bytes }), {
              timeoutMs: this.#timeoutMs,
              signal: call.signal,
              traceContext: this.#tel.carrier(),
            }),
          opts.signal,
          retried,
          this.#writeEndpoint(),
        ),
    );
    return outcomeOf(res);
  }

  /** Reads a document by `_id`. */
  async get(
    collection: string,
    id: unknown,
    opts: { consistency?: ReadConsistency; signal?: AbortSignal } = {},
  ): Promise<{ doc: Doc | undefined; revno: bigint; appliedIndex: bigint }> {
    const idBytes = encodeDoc(new Map([["_id", toValue(id, "_id", 2)]]));
    const res = await this.#call(
      (e, call) =>
        this.#mux(e).get(
          create(GetRequestSchema, {
            collection,
            id: idBytes,
            consistency: consistencyOf(opts.consistency),
          }),
          { timeoutMs: this.#timeoutMs, signal: call.signal, traceContext: this.#tel.carrier() },
        ),
      opts.signal,
    );
    return {
      doc: res.found ? decodeDoc(res.document) : undefined,
      revno: res.revno,
      appliedIndex: res.appliedIndex,
    };
  }

  /** Finds documents. */
  async find(
    collection: string,
    opts: {
      filter?: unknown;
      projection?: unknown;
      sort?: unknown;
      skip?: number;
      limit?: number;
      consistency?: ReadConsistency;
      signal?: AbortSignal;
    } = {},
  ): Promise<{ docs: Doc[]; appliedIndex: bigint }> {
    const enc = (v: unknown, f: string): Uint8Array =>
      v === undefined ? new Uint8Array(0) : encodeDoc(toDoc(v, f));
    const res = await this.#call(
      (e, signal) =>
        this.store(e).find(
          {
            collection,
            filter: enc(opts.filter, "filter"),
            projection: enc(opts.projection, "projection"),
            sort: enc(opts.sort, "sort"),
            skip: BigInt(opts.skip ?? 0),
            limit: BigInt(opts.limit ?? 0),
            consistency: consistencyOf(opts.consistency),
          },
          signal,
        ),
      opts.signal,
    );
    return { docs: res.documents.map((d) => decodeDoc(d)), appliedIndex: res.appliedIndex };
  }

  /** Counts documents. */
  async count(
    collection: string,
    opts: { filter?: unknown; consistency?: ReadConsistency; signal?: AbortSignal } = {},
  ): Promise<bigint> {
    const filter =
      opts.filter === undefined ? new Uint8Array(0) : encodeDoc(toDoc(opts.filter, "filter"));
    const res = await this.#call(
      (e, signal) =>
        this.store(e).count(
          { collection, filter, consistency: consistencyOf(opts.consistency) },
          signal,
        ),
      opts.signal,
    );
    return res.count;
  }

  /** Lists collection names. */
  async listCollections(
    opts: { consistency?: ReadConsistency; signal?: AbortSignal } = {},
  ): Promise<string[]> {
    const res = await this.#call(
      (e, signal) =>
        this.store(e).listCollections({ consistency: consistencyOf(opts.consistency) }, signal),
      opts.signal,
    );
    return res.names;
  }

  /** Streams change events from the current endpoint (no failover once streaming). */
  async *watch(
    opts: {
      collections?: string[];
      ids?: unknown[];
      fromIndex?: bigint;
      signal?: AbortSignal;
    } = {},
  ): AsyncIterable<WatchEvent> {
    const ids =
      opts.ids === undefined ? new Uint8Array(0) : encodeDoc(toDoc({ ids: opts.ids }, "ids"));
    const stream = this.store().watch(
      {
        collections: opts.collections ?? [],
        ids,
        ...(opts.fromIndex !== undefined ? { fromIndex: opts.fromIndex } : {}),
      },
      opts.signal === undefined ? {} : { signal: opts.signal },
    );
    for await (const res of stream) yield* res.events;
  }

  /** The status of the current endpoint's node. */
  status(opts: { signal?: AbortSignal } = {}): Promise<StatusResponse> {
    return this.#call((e, signal) => this.cluster(e).status({}, signal), opts.signal);
  }

  /**
   * Returns the client address of the leader, asking the endpoints in turn. Members know each
   * other by their peer address, which is not the client port on a node with a separate peer
   * listener: then the endpoint whose node id is the leader's is returned.
   */
  async leaderAddress(signal?: AbortSignal): Promise<string> {
    const r = await this.#call(async (e, s) => {
      const r = await this.cluster(e).getRaftLeader({}, s);
      if (!r.known) throw new ConnectError(`no leader known at ${e}`, Code.Unavailable);
      return r;
    }, signal);
    if (this.#endpoints.includes(r.leaderAddress)) return r.leaderAddress;
    for (const e of this.#endpoints) {
      signal?.throwIfAborted();
      try {
        const st = await this.cluster(e).status(
          {},
          { timeoutMs: this.#timeoutMs, ...(signal !== undefined ? { signal } : {}) },
        );
        if (st.nodeId === r.leaderId) return e;
      } catch (err) {
        if (signal?.aborted === true) throw err;
        // Unreachable: the leader may be another endpoint.
      }
    }
    return r.leaderAddress;
  }
}

/** A client interceptor sending `authorization: Bearer <token>` (RFC 6750 §2.1). */
/** Adds the bearer token to Connect calls (raw session streams send it in their headers). */
function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

function consistencyOf(c: ReadConsistency | undefined): Consistency {
  return c === "local" ? Consistency.LOCAL : Consistency.QUORUM;
}

function outcomeOf(r: ApplyResponse): TxnOutcome {
  if (r.outcome === Outcome.APPLIED) {
    return {
      outcome: "applied",
      index: r.index,
      revnos: r.revnos,
      txnId: r.txnId,
      duplicate: r.duplicate,
    };
  }
  const a = r.aborted;
  return {
    outcome: "aborted",
    index: r.index,
    opIndex: a?.opIndex ?? 0,
    reason: a?.reason ?? "",
    assert:
      a === undefined || a.assert.length === 0 ? undefined : decodeDoc(a.assert).get("assert"),
    txnId: r.txnId,
    duplicate: r.duplicate,
  };
}
