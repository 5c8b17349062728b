import type * as http2 from "node:http2";
import type { Client } from "@connectrpc/connect";
import type { ClusterService } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import type { StoreService } from "../../proto/gen/juraft/store/v1/store_pb.js";
import { SessionMux, grpcSessionOpener } from "../client/index.js";

/** Returns clients for a member's address. */
export interface ClusterClientPool {
  cluster(address: string): Client<typeof ClusterService>;
  store(address: string): Client<typeof StoreService>;
  /** A raw HTTP/2 stream to a gRPC method `path` of the member (session streams). */
  grpcStream(address: string, path: string): Promise<http2.ClientHttp2Stream>;
  /** Tells the connection's keep-alive that a stream of grpcStream received bytes. */
  responseRead(address: string, stream: http2.ClientHttp2Stream): void;
}

/**
 * One `StoreService.Session` per leader address for relayed writes (DESIGN.md §3 step 3): a
 * relayed call costs a message on a stream that stays open, not an RPC of its own.
 */
export class RelaySessions {
  readonly #pool: ClusterClientPool;
  readonly #sessions = new Map<string, SessionMux>();

  /** Relays over `pool`'s connections. */
  constructor(pool: ClusterClientPool) {
    this.#pool = pool;
  }

  /** The session to `address`, opened on first use. */
  to(address: string): SessionMux {
    let s = this.#sessions.get(address);
    if (s === undefined) {
      const pool = this.#pool;
      const streams = {
        request: (path: string) => pool.grpcStream(address, path),
        read: (stream: http2.ClientHttp2Stream) => {
          pool.responseRead(address, stream);
        },
      };
      s = new SessionMux(grpcSessionOpener(streams, address), address);
      this.#sessions.set(address, s);
    }
    return s;
  }

  /** Fails the calls in flight and closes every session. */
  close(): void {
    for (const s of this.#sessions.values()) s.close();
    this.#sessions.clear();
  }
}
