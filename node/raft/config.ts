import { RaftError, RaftErrorCode } from "./errors.js";
import { discardLogger, type RaftLogger } from "./logger.js";
import type { ReadOnlyOption } from "./read-only.js";
import type { Storage } from "./storage.js";
import type { GroupId, Index, NodeId } from "./types.js";

/** Returns an integer in [0, n); injected so that the core stays deterministic. */
export type RandomInt = (n: number) => number;

/** Everything a Raft node is configured with. Durations are in ticks. */
export interface RaftConfig {
  /** This node's id; never 0. */
  readonly id: NodeId;
  /** The Raft group; 1 by default. */
  readonly group?: GroupId;
  /** Ticks without hearing from a leader before campaigning; randomized in [e, 2e). Default 10. */
  readonly electionTick?: number;
  /** Ticks between leader heartbeats; must be < electionTick. Default 1. */
  readonly heartbeatTick?: number;
  /** The persisted log. */
  readonly storage: Storage;
  /** The last index applied to the state machine before this start (default: snapshot index). */
  readonly applied?: Index;
  /** Max bytes of entries per append message. Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** Max bytes of committed entries handed out per Ready. Default 8 MiB. */
  readonly maxCommittedSizePerReady?: number;
  /** Max bytes of uncommitted entry payloads on the leader before proposals are dropped. 0 = none. */
  readonly maxUncommittedEntriesSize?: number;
  /** Max append messages in flight per follower (flow control). Default 256. */
  readonly maxInflightMsgs?: number;
  /** Max bytes in flight per follower; 0 = no limit. Default 0. */
  readonly maxInflightBytes?: number;
  /** Leader steps down without contact from a quorum for an election timeout. Default true. */
  readonly checkQuorum?: boolean;
  /** Campaign with a pre-vote round first (thesis §9.6). Default true. */
  readonly preVote?: boolean;
  /** How reads are served. Default "safe". "leaseBased" requires checkQuorum. */
  readonly readOnlyOption?: ReadOnlyOption;
  /** A leader removed from (or demoted in) the configuration steps down. Default true. */
  readonly stepDownOnRemoval?: boolean;
  /** The injected random source for election timeouts. */
  readonly random: RandomInt;
  /** The injected logger. */
  readonly logger?: RaftLogger;
}

/** A configuration with every default filled in. */
export type ResolvedRaftConfig = Required<Omit<RaftConfig, "applied">> & {
  readonly applied: Index | undefined;
};

/** Fills defaults and validates `config`; throws INVALID_CONFIG naming the bad field. */
export function resolveConfig(config: RaftConfig): ResolvedRaftConfig {
  const resolved: ResolvedRaftConfig = {
    id: config.id,
    group: config.group ?? 1n,
    electionTick: config.electionTick ?? 10,
    heartbeatTick: config.heartbeatTick ?? 1,
    storage: config.storage,
    applied: config.applied,
    maxSizePerMsg: config.maxSizePerMsg ?? 1024 * 1024,
    maxCommittedSizePerReady: config.maxCommittedSizePerReady ?? 8 * 1024 * 1024,
    maxUncommittedEntriesSize: config.maxUncommittedEntriesSize ?? 0,
    maxInflightMsgs: config.maxInflightMsgs ?? 256,
    maxInflightBytes: config.maxInflightBytes ?? 0,
    checkQuorum: config.checkQuorum ?? true,
    preVote: config.preVote ?? true,
    readOnlyOption: config.readOnlyOption ?? "safe",
    stepDownOnRemoval: config.stepDownOnRemoval ?? true,
    random: config.random,
    logger: config.logger ?? discardLogger,
  };
  const fail = (message: string): never => {
    throw new RaftError(
      RaftErrorCode.InvalidConfig,
      `cannot configure raft node ${config.id}: ${message}`,
    );
  };
  if (resolved.id === 0n) fail("id must not be 0");
  if (resolved.id < 0n || resolved.id >= 1n << 64n) fail("id must be an unsigned 64-bit value");
  if (!Number.isInteger(resolved.heartbeatTick) || resolved.heartbeatTick <= 0) {
    fail(`heartbeatTick must be a positive integer, got ${resolved.heartbeatTick}`);
  }
  if (!Number.isInteger(resolved.electionTick) || resolved.electionTick <= resolved.heartbeatTick) {
    fail(
      `electionTick (${resolved.electionTick}) must be an integer greater than heartbeatTick (${resolved.heartbeatTick})`,
    );
  }
  if (resolved.maxInflightMsgs <= 0)
    fail(`maxInflightMsgs must be positive, got ${resolved.maxInflightMsgs}`);
  if (resolved.maxSizePerMsg <= 0)
    fail(`maxSizePerMsg must be positive, got ${resolved.maxSizePerMsg}`);
  if (resolved.readOnlyOption === "leaseBased" && !resolved.checkQuorum) {
    fail('readOnlyOption "leaseBased" requires checkQuorum');
  }
  return resolved;
}
