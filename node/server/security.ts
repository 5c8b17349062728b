import { readFile } from "node:fs/promises";
import { TokenSet } from "../api/auth.js";
import type { ListenerSecurity, ServerTls } from "../api/tls.js";
import { failedPrecondition } from "../cluster/errors.js";
import type { PeerTls } from "../cluster/peer-clients.js";

/**
 * The security of a node (README, Security). With none of it, one h2c port serves clients and
 * members alike. With any of it, members talk on a separate peer listener, as etcd's peer URLs.
 */
export interface NodeSecurity {
  /** TLS of the client port; with `ca`, clients must present a certificate it signed. */
  readonly clientTls?: ServerTls;
  /** Mutual TLS between members: this node's certificate (server and client) and the cluster CA. */
  readonly peerTls?: PeerTls;
  /** Bearer tokens required from clients. */
  readonly tokens?: TokenSet;
}

/** Paths of the certificate, key and token files (`juraft serve --tls-* --peer-tls-* ...`). */
export interface SecurityFiles {
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsCa?: string;
  readonly peerTlsCert?: string;
  readonly peerTlsKey?: string;
  readonly peerTlsCa?: string;
  readonly authTokenFile?: string;
}

async function read(path: string, what: string, signal?: AbortSignal): Promise<Buffer> {
  try {
    return await readFile(path, signal === undefined ? {} : { signal });
  } catch (err) {
    throw failedPrecondition(
      "BAD_SECURITY_FILE",
      `read ${what} ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** True when any security option is set (the node then needs a separate peer listener). */
export function isSecured(s: NodeSecurity | undefined): boolean {
  return s !== undefined && (s.clientTls ?? s.peerTls ?? s.tokens) !== undefined;
}

/**
 * Reads the files named by the flags. A certificate needs its key (and the reverse); peer TLS
 * needs all three of certificate, key and CA, since members must authenticate each other.
 */
export async function loadSecurity(f: SecurityFiles, signal?: AbortSignal): Promise<NodeSecurity> {
  if ((f.tlsCert === undefined) !== (f.tlsKey === undefined))
    throw failedPrecondition("BAD_SECURITY_FILE", "load TLS: --tls-cert and --tls-key go together");
  if (f.tlsCa !== undefined && f.tlsCert === undefined)
    throw failedPrecondition(
      "BAD_SECURITY_FILE",
      "load TLS: --tls-ca needs --tls-cert and --tls-key",
    );
  const peer = [f.peerTlsCert, f.peerTlsKey, f.peerTlsCa];
  if (peer.some((p) => p !== undefined) && peer.some((p) => p === undefined))
    throw failedPrecondition(
      "BAD_SECURITY_FILE",
      "load peer TLS: --peer-tls-cert, --peer-tls-key and --peer-tls-ca go together",
    );
  let clientTls: ServerTls | undefined;
  if (f.tlsCert !== undefined && f.tlsKey !== undefined) {
    clientTls = {
      cert: await read(f.tlsCert, "--tls-cert", signal),
      key: await read(f.tlsKey, "--tls-key", signal),
      ...(f.tlsCa !== undefined ? { ca: await read(f.tlsCa, "--tls-ca", signal) } : {}),
    };
  }
  let peerTls: PeerTls | undefined;
  if (f.peerTlsCert !== undefined && f.peerTlsKey !== undefined && f.peerTlsCa !== undefined) {
    peerTls = {
      cert: await read(f.peerTlsCert, "--peer-tls-cert", signal),
      key: await read(f.peerTlsKey, "--peer-tls-key", signal),
      ca: await read(f.peerTlsCa, "--peer-tls-ca", signal),
    };
  }
  let tokens: TokenSet | undefined;
  if (f.authTokenFile !== undefined) {
    const text = (await read(f.authTokenFile, "--auth-token-file", signal)).toString("utf8");
    try {
      tokens = TokenSet.parse(text, f.authTokenFile);
    } catch (err) {
      throw failedPrecondition("BAD_SECURITY_FILE", (err as Error).message);
    }
  }
  return {
    ...(clientTls !== undefined ? { clientTls } : {}),
    ...(peerTls !== undefined ? { peerTls } : {}),
    ...(tokens !== undefined ? { tokens } : {}),
  };
}

/** The listeners of a node: one shared, or a client and a peer listener. */
export function listenersOf(
  s: NodeSecurity | undefined,
  split: boolean,
  what: string,
): { client: ListenerSecurity; peer?: ListenerSecurity } {
  if (!split) {
    if (isSecured(s))
      throw failedPrecondition(
        "SHARED_PORT",
        `${what}: TLS and tokens need a separate peer listener (--peer-listen), so that member traffic never shares the client port`,
      );
    return { client: { role: "all" } };
  }
  const client: ListenerSecurity = {
    role: "client",
    ...(s?.clientTls !== undefined ? { tls: s.clientTls } : {}),
    ...(s?.tokens !== undefined ? { tokens: s.tokens } : {}),
  };
  const peer: ListenerSecurity = {
    role: "peer",
    ...(s?.peerTls !== undefined ? { tls: s.peerTls } : {}),
  };
  return { client, peer };
}
