/**
 * Finding peers (DESIGN.md §8): static endpoint lists, DNS discovery through A/AAAA or SRV
 * records of a (headless) Service, StatefulSet ordinals and the pure bootstrap decision.
 */
import { promises as dns } from "node:dns";
import { isIP, isIPv4, isIPv6 } from "node:net";
import { Code } from "@connectrpc/connect";
import {
  DiscoveryReason,
  badEndpoint,
  badName,
  dnsError,
  isDnsNotFound,
} from "./discovery-errors.js";
import { searchCandidates, systemSearch, type DnsSearch } from "./dns-search.js";
import { ClusterError } from "./errors.js";

/** The cluster API port used when an endpoint or a DNS answer names none. */
export const DEFAULT_PORT = 7070;

/** A peer address: an IP literal or a DNS name (lower case, no trailing dot), and a port. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, with IPv6 literals in brackets (the inverse of one {@link parseEndpoints} item). */
export function formatEndpoint(e: Endpoint): string {
  return isIPv6(e.host) ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/**
 * Parses `host:port,host:port` (IPv4, `[IPv6]:port`, DNS names; port defaults to 7070), keeping
 * the order (clients try endpoints in turn) and dropping repeats. Throws a ClusterError
 * `invalid_argument` / BAD_ENDPOINT naming the first bad item.
 */
export function parseEndpoints(text: string, options: { defaultPort?: number } = {}): Endpoint[] {
  const items = text.split(",").map((s) => s.trim());
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  items.forEach((item, i) => {
    const e = parseEndpoint(item, i, options.defaultPort ?? DEFAULT_PORT);
    const key = formatEndpoint(e);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(e);
    }
  });
  return out;
}

