import type { Index, NodeId } from "../types.js";

/** The outcome of an election or of any other vote counted by a quorum. */
export type VoteResult = "pending" | "lost" | "won";

/** The set of voters of one half of a configuration. */
export type MajorityConfig = ReadonlySet<NodeId>;

/**
 * A configuration as Raft counts it: the incoming voters, and the outgoing voters while in a
 * joint configuration (empty otherwise). Decisions need a majority of each (thesis §4.3).
 */
export type JointConfig = readonly [incoming: MajorityConfig, outgoing: MajorityConfig];

/** Answers the highest acknowledged index of a voter, or undefined if it acknowledged none. */
export type AckedIndexer = (id: NodeId) => Index | undefined;

/**
 * Returns the largest index acknowledged by a majority of `voters` (Raft paper §5.3). An empty
 * configuration returns +Infinity so that it never constrains a joint configuration.
 */
export function majorityCommittedIndex(voters: MajorityConfig, acked: AckedIndexer): Index {
  const n = voters.size;
  if (n === 0) return Number.POSITIVE_INFINITY;
  if (n === 1) {
    for (const id of voters) return acked(id) ?? 0;
  }
  const indexes: Index[] = [];
  for (const id of voters) indexes.push(acked(id) ?? 0);
  indexes.sort((a, b) => b - a);
  // The (n/2+1)-th largest value is acknowledged by a majority.
  return indexes[Math.floor(n / 2)] as Index;
}

/** Returns the result of a vote among `voters`; `votes` maps voters that answered to their vote. */
export function majorityVoteResult(
  voters: MajorityConfig,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  // An empty configuration wins every vote, so that a joint config depends on the other half.
  if (voters.size === 0) return "won";
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return "won";
  if (granted + missing >= quorum) return "pending";
  return "lost";
}

/** Returns the largest index committed by both halves of a joint configuration. */
export function jointCommittedIndex(config: JointConfig, acked: AckedIndexer): Index {
  const a = majorityCommittedIndex(config[0], acked);
  const b = majorityCommittedIndex(config[1], acked);
  return Math.min(a, b);
}

/** Returns the result of a vote in a joint configuration: won only if both halves won. */
export function jointVoteResult(
  config: JointConfig,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const a = majorityVoteResult(config[0], votes);
  const b = majorityVoteResult(config[1], votes);
  if (a === b) return a;
  if (a === "lost" || b === "lost") return "lost";
  return "pending";
}

/** Returns every voter of a joint configuration, each once, in ascending order. */
export function jointVoterIds(config: JointConfig): NodeId[] {
  const ids = new Set<NodeId>([...config[0], ...config[1]]);
  return sortIds(ids);
}

/** Returns `ids` sorted ascending. */
export function sortIds(ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
