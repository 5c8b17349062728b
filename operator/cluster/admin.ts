/**
 * The operator's MemberAdmin over the nodes' ClusterService (Connect/gRPC on the node port),
 * reaching members by their stable peer DNS names; over TLS with a client certificate when the
 * cluster has spec.tls.
 */
import { ConnectError } from "@connectrpc/connect";
import { JuraftClient } from "../../node/client/index.js";
import { MemberRole } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import { memberAddress, type ClusterRef } from "../reconcile/names.js";
import type { ObservedRaft } from "../reconcile/planner.js";
import type { MemberAdmin } from "../reconcile/reconciler.js";
import type { ClientTls } from "./credentials.js";

const CALL = { timeoutMs: 5000 };

/** Options of {@link NodeAdmin}. */
export interface NodeAdminOptions {
  readonly sleep: (ms: number) => Promise<void>;
  /**
   * Maps a member's peer DNS address to the address to dial and register. Identity in a cluster;
   * a test that runs the pods as local processes maps them to the loopback ports it chose.
   */
  readonly translate?: (address: string) => string;
  /** The client certificate for a TLS cluster (see credentials.ts); default: none (h2c). */
  readonly credentials?: (c: ClusterRef) => Promise<ClientTls | undefined>;
}

/** MemberAdmin talking to real juraft nodes. */
export class NodeAdmin implements MemberAdmin {
  /** Members last seen per cluster: the endpoints to try for the next call. */
  readonly #known = new Map<string, number>();
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #translate: (address: string) => string;
  readonly #credentials: (c: ClusterRef) => Promise<ClientTls | undefined>;

  constructor(o: NodeAdminOptions) {
    this.#sleep = o.sleep;
    this.#translate = o.translate ?? ((a) => a);
    this.#credentials = o.credentials ?? (() => Promise.resolve(undefined));
  }

  #count(c: ClusterRef): number {
    return this.#known.get(`${c.namespace}/${c.name}`) ?? 1;
  }

  async #withLeader<T>(
    c: ClusterRef,
    replicas: number,
    fn: (client: JuraftClient, leader: string) => Promise<T>,
  ): Promise<T> {
    const endpoints = Array.from({ length: Math.max(replicas, 1) }, (_, o) =>
      this.#translate(memberAddress(c, o)),
    );
    const tls = await this.#credentials(c);
    if (c.tls !== undefined && tls === undefined)
      throw new Error(
        `call the members of ${c.namespace}/${c.name}: TLS but no client certificate`,
      );
    const client = new JuraftClient({ endpoints, ...(tls !== undefined ? { tls } : {}) });
    try {
      return await fn(client, await client.leaderAddress(AbortSignal.timeout(CALL.timeoutMs)));
    } finally {
      client.close();
    }
  }

  /** The leader's Status, or undefined when no leader answers. */
  async status(c: ClusterRef, replicas: number): Promise<ObservedRaft | undefined> {
    try {
      return await this.#withLeader(c, replicas, async (client, leader) => {
        const st = await client.cluster(leader).status({}, CALL);
        if (st.nodeId !== st.leaderId) return undefined;
        this.#known.set(`${c.namespace}/${c.name}`, Math.max(replicas, st.members.length));
        return {
          clusterId: st.clusterId,
          leaderId: st.leaderId.toString(),
          lastIndex: Number(st.lastIndex),
          joint: st.joint,
          members: st.members.map((m) => ({
            id: m.id.toString(),
            name: m.name,
            role: m.role === MemberRole.LEARNER ? "learner" : "voter",
            matchIndex: Number(m.matchIndex),
          })),
        };
      });
    } catch (err) {
      // No member reachable or none knows a leader: an observation, not a failure.
      if (err instanceof ConnectError) return undefined;
      throw err;
    }
  }

  /** Pre-registers a member as a learner with manual promotion (its pod adopts the id). */
  async addLearner(c: ClusterRef, name: string, address: string): Promise<void> {
    await this.#withLeader(c, this.#count(c), (client, leader) =>
      client
        .cluster(leader)
        .addLearner({ name, address: this.#translate(address), manualPromotion: true }, CALL),
    );
  }

  async promote(c: ClusterRef, id: string): Promise<void> {
    await this.#withLeader(c, this.#count(c), (client, leader) =>
      client.cluster(leader).promote({ nodeId: BigInt(id) }, CALL),
    );
  }

  /** Removes a member through the leader and waits until the change has committed. */
  async removeMember(c: ClusterRef, id: string): Promise<void> {
    await this.#withLeader(c, this.#count(c), async (client, leader) => {
      const { index } = await client.cluster(leader).removeMember({ nodeId: BigInt(id) }, CALL);
      for (let i = 0; i < 50; i++) {
        const st = await client.cluster(leader).status({}, CALL);
        if (st.commitIndex >= index) return;
        await this.#sleep(100);
      }
      throw new Error(`remove member ${id}: not committed at index ${index} within 5 s`);
    });
  }

  async transferLeadership(c: ClusterRef, _from: string, to: string): Promise<void> {
    await this.#withLeader(c, this.#count(c), (client, leader) =>
      client.cluster(leader).transferLeadership({ nodeId: BigInt(to) }, CALL),
    );
  }
}
