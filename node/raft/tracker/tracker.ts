import {
  jointCommittedIndex,
  jointVoteResult,
  jointVoterIds,
  sortIds,
  type JointConfig,
  type VoteResult,
} from "../quorum/index.js";
import type { ConfState, Index, NodeId } from "../types.js";
import type { Progress } from "./progress.js";

/**
 * A membership configuration (thesis §4.3): voters (joint while `voters[1]` is non-empty),
 * learners, and learners-to-be that are still voters in the outgoing half.
 * Invariants: learners ∩ voters = ∅; learnersNext ⊆ voters[1] \ voters[0].
 */
export interface TrackerConfig {
  readonly voters: JointConfig;
  readonly autoLeave: boolean;
  readonly learners: ReadonlySet<NodeId>;
  readonly learnersNext: ReadonlySet<NodeId>;
}

/** Returns the ConfState describing `config`. */
export function confStateOf(config: TrackerConfig): ConfState {
  return {
    voters: sortIds(config.voters[0]),
    votersOutgoing: sortIds(config.voters[1]),
    learners: sortIds(config.learners),
    learnersNext: sortIds(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

/** Returns whether `config` is joint. */
export function isJoint(config: TrackerConfig): boolean {
  return config.voters[1].size > 0;
}

/** Returns a short description like `voters=(1 2 3)&&(1 2) learners=(4)`. */
export function describeConfig(config: TrackerConfig): string {
  const list = (s: ReadonlySet<NodeId>): string => `(${sortIds(s).join(" ")})`;
  let out = `voters=${list(config.voters[0])}`;
  if (isJoint(config)) out += `&&${list(config.voters[1])}`;
  if (config.learners.size > 0) out += ` learners=${list(config.learners)}`;
  if (config.learnersNext.size > 0) out += ` learners_next=${list(config.learnersNext)}`;
  if (config.autoLeave) out += " autoleave";
  return out;
}

/** The result of counting votes. */
export interface VoteTally {
  readonly granted: number;
  readonly rejected: number;
  readonly result: VoteResult;
}

/** The leader's (or candidate's) view of the configuration, follower progress and votes. */
export class ProgressTracker {
  config: TrackerConfig;
  progress: Map<NodeId, Progress>;
  readonly votes = new Map<NodeId, boolean>();

  /** Creates a tracker over an existing configuration and progress map. */
  constructor(config: TrackerConfig, progress: Map<NodeId, Progress>) {
    this.config = config;
    this.progress = progress;
  }

  /** Returns the index committed by the current configuration (thesis §4.3 for joint). */
  committed(): Index {
    return jointCommittedIndex(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  /** Returns whether the configuration has exactly one voter and is not joint. */
  isSingleton(): boolean {
    return this.config.voters[0].size === 1 && this.config.voters[1].size === 0;
  }

  /** Returns every voter (both halves) in ascending order. */
  voterIds(): NodeId[] {
    return jointVoterIds(this.config.voters);
  }

  /** Returns whether `id` is a voter in either half. */
  isVoter(id: NodeId): boolean {
    return this.config.voters[0].has(id) || this.config.voters[1].has(id);
  }

  /**
   * Returns every member with progress, in ascending id order (deterministic iteration). Cached:
   * configuration changes replace the progress map rather than mutate it.
   */
  memberIds(): readonly NodeId[] {
    const cached = this.#memberIds;
    if (cached?.progress === this.progress && cached.ids.length === this.progress.size)
      return cached.ids;
    const ids = sortIds(this.progress.keys());
    this.#memberIds = { progress: this.progress, ids };
    return ids;
  }

  #memberIds: { progress: Map<NodeId, Progress>; ids: NodeId[] } | undefined;

  /** Returns whether a quorum of voters was recently active (check-quorum, thesis §6.2). */
  quorumActive(self: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      votes.set(id, id === self || pr.recentActive);
    }
    return jointVoteResult(this.config.voters, votes) === "won";
  }

  /** Forgets all votes. */
  resetVotes(): void {
    this.votes.clear();
  }

  /** Records `id`'s vote unless it already voted. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Counts the votes cast by voters so far. */
  tallyVotes(): VoteTally {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }
}
