import * as http2 from "node:http2";
import type { Interceptor } from "@connectrpc/connect";
import { peerOnlyGuard, tokenAuthInterceptor, type TokenSet } from "./auth.js";

/**
 * TLS of one listener, as PEM: the server's certificate and key, and optionally the CA whose
 * signature a caller's certificate must carry (then a caller without one is refused during the
 * handshake: mutual TLS).
 */
export interface ServerTls {
  readonly cert: Uint8Array;
  readonly key: Uint8Array;
  readonly ca?: Uint8Array;
}

/**
 * What a listener serves (etcd's split of client and peer URLs):
 * - `all`: every service on one port (no security options: today's default);
 * - `client`: StoreService, ClusterService but Join and Relay, Health;
 * - `peer`: RaftService, ClusterService, Health, and StoreService for relayed writes (member
 *   traffic only: every caller holds a member certificate).
 */
export type ListenerRole = "all" | "client" | "peer";

/** The security of one listener. */
export interface ListenerSecurity {
  readonly role: ListenerRole;
  /** Absent: h2c (cleartext HTTP/2 with prior knowledge). */
  readonly tls?: ServerTls;
  /** Bearer tokens required on every call but health checks (client and all roles only). */
  readonly tokens?: TokenSet;
}

/** The security interceptors of a listener, outermost first. */
export function securityInterceptors(sec: ListenerSecurity): Interceptor[] {
  const out: Interceptor[] = [];
  switch (sec.role) {
    case "all":
      if (sec.tokens !== undefined) out.push(tokenAuthInterceptor(sec.tokens));
      break;
    case "client":
      if (sec.tokens !== undefined) out.push(tokenAuthInterceptor(sec.tokens));
      out.push(peerOnlyGuard);
      break;
    case "peer":
      // A client's token grants nothing here: members prove who they are with certificates.
      break;
    default: {
      const never: never = sec.role;
      throw new Error(`unknown listener role ${String(never)}`);
    }
  }
  return out;
}

/** The HTTP/2 servers a listener may be; both emit `connection` and `session`. */
export type H2Server = http2.Http2Server | http2.Http2SecureServer;

/**
 * Creates the HTTP/2 server of a listener: h2c without TLS; with TLS, h2 only (ALPN), TLS 1.2 at
 * least, and with a CA every caller must present a certificate it signed (RFC 8446 §4.3.2).
 */
export function createH2Server(
  handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  tls: ServerTls | undefined,
): H2Server {
  if (tls === undefined) return http2.createServer(handler);
  return http2.createSecureServer(
    {
      cert: Buffer.from(tls.cert),
      key: Buffer.from(tls.key),
      minVersion: "TLSv1.2",
      allowHTTP1: false,
      ...(tls.ca !== undefined
        ? { ca: Buffer.from(tls.ca), requestCert: true, rejectUnauthorized: true }
        : {}),
    },
    handler,
  );
}
