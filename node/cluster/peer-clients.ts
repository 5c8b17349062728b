import {
  createClient,
  type Client,
  type Interceptor,
  type Transport as ConnectTransport,
} from "@connectrpc/connect";
import type * as http2 from "node:http2";
import { connect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { Http2SessionManager, createConnectTransport } from "@connectrpc/connect-node";
import { RaftService } from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { ClusterService } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import { StoreService } from "../../proto/gen/juraft/store/v1/store_pb.js";
import { grpcContentType } from "../util/index.js";

/**
 * PEM material for mutual TLS between members: this member's certificate and key (presented to
 * the peers it dials) and the cluster CA that must have signed the peers' certificates.
 */
export interface PeerTls {
  readonly cert: Uint8Array;
  readonly key: Uint8Array;
  readonly ca: Uint8Array;
}

/** Opens the TCP (h2c) or TLS (h2 by ALPN, peer certificate verified) socket to a member. */
function dial(host: string, port: number, tls: PeerTls | undefined): Socket {
  if (tls === undefined) return connect({ host, port, noDelay: true });
  const socket = tlsConnect({
    host,
    port,
    ca: Buffer.from(tls.ca),
    cert: Buffer.from(tls.cert),
    key: Buffer.from(tls.key),
    ALPNProtocols: ["h2"],
    // SNI carries names only (RFC 6066 §3); the certificate is still checked against an IP.
    ...(isIP(host) === 0 ? { servername: host } : {}),
  });
  socket.setNoDelay(true);
  return socket;
}

/**
 * Connect clients to other members, one HTTP/2 connection per address (connect-node keeps one
 * session per transport), created lazily and reused.
 */
export class PeerClients {
  readonly #transports = new Map<
    string,
    { transport: ConnectTransport; sessions: Http2SessionManager }
  >();
  readonly #tls: PeerTls | undefined;
  readonly #interceptors: Interceptor[];

  /**
   * Clients over h2c, or over mutual TLS when `tls` is given (`--peer-tls-*`); `interceptors`
   * wrap every call (telemetry puts the trace context in headers).
   */
  constructor(o: { tls?: PeerTls; interceptors?: readonly Interceptor[] } = {}) {
    this.#tls = o.tls;
    this.#interceptors = [...(o.interceptors ?? [])];
  }

  /** The Raft client for `address` (host:port). */
  raft(address: string): Client<typeof RaftService> {
    return createClient(RaftService, this.#transport(address));
  }

  /** The store client for `address` (host:port): relayed writes. */
  store(address: string): Client<typeof StoreService> {
    return createClient(StoreService, this.#transport(address));
  }

  /** The cluster client for `address` (host:port). */
  cluster(address: string): Client<typeof ClusterService> {
    return createClient(ClusterService, this.#transport(address));
  }

  /**
   * Opens a raw HTTP/2 stream to `path` (a gRPC method) on the member at `address`, sharing the
   * Connect clients' connection, for callers that write gRPC frames themselves.
   */
  grpcStream(address: string, path: string): Promise<http2.ClientHttp2Stream> {
    return this.#entry(address).sessions.request(
      "POST",
      path,
      { "content-type": grpcContentType, te: "trailers" },
      {},
    );
  }

  /** Tells the connection's keep-alive that `stream` (from grpcStream) just received bytes. */
  responseRead(address: string, stream: http2.ClientHttp2Stream): void {
    this.#transports.get(address)?.sessions.notifyResponseByteRead(stream);
  }

  #transport(address: string): ConnectTransport {
    return this.#entry(address).transport;
  }

  #entry(address: string): { transport: ConnectTransport; sessions: Http2SessionManager } {
    let t = this.#transports.get(address);
    if (t === undefined) {
      const baseUrl = `${this.#tls === undefined ? "http" : "https"}://${address}`;
      // Our own session manager, so that close() ends the connection deterministically.
      const url = new URL(baseUrl);
      const sessions = new Http2SessionManager(
        baseUrl,
        { pingIntervalMs: 10_000, idleConnectionTimeoutMs: 60_000 },
        {
          // Raft messages are small and latency-bound: disable Nagle's algorithm.
          createConnection: () =>
            dial(url.hostname.replace(/^\[|\]$/g, ""), Number(url.port), this.#tls),
        },
      );
      const transport = createConnectTransport({
        baseUrl,
        httpVersion: "2",
        useBinaryFormat: true,
        sessionManager: sessions,
        interceptors: this.#interceptors,
      });
      t = { transport, sessions };
      this.#transports.set(address, t);
    }
    return t;
  }

  /** Closes the connection to `address`. */
  forget(address: string): void {
    this.#transports.get(address)?.sessions.abort();
    this.#transports.delete(address);
  }

  /** Closes every connection. */
  close(): void {
    for (const t of this.#transports.values()) t.sessions.abort();
    this.#transports.clear();
  }
}
