import { Code, type ServiceImpl } from "@connectrpc/connect";
import type { ClusterService } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import { MemberRole, type Member } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import { ClusterError, failedPrecondition } from "../cluster/errors.js";
import { encodeMemberContext } from "../cluster/members.js";
import { delay } from "../cluster/clock.js";
import type { NodeId } from "../raft/index.js";
import { applyTxn } from "./apply.js";
import type { ApiContext } from "./context.js";
import { requireLeader } from "./leader.js";
import { scopeOf } from "./trace.js";

const none = new Uint8Array(0);

/**
 * Ids a node pre-registered with AddLearner while leading, with the term, per runtime (its
 * client and peer listeners share it). Only the leader of that term knows such a member never
 * replicated (its match stayed 0 all term): a later leader has no match for any member that is
 * down, whether it never started or lost its data.
 */
const preRegistered = new WeakMap<ApiContext["runtime"], Map<NodeId, number>>();

function preRegisteredBy(ctx: ApiContext): Map<NodeId, number> {
  let ids = preRegistered.get(ctx.runtime);
  if (ids === undefined) {
    ids = new Map();
    preRegistered.set(ctx.runtime, ids);
  }
  return ids;
}

/** Members as the API reports them, with the leader's progress when this node leads. */
export function membersOf(ctx: ApiContext): Member[] {
  const st = ctx.runtime.status();
  const out: Member[] = [];
  const ids = [...st.config.voters, ...st.config.learners, ...st.config.votersOutgoing];
  for (const id of [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const info = ctx.runtime.members.get(id);
    const pr = st.progress?.get(id);
    out.push({
      $typeName: "juraft.cluster.v1.Member",
      id,
      name: info?.name ?? "",
      address: info?.address ?? "",
      role: st.config.learners.includes(id) ? MemberRole.LEARNER : MemberRole.VOTER,
      matchIndex: BigInt(pr?.match ?? 0),
      progress: pr?.state ?? "",
      manualPromotion: info?.manualPromotion === true,
    });
  }
  return out;
}

function requireMember(ctx: ApiContext, id: NodeId, action: string): void {
  const cs = ctx.runtime.status().config;
  if (![...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(id)) {
    throw new ClusterError(Code.NotFound, "NO_SUCH_MEMBER", `${action}: ${id} is not a member`);
  }
}

/** Membership, administration and the relay (DESIGN.md §8). */
export function clusterService(ctx: ApiContext): ServiceImpl<typeof ClusterService> {
  const addLearner = async (
    nodeId: NodeId,
    info: { name: string; address: string; manualPromotion: boolean },
    signal: AbortSignal,
  ): Promise<void> => {
    await ctx.runtime.proposeConfChange(
      {
        transition: "auto",
        changes: [{ type: "addLearner", nodeId }],
        context: encodeMemberContext(info),
      },
      signal,
    );
  };
  return {
    getRaftLeader() {
      const st = ctx.runtime.status();
      const leader = st.lead === ctx.self.id ? ctx.self : ctx.runtime.members.get(st.lead);
      return {
        known: st.lead !== 0n && leader !== undefined,
        leaderId: st.lead,
        leaderAddress: leader?.address ?? "",
        term: BigInt(st.term),
        clusterId: ctx.clusterId,
      };
    },

    async join(req, hc) {
      requireLeader(ctx, `join ${req.name}`);
      if (req.clusterId !== "" && req.clusterId !== ctx.clusterId) {
        throw failedPrecondition(
          "CLUSTER_MISMATCH",
          `join ${req.name}: it belongs to cluster ${req.clusterId}, this is ${ctx.clusterId}`,
        );
      }
      if (req.name === "" || req.address === "")
        throw failedPrecondition("BAD_MEMBER", "join: name and address are required");
      const existing = ctx.runtime.members.idOf(req.name);
      let nodeId = req.nodeId;
      if (existing !== undefined && existing !== req.nodeId) {
        // Pre-registered with AddLearner (it never replicated anything): the joiner adopts that
        // id. A member that did replicate and now joins with a new id lost its data: ids are
        // never reused (DESIGN.md §6), so the old member must be removed first. A voter with no
        // match is a placeholder only if this leader pre-registered it in this term: a leader
        // elected since knows no match for a member that was down, and adopting a voter's id
        // with an empty log would forget the votes it cast.
        const st = ctx.runtime.status();
        const match = st.progress?.get(existing)?.match ?? 0;
        const voter = [...st.config.voters, ...st.config.votersOutgoing].includes(existing);
        if (match > 0 || (voter && preRegisteredBy(ctx).get(existing) !== st.term)) {
          throw new ClusterError(
            Code.AlreadyExists,
            "NAME_IN_USE",
            `join ${req.name}: member ${existing} has that name and ${voter ? "is a voter" : `holds log entries up to ${match}`}; remove it first (a member that lost its data joins as a new member)`,
          );
        }
        nodeId = existing;
      } else if (existing !== undefined) {
        // A retry of the same join.
        nodeId = existing;
      } else {
        if (nodeId === 0n)
          throw failedPrecondition("BAD_MEMBER", `join ${req.name}: node_id is required`);
        await addLearner(
          nodeId,
          { name: req.name, address: req.address, manualPromotion: req.manualPromotion },
          hc.signal,
        );
      }
      return { nodeId, clusterId: ctx.clusterId, members: membersOf(ctx) };
    },

    async relay(req, hc) {
      if (req.request === undefined) throw failedPrecondition("BAD_RELAY", "relay: no request");
      const response = await applyTxn(ctx, req.request, {
        relayed: true,
        traceContext: req.traceContext,
        scope: scopeOf(ctx, hc),
        signal: hc.signal,
      });
      return { response };
    },

    status() {
      const st = ctx.runtime.status();
      return {
        nodeId: ctx.self.id,
        name: ctx.self.name,
        role: st.role,
        term: BigInt(st.term),
        leaderId: st.lead,
        commitIndex: BigInt(st.commit),
        appliedIndex: BigInt(ctx.runtime.applied),
        lastIndex: BigInt(st.lastIndex),
        members: membersOf(ctx),
        clusterId: ctx.clusterId,
        joint: st.config.votersOutgoing.length > 0,
        snapshotIndex: BigInt(ctx.runtime.snapshotIndex),
      };
    },

    async addLearner(req, hc) {
      requireLeader(ctx, `add learner ${req.name}`);
      if (req.name === "" || req.address === "")
        throw failedPrecondition("BAD_MEMBER", "add learner: name and address are required");
      if (ctx.runtime.members.idOf(req.name) !== undefined) {
        throw new ClusterError(
          Code.AlreadyExists,
          "NAME_IN_USE",
          `add learner ${req.name}: a member with that name exists`,
        );
      }
      const nodeId = ctx.newNodeId();
      await addLearner(
        nodeId,
        { name: req.name, address: req.address, manualPromotion: req.manualPromotion },
        hc.signal,
      );
      preRegisteredBy(ctx).set(nodeId, ctx.runtime.status().term);
      return { nodeId };
    },

    async promote(req, hc) {
      requireLeader(ctx, `promote ${req.nodeId}`);
      requireMember(ctx, req.nodeId, `promote ${req.nodeId}`);
      const index = await ctx.runtime.proposeConfChange(
        { transition: "auto", changes: [{ type: "addNode", nodeId: req.nodeId }], context: none },
        hc.signal,
      );
      return { index: BigInt(index) };
    },

    async removeMember(req, hc) {
      requireLeader(ctx, `remove member ${req.nodeId}`);
      requireMember(ctx, req.nodeId, `remove member ${req.nodeId}`);
      const index = await ctx.runtime.proposeConfChange(
        {
          transition: "auto",
          changes: [{ type: "removeNode", nodeId: req.nodeId }],
          context: none,
        },
        hc.signal,
      );
      return { index: BigInt(index) };
    },

    async transferLeadership(req, hc) {
      requireLeader(ctx, `transfer leadership to ${req.nodeId}`);
      requireMember(ctx, req.nodeId, `transfer leadership to ${req.nodeId}`);
      ctx.runtime.transferLeader(req.nodeId);
      // Bounded wait: the core abandons a transfer after one election timeout.
      for (let i = 0; i < 200 && !hc.signal.aborted; i++) {
        const lead = ctx.runtime.status().lead;
        if (lead === req.nodeId) return { leaderId: lead };
        await delay(25, hc.signal);
      }
      throw new ClusterError(
        Code.DeadlineExceeded,
        "TRANSFER_TIMEOUT",
        `transfer leadership to ${req.nodeId}: it did not take over within 5 s`,
      );
    },

    async snapshot(_req, hc) {
      const meta = await ctx.runtime.takeSnapshot(hc.signal);
      return { index: BigInt(meta.index), term: BigInt(meta.term), sizeBytes: 0n };
    },
  };
}
