/**
 * Classifies a failed request: `fail` when the node certainly did not propose it (refused before
 * the log: invalid, no leader, not the leader, the node not running, the connection refused),
 * `info` otherwise (a timeout or a lost connection after sending: it may still commit).
 */
import { Code, ConnectError } from "@connectrpc/connect";

const definite = [
  /cannot propose at node/,
  /no leader known/,
  /not the leader/,
  /ECONNREFUSED/,
  /the node is (starting|stopped|failed|stopping)/,
];

/** `fail` (definitely not applied) or `info` (indeterminate) for an error of Apply. */
export function classify(err: unknown): "fail" | "info" {
  const ce = ConnectError.from(err);
  if (
    ce.code === Code.InvalidArgument ||
    ce.code === Code.FailedPrecondition ||
    ce.code === Code.ResourceExhausted
  )
    return "fail";
  const text = `${ce.message} ${err instanceof Error && err.cause instanceof Error ? err.cause.message : ""}`;
  return definite.some((re) => re.test(text)) ? "fail" : "info";
}

/** A short description of an error for the history. */
export function brief(err: unknown): string {
  const ce = ConnectError.from(err);
  return `${Code[ce.code]}: ${ce.rawMessage.slice(0, 160)}`;
}
