import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { ClusterService } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import { reasonHeader } from "./errors.js";

/** Services a health probe reaches without credentials (Kubernetes gRPC probes send none). */
const openServices = new Set(["grpc.health.v1.Health"]);

/** Cluster methods only members call: never served on the client port of a split node. */
const peerOnlyMethods = new Set(
  [ClusterService.method.join, ClusterService.method.relay].map(
    (m) => `${ClusterService.typeName}/${m.name}`,
  ),
);

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * The bearer tokens a node accepts (`--auth-token-file`: one per line; blank lines and lines
 * starting with `#` are ignored). Only their SHA-256 digests are kept.
 */
export class TokenSet {
  readonly #digests: readonly Buffer[];

  private constructor(digests: readonly Buffer[]) {
    this.#digests = digests;
  }

  /** Parses a token file's text; throws when it holds no token (it would lock every client out). */
  static parse(text: string, source: string): TokenSet {
    const tokens = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    if (tokens.length === 0) throw new Error(`read tokens from ${source}: the file holds no token`);
    for (const t of tokens) {
      if (/\s/.test(t)) throw new Error(`read tokens from ${source}: a token contains a space`);
    }
    return new TokenSet(tokens.map(digest));
  }

  /** True when `token` is one of the set; compares every digest in constant time. */
  accepts(token: string): boolean {
    const d = digest(token);
    let ok = false;
    for (const k of this.#digests) ok = timingSafeEqual(k, d) || ok;
    return ok;
  }

  /** The number of tokens. */
  get size(): number {
    return this.#digests.length;
  }
}

function refuse(code: Code, reason: string, message: string): ConnectError {
  return new ConnectError(message, code, { [reasonHeader]: reason });
}

/**
 * Refuses a call whose `authorization` header (`header`, absent as null or undefined) holds no
 * token of `tokens`: Unauthenticated, reason NO_TOKEN or BAD_TOKEN; `what` names the call. The
 * token itself is never echoed.
 */
export function checkBearer(
  tokens: TokenSet,
  header: string | null | undefined,
  what: string,
): void {
  if (header === null || header === undefined) {
    throw refuse(
      Code.Unauthenticated,
      "NO_TOKEN",
      `${what}: this node requires a bearer token (juraft --token or JURAFT_TOKEN)`,
    );
  }
  const m = /^Bearer ([^\s]+)$/i.exec(header.trim());
  if (m === null || !tokens.accepts(m[1] as string)) {
    throw refuse(Code.Unauthenticated, "BAD_TOKEN", `${what}: the bearer token is not accepted`);
  }
}

/**
 * A server interceptor requiring `authorization: Bearer <token>` with a token of `tokens` on
 * every call but health checks (RFC 6750 §2.1), as {@link checkBearer} says.
 */
export function tokenAuthInterceptor(tokens: TokenSet): Interceptor {
  return (next) => (req) => {
    if (openServices.has(req.service.typeName)) return next(req);
    checkBearer(
      tokens,
      req.header.get("authorization"),
      `call ${req.service.typeName}/${req.method.name}`,
    );
    return next(req);
  };
}

/**
 * A server interceptor for a client port that has a separate peer port: member-only cluster
 * methods (Join, Relay) are refused with PermissionDenied, reason PEER_ONLY, whatever credential
 * the caller holds. (RaftService is not routed on a client port at all.)
 */
export const peerOnlyGuard: Interceptor = (next) => (req) => {
  const name = `${req.service.typeName}/${req.method.name}`;
  if (peerOnlyMethods.has(name)) {
    throw refuse(
      Code.PermissionDenied,
      "PEER_ONLY",
      `call ${name}: a member-only method, served on the peer port only`,
    );
  }
  return next(req);
};
