import { ConnectError } from "@connectrpc/connect";
import { delay } from "../cluster/clock.js";
import { formatEndpoint, type Endpoint } from "../cluster/discovery.js";
import type { PeerClients } from "../cluster/peer-clients.js";
import type { NodeId, RaftLogger } from "../raft/index.js";

/** A leader found through an endpoint. */
export interface LeaderInfo {
  readonly id: NodeId;
  readonly address: string;
  readonly clusterId: string;
}

const probeTimeoutMs = 2000;

/**
 * Asks each endpoint in turn who leads (the seed's GetRaftLeader discovery). Returns the first
 * leader known, or undefined when no endpoint knows one (or none answers).
 */
export async function probeForCluster(
  clients: PeerClients,
  endpoints: readonly Endpoint[],
  signal?: AbortSignal,
): Promise<LeaderInfo | undefined> {
  for (const e of endpoints) {
    signal?.throwIfAborted();
    try {
      const res = await clients.cluster(formatEndpoint(e)).getRaftLeader(
        {},
        {
          signal:
            signal === undefined
              ? AbortSignal.timeout(probeTimeoutMs)
              : AbortSignal.any([signal, AbortSignal.timeout(probeTimeoutMs)]),
        },
      );
      if (res.known)
        return { id: res.leaderId, address: res.leaderAddress, clusterId: res.clusterId };
    } catch (err) {
      if (signal?.aborted === true) throw err;
      // Unreachable or not serving yet: try the next endpoint.
    }
  }
  return undefined;
}

/** What a successful join returns. */
export interface Joined {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  /** The members the leader knows, so that this node can answer them before it catches up. */
  readonly members: readonly { id: NodeId; name: string; address: string }[];
}

/**
 * Joins an existing cluster as a learner: find the leader through any endpoint, ask it to add
 * this node, retry (re-discovering endpoints) until it succeeds or `signal` aborts. Rejects
 * without retrying when the leader refuses for good (CLUSTER_MISMATCH, NAME_IN_USE).
 */
export async function joinCluster(
  clients: PeerClients,
  discover: () => Promise<Endpoint[]>,
  o: {
    name: string;
    address: string;
    proposedId: NodeId;
    clusterId: string;
    manualPromotion: boolean;
    logger: RaftLogger;
    signal?: AbortSignal;
  },
): Promise<Joined> {
  for (let attempt = 1; ; attempt++) {
    o.signal?.throwIfAborted();
    const endpoints = await discover();
    const leader = await probeForCluster(clients, endpoints, o.signal);
    if (leader !== undefined) {
      try {
        const res = await clients.cluster(leader.address).join(
          {
            name: o.name,
            address: o.address,
            clusterId: o.clusterId,
            nodeId: o.proposedId,
            manualPromotion: o.manualPromotion,
          },
          o.signal === undefined ? {} : { signal: o.signal },
        );
        o.logger.info(
          `joined cluster ${res.clusterId} as ${res.nodeId} through leader ${leader.id} at ${leader.address}`,
        );
        return { nodeId: res.nodeId, clusterId: res.clusterId, members: res.members };
      } catch (err) {
        if (o.signal?.aborted === true) throw err;
        const ce = ConnectError.from(err);
        o.logger.warn(
          `join through leader ${leader.id} at ${leader.address} failed (attempt ${attempt}): ${ce.message}`,
        );
        // Final refusals: another cluster, or a member of this name that holds log entries
        // (this node lost its data: it must be removed before the name can join again). The
        // node exits saying so; an operator reads that from the pod's termination message.
        const reason = ce.metadata.get("juraft-reason");
        if (
          ["CLUSTER_MISMATCH", "NAME_IN_USE"].some((r) => reason === r || ce.rawMessage.includes(r))
        )
          throw err;
      }
    } else {
      o.logger.info(
        `no leader known at ${endpoints.map(formatEndpoint).join(",") || "(no endpoints)"} (attempt ${attempt}); retrying`,
      );
    }
    await delay(Math.min(2000, 100 * attempt), o.signal);
  }
}
