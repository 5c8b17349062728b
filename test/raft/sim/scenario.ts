import type { NodeSettings } from "./sim-node.js";
import type { NetworkFaults } from "./network.js";
import type { Rng } from "./rng.js";

/** Everything a seed decides about a run before it starts. */
export interface Scenario {
  readonly nodes: number;
  readonly chaosRounds: number;
  /** Rounds allowed after healing for a leader to commit a new write (liveness bound). */
  readonly healBound: number;
  readonly faults: NetworkFaults;
  readonly pCrash: number;
  readonly pPartition: number;
  readonly pMember: number;
  readonly pTransfer: number;
  readonly pWrite: number;
  readonly pRead: number;
  readonly snapshotEvery: number;
  readonly trailing: number;
  readonly settings: Omit<NodeSettings, "random">;
}

/** Draws a scenario: cluster size, fault rates and Raft settings all vary by seed. */
export function scenarioFor(rng: Rng): Scenario {
  const checkQuorum = rng.chance(0.75);
  const electionTick = rng.range(10, 20);
  const maxInflightMsgs = rng.pick([1, 2, 4, 256]);
  const maxSizePerMsg = rng.pick([32, 256, 4096, 1 << 20]);
  // A thin pipe (one small message in flight) replicates about one entry per round trip, slower
  // than clients propose: bound the leader's backlog as a real deployment would, or the log
  // outgrows replication and nothing new commits in bounded time.
  const thinPipe = maxInflightMsgs <= 2 && maxSizePerMsg <= 256;
  return {
    nodes: rng.range(3, 7),
    chaosRounds: 300,
    healBound: 40 * electionTick,
    faults: {
      dropRate: rng.pick([0, 0.02, 0.1, 0.2]),
      duplicateRate: rng.pick([0, 0.02, 0.05]),
      maxDelay: rng.range(0, 3),
    },
    pCrash: rng.pick([0, 0.005, 0.01, 0.02]),
    pPartition: rng.pick([0, 0.01, 0.02]),
    pMember: rng.pick([0, 0.01, 0.03, 0.05]),
    pTransfer: rng.pick([0, 0.005, 0.01]),
    pWrite: rng.pick([0.2, 0.5, 0.9]),
    pRead: rng.pick([0.05, 0.2]),
    snapshotEvery: rng.range(5, 60),
    trailing: rng.range(0, 10),
    settings: {
      electionTick,
      heartbeatTick: rng.range(1, 3),
      preVote: rng.chance(0.75),
      checkQuorum,
      readOnlyOption: checkQuorum && rng.chance(0.3) ? "leaseBased" : "safe",
      maxInflightMsgs,
      maxSizePerMsg,
      maxUncommittedEntriesSize: thinPipe ? 64 : rng.pick([0, 0, 64, 1024]),
    },
  };
}
