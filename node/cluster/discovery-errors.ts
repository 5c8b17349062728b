/**
 * Coded errors of peer discovery (DESIGN.md §8): each names the action, the input and the state,
 * and carries the DNS error code (ENOTFOUND, ETIMEOUT, ...) as its cause.
 */
import { Code } from "@connectrpc/connect";
import { ClusterError } from "./errors.js";

/** Stable reasons of discovery errors. */
export const DiscoveryReason = {
  /** An item of an endpoint list is malformed. */
  badEndpoint: "BAD_ENDPOINT",
  /** The name to resolve is not a DNS name. */
  badName: "BAD_DNS_NAME",
  /** NXDOMAIN / no records of the asked type (ENOTFOUND, ENODATA). */
  notFound: "DNS_NOT_FOUND",
  /** The DNS server timed out, refused or failed: retry later. */
  unavailable: "DNS_UNAVAILABLE",
} as const;
/** One of {@link DiscoveryReason}. */
export type DiscoveryReason = (typeof DiscoveryReason)[keyof typeof DiscoveryReason];

/** The error for item `index` (0-based) of an endpoint list. */
export function badEndpoint(item: string, index: number, why: string): ClusterError {
  return new ClusterError(
    Code.InvalidArgument,
    DiscoveryReason.badEndpoint,
    `parse endpoint ${index + 1} ${JSON.stringify(item)}: ${why} (expected host:port, ` +
      `IPv4:port or [IPv6]:port)`,
  );
}

/** The error for a name that cannot be resolved because it is not a DNS name. */
export function badName(name: string, why: string): ClusterError {
  return new ClusterError(
    Code.InvalidArgument,
    DiscoveryReason.badName,
    `resolve peers ${JSON.stringify(name)}: ${why}`,
  );
}

/** DNS error codes meaning "the name or the records do not exist". */
const NOT_FOUND = new Set(["ENOTFOUND", "ENODATA", "ENONAME", "NXDOMAIN"]);

/** True when `err` is a DNS "no such name / no such records" error. */
export function isDnsNotFound(err: unknown): boolean {
  return NOT_FOUND.has(dnsCode(err));
}

/** The `code` property of a DNS error, or "UNKNOWN". */
export function dnsCode(err: unknown): string {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") {
    return err.code;
  }
  return "UNKNOWN";
}

/** Converts a resolver error for `name`/`type` into a coded error (NOT_FOUND or UNAVAILABLE). */
export function dnsError(name: string, type: string, err: unknown): ClusterError {
  const code = dnsCode(err);
  const found = NOT_FOUND.has(code);
  return new ClusterError(
    found ? Code.NotFound : Code.Unavailable,
    found ? DiscoveryReason.notFound : DiscoveryReason.unavailable,
    `resolve ${type} records of ${JSON.stringify(name)}: ` +
      (found ? `no such records (${code})` : `DNS server did not answer (${code}); retry later`),
    { cause: err },
  );
}