function parseEndpoint(item: string, i: number, defaultPort: number): Endpoint {
  if (item === "") throw badEndpoint(item, i, "empty item");
  let host: string;
  let portText: string | undefined;
  if (item.startsWith("[")) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(item);
    if (m === null) throw badEndpoint(item, i, "unterminated or misplaced IPv6 bracket");
    host = m[1] ?? "";
    portText = m[2];
    if (!isIPv6(host)) throw badEndpoint(item, i, `${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colons = item.split(":").length - 1;
    if (colons > 1) throw badEndpoint(item, i, "an IPv6 address must be in brackets");
    const at = item.indexOf(":");
    host = at < 0 ? item : item.slice(0, at);
    portText = at < 0 ? undefined : item.slice(at + 1);
    const why = hostProblem(host);
    if (why !== undefined) throw badEndpoint(item, i, why);
    host = normalizeName(host);
  }
  const port = portText === undefined ? defaultPort : parsePort(portText);
  if (port === undefined) {
    throw badEndpoint(item, i, `port ${JSON.stringify(portText)} is not an integer in 1..65535`);
  }
  return { host, port };
}

function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** Why `host` is neither an IPv4 address nor a DNS name, or undefined when it is one. */
function hostProblem(host: string): string | undefined {
  if (host === "") return "empty host";
  if (isIPv4(host)) return undefined;
  // A name of digits and dots that is not an IPv4 address is a typo, not a hostname.
  if (/^[0-9.]+$/.test(host)) return `${JSON.stringify(host)} is not a valid IPv4 address`;
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (name.length > 253) return "host name longer than 253 characters";
  const bad = name.split(".").find((l) => !LABEL.test(l));
  if (bad !== undefined) return `${JSON.stringify(bad)} is not a valid DNS label`;
  return undefined;
}

/** DNS names compare case-insensitively and with or without the root dot: keep one spelling. */
function normalizeName(host: string): string {
  if (isIP(host) !== 0) return host;
  const lower = host.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** The subset of `dns.promises.Resolver` discovery uses (a custom one points at test servers). */
export type PeerResolver = Pick<dns.Resolver, "resolveSrv" | "resolve4" | "resolve6">;

/** Options of {@link resolvePeers}. */
export interface ResolvePeersOptions {
  /** Default: a `dns.promises.Resolver` on the system's servers (never `dns.lookup`). */
  readonly resolver?: PeerResolver;
  /** Port for A/AAAA answers (SRV answers carry their own); default 7070. */
  readonly port?: number;
  /** Aborting rejects with the abort reason. */
  readonly signal?: AbortSignal;
  /** The search list applied to `name` (default: this host's /etc/resolv.conf). */
  readonly search?: DnsSearch;
}

/**
 * Resolves `name` to peer endpoints, sorted and de-duplicated. A `_service._proto.` name is
 * resolved as SRV only (targets are stable host names: DESIGN.md §6); any other name tries SRV
 * first (a Kubernetes headless Service answers it) and falls back to A and AAAA records.
 * SRV priority and weight are ignored: every target is a peer.
 * Throws ClusterError `not_found` (DNS_NOT_FOUND) or `unavailable` (DNS_UNAVAILABLE) naming the
 * name and the record type, `invalid_argument` (BAD_DNS_NAME), or the signal's abort reason.
 * @example
 * const peers = await resolvePeers("juraft-peers.prod.svc.cluster.local", { signal });
 */
export async function resolvePeers(
  name: string,
  options: ResolvePeersOptions = {},
): Promise<Endpoint[]> {
  const why = hostProblem(name);
  if (why !== undefined || isIP(name) !== 0) {
    throw badName(name, why ?? "an IP address is not a name to discover peers by");
  }
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw badName(name, `port ${port} is not an integer in 1..65535`);
  }
  const resolver = options.resolver ?? new dns.Resolver({ timeout: 2000, tries: 2 });
  const signal = options.signal;
  signal?.throwIfAborted();
  // The search list, as every other program on the host applies it (dns-search.ts): the first
  // candidate that exists answers; a failure other than "not found" stops the search.
  const candidates = searchCandidates(name, options.search ?? systemSearch());
  let first: ClusterError | undefined;
  for (const candidate of candidates) {
    try {
      return await resolveName(candidate, resolver, port, signal);
    } catch (err) {
      if (!(err instanceof ClusterError) || err.reason !== DiscoveryReason.notFound) throw err;
      first ??= err;
    }
  }
  if (candidates.length === 1 && first !== undefined) throw first;
  throw new ClusterError(
    Code.NotFound,
    DiscoveryReason.notFound,
    `resolve ${JSON.stringify(name)}: no records for any of ${candidates.map((c) => JSON.stringify(c)).join(", ")} (the search list applied)`,
    { cause: first },
  );
}

async function resolveName(
  name: string,
  resolver: PeerResolver,
  port: number,
  signal: AbortSignal | undefined,
): Promise<Endpoint[]> {
  const srvOnly = /^_[^.]+\._[^.]+\./.test(name);
  try {
    const srv = await abortable(resolver.resolveSrv(name), signal);
    const found = srv
      .filter((r) => r.name !== "" && r.name !== ".") // "." = service explicitly unavailable
      .map((r) => ({ host: normalizeName(r.name), port: r.port }));
    if (found.length > 0 || srvOnly) return sortUnique(found, name, "SRV");
  } catch (e) {
    if (signal?.aborted === true) throw signal.reason;
    if (srvOnly || !isDnsNotFound(e)) throw dnsError(name, "SRV", e);
  }
  return sortUnique(await resolveAddresses(resolver, name, port, signal), name, "A/AAAA");
}

async function resolveAddresses(
  resolver: PeerResolver,
  name: string,
  port: number,
  signal: AbortSignal | undefined,
): Promise<Endpoint[]> {
  const [v4, v6] = await Promise.allSettled([
    abortable(resolver.resolve4(name), signal),
    abortable(resolver.resolve6(name), signal),
  ]);
  if (signal?.aborted === true) throw signal.reason;
  const hosts = [v4, v6].flatMap((r) => (r.status === "fulfilled" ? r.value : []));
  if (hosts.length > 0) return hosts.map((host) => ({ host, port }));
  // Prefer the failure that says "retry" over "no records": a timeout on A hides nothing.
  const errors = [v4, v6].flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  const retryable = errors.find((e) => !isDnsNotFound(e));
  const err: ClusterError = dnsError(name, "A/AAAA", retryable ?? errors[0]);
  throw err;
}

function sortUnique(found: readonly Endpoint[], name: string, type: string): Endpoint[] {
  if (found.length === 0) throw dnsError(name, type, { code: "ENODATA" });
  const byKey = new Map(found.map((e) => [formatEndpoint(e), e]));
  const collator = new Intl.Collator("en", { numeric: true });
  return [...byKey.values()].sort((a, b) =>
    isIPv6(a.host) === isIPv6(b.host) // IPv4 and names first, then IPv6
      ? collator.compare(a.host, b.host) || a.port - b.port
      : isIPv6(a.host)
        ? 1
        : -1,
  );
}

/** Races `p` against `signal` (the resolver query itself runs to its own timeout). */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => {
      signal.removeEventListener("abort", onAbort);
    });
  });
}

/**
 * The StatefulSet ordinal of a pod host name (`juraft-3` or `juraft-3.peers.ns.svc` -> 3), or
 * undefined when the first label does not end in `-<decimal>`.
 */
export function ordinalOf(hostname: string): number | undefined {
  const label = hostname.split(".")[0] ?? "";
  const m = /^.*[^-]-(0|[1-9][0-9]{0,8})$/.exec(label);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** What a starting node knows when it decides how to enter the cluster (DESIGN.md §8). */
export interface BootstrapInput {
  /** The StatefulSet ordinal ({@link ordinalOf}), undefined outside a StatefulSet. */
  readonly ordinal: number | undefined;
  /** Explicitly designated to bootstrap (e.g. `juraft serve` with no peers), whatever the ordinal. */
  readonly designated?: boolean;
  /** The data directory holds Raft state (any log, hard state or snapshot). */
  readonly hasData: boolean;
  /** A cluster id has been recorded for this cluster (by the operator or an earlier bootstrap). */
  readonly clusterIdRecorded: boolean;
  /** Discovery reached a peer that already serves a cluster. */
  readonly peersFound: boolean;
  /** With data: whether its cluster id is the recorded one (undefined = nothing to compare). */
  readonly dataClusterIdMatches?: boolean;
}

/** The decision: form a new cluster, join an existing one, resume from data, or refuse to start. */
export type BootstrapDecision =
  | { readonly action: "bootstrap" }
  | { readonly action: "join" }
  | { readonly action: "restart" }
  | { readonly action: "refuse"; readonly reason: string };

/**
 * Decides how a node enters the cluster (DESIGN.md §8). A node with data restarts from it and
 * never re-bootstraps (unless the data belongs to another cluster: refuse). Only ordinal 0 or the
 * designated node bootstraps, only with empty data, only while no cluster id is recorded and no
 * peer already serves one. Everyone else joins (retrying until a leader answers).
 */
export function bootstrapDecision(input: BootstrapInput): BootstrapDecision {
  if (input.hasData) {
    if (input.dataClusterIdMatches === false) {
      return {
        action: "refuse",
        reason:
          "start node: the data directory belongs to another cluster (its cluster id differs " +
          "from the recorded one); a stale volume must be wiped before this node can join",
      };
    }
    return { action: "restart" };
  }
  const eligible = input.designated === true || input.ordinal === 0;
  if (eligible && !input.clusterIdRecorded && !input.peersFound) return { action: "bootstrap" };
  // An eligible node that lost its data must not form a second cluster: it joins as a new member.
  return { action: "join" };
}
