import type * as http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ClusterService } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import { Health } from "../../proto/gen/grpc/health/v1/health_pb.js";
import { RaftService } from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { StoreService } from "../../proto/gen/juraft/store/v1/store_pb.js";
import { clusterService } from "./cluster-service.js";
import { telemetryOf, type ApiContext } from "./context.js";
import { errorInterceptor } from "./errors.js";
import { healthService } from "./health-service.js";
import { raftService } from "./raft-service.js";
import { isRaftStream, serveRaftStream } from "./raft-stream.js";
import { isSessionStream, serveSessionStream } from "./session-stream.js";
import { storeService } from "./store-service.js";
import { createH2Server, securityInterceptors, type ListenerSecurity } from "./tls.js";

/** A listening API server (Connect, gRPC and gRPC-Web on one h2c port). */
export interface ApiServer extends AsyncDisposable {
  /** The bound address (host:port). */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Starts serving on `host:port` (port 0 picks one) the services of `security.role` (default:
 * every service, h2c, no credentials).
 */
export async function startServer(
  ctx: ApiContext,
  opts: {
    host: string;
    port: number;
    maxRequestBytes?: number;
    security?: ListenerSecurity;
    signal?: AbortSignal;
  },
): Promise<ApiServer> {
  const security = opts.security ?? { role: "all" };
  const maxBytes = opts.maxRequestBytes ?? 64 * 1024 * 1024;
  const routes = (router: ConnectRouter): void => {
    // Also on the peer port: members relay writes to the leader over StoreService.Session
    // there (only holders of a member certificate reach it).
    router.service(StoreService, storeService(ctx));
    router.service(ClusterService, clusterService(ctx));
    if (security.role !== "client") router.service(RaftService, raftService(ctx));
    router.service(Health, healthService(ctx));
  };
  const handler = connectNodeAdapter({
    routes,
    // Tracing outermost: its span covers the whole call and sees the mapped error codes.
    interceptors: [
      ...telemetryOf(ctx).interceptors,
      errorInterceptor,
      ...securityInterceptors(security),
    ],
    // Loopback and LAN traffic: gzip costs more CPU than it saves (it showed in profiles).
    acceptCompression: [],
    readMaxBytes: maxBytes,
  });
  // Raft streams and sessions (every write and read of juraft's clients, every relayed write)
  // skip Connect: node/api/raft-stream.ts, session-stream.ts. Raft streams only where the
  // listener asks nothing of a caller but what TLS already checked (not on a client port, not
  // where every call needs a token: there the Connect path refuses them, as it always did).
  const rawRaft =
    security.role === "peer" || (security.role === "all" && security.tokens === undefined);
  const sessionTokens = security.role === "peer" ? undefined : security.tokens;
  const server = createH2Server((req, res) => {
    if (isSessionStream(req))
      serveSessionStream(ctx, { maxBytes, tokens: sessionTokens }, req, res);
    else if (rawRaft && isRaftStream(req)) serveRaftStream(ctx, maxBytes, req, res);
    else handler(req, res);
  }, security.tls);
  // Raft answers are small and latency-bound: do not let Nagle's algorithm hold them back.
  server.on("connection", (socket: Socket) => socket.setNoDelay(true));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      // Let in-flight calls finish, then end sessions that long streams (watchers) keep open.
      for (const s of sessions) s.close();
      setTimeout(() => {
        for (const s of sessions) s.destroy();
      }, 1000).unref();
    });
    return closed;
  };
  return { address: `${host}:${addr.port}`, close, [Symbol.asyncDispose]: close };
}
