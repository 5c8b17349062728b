import { createClient, type Client, type Transport as ConnectTransport } from "@connectrpc/connect";
import { connect } from "node:net";
import { Http2SessionManager, createConnectTransport } from "@connectrpc/connect-node";
import { RaftService } from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { ClusterService } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";

/**
 * Connect clients to other members, one HTTP/2 connection per address (connect-node keeps one
 * session per transport), created lazily and reused.
 */
export class PeerClients {
  readonly #transports = new Map<
    string,
    { transport: ConnectTransport; sessions: Http2SessionManager }
  >();

  /** The Raft client for `address` (host:port). */
  raft(address: string): Client<typeof RaftService> {
    return createClient(RaftService, this.#transport(address));
  }

  /** The cluster client for `address` (host:port). */
  cluster(address: string): Client<typeof ClusterService> {
    return createClient(ClusterService, this.#transport(address));
  }

  #transport(address: string): ConnectTransport {
    let t = this.#transports.get(address);
    if (t === undefined) {
      const baseUrl = `http://${address}`;
      // Our own session manager, so that close() ends the connection deterministically.
      const url = new URL(baseUrl);
      const sessions = new Http2SessionManager(
        baseUrl,
        { pingIntervalMs: 10_000, idleConnectionTimeoutMs: 60_000 },
        {
          // Raft messages are small and latency-bound: disable Nagle's algorithm.
          createConnection: () =>
            connect({
              host: url.hostname.replace(/^\[|\]$/g, ""),
              port: Number(url.port),
              noDelay: true,
            }),
        },
      );
      const transport = createConnectTransport({
        baseUrl,
        httpVersion: "2",
        useBinaryFormat: true,
        sessionManager: sessions,
      });
      t = { transport, sessions };
      this.#transports.set(address, t);
    }
    return t.transport;
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
