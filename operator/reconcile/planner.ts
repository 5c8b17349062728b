/**
 * The membership planner: a PURE function from what the operator observed to the ONE next step
 * (DESIGN.md §9, FEATURES.md §2). The reconciler executes the step and plans again from a fresh
 * observation, so a crash between steps only repeats an observation, never a decision.
 */
import type { MemberRole } from "../api/types.js";
import {
  clusterIdOf,
  memberPeerAddress,
  ordinalOfName,
  podName,
  pvcName,
  quorumOf,
} from "./names.js";
import type { ClusterRef } from "./names.js";

/** A Raft member as the leader reports it. */
export interface ObservedMember {
  readonly id: string;
  readonly name: string;
  readonly role: MemberRole;
  /** The leader's view of how far its log is replicated there. */
  readonly matchIndex: number;
}

/** The Raft configuration as the leader reports it (Status). */
export interface ObservedRaft {
  readonly clusterId: string;
  readonly leaderId: string;
  /** The leader's last log index. */
  readonly lastIndex: number;
  /** A joint configuration is in progress. */
  readonly joint: boolean;
  readonly members: readonly ObservedMember[];
}

/** A pod of the StatefulSet. */
export interface ObservedPod {
  readonly ordinal: number;
  readonly ready: boolean;
  /** Its volume is not the one the member was created on (lost or wiped PVC). */
  readonly volumeLost: boolean;
  /** Its container restarted on an empty data directory (same PVC) and was refused its name. */
  readonly dataWiped: boolean;
}

/** Everything the planner looks at. */
export interface PlanInput {
  readonly cluster: ClusterRef;
  readonly specReplicas: number;
  /** `status.clusterId`: once set, nothing may bootstrap. */
  readonly recordedClusterId: string | undefined;
  /** `status.targetReplicas`: the latched size being converged to. */
  readonly targetReplicas: number | undefined;
  /** Voters in `status.members` (to judge quorum when no leader answers). */
  readonly knownVoters: number;
  /** Undefined when the StatefulSet does not exist. */
  readonly statefulSetReplicas: number | undefined;
  readonly pods: readonly ObservedPod[];
  readonly pvcOrdinals: readonly number[];
  /** Undefined when no leader answered. */
  readonly raft: ObservedRaft | undefined;
  /** A learner at most this many entries behind the leader is caught up. */
  readonly catchUpLag: number;
}

/** Why the planner waits. */
export type WaitReason =
  | "BootstrapPending"
  | "ClusterIdMismatch"
  | "NoLeader"
  | "ConfigChangeInProgress"
  | "LearnerCatchingUp"
  | "MembersUnhealthy"
  | "WouldLoseQuorum"
  | "PodTerminating";

/** The one next step. */
export type Step =
  | { readonly kind: "scaleStatefulSet"; readonly replicas: number }
  | { readonly kind: "recordClusterId"; readonly clusterId: string }
  | { readonly kind: "latchTarget"; readonly replicas: number }
  | { readonly kind: "addLearner"; readonly name: string; readonly address: string }
  | { readonly kind: "promote"; readonly id: string; readonly name: string }
  | { readonly kind: "transferLeadership"; readonly from: string; readonly to: string }
  | { readonly kind: "removeMember"; readonly id: string; readonly name: string }
  | { readonly kind: "deletePvc"; readonly name: string }
  | { readonly kind: "wait"; readonly reason: WaitReason; readonly message: string }
  | { readonly kind: "quorumLost"; readonly message: string }
  | { readonly kind: "converged"; readonly replicas: number };

/** The pod's member lost its data: a replaced PVC or a wiped data directory. */
const lostData = (p: ObservedPod): boolean => p.volumeLost || p.dataWiped;

const wait = (reason: WaitReason, message: string): Step => ({ kind: "wait", reason, message });

/** The next step towards the latched size (one member at a time). */
export function planMembership(input: PlanInput): Step {
  const c = input.cluster;
  const sts = input.statefulSetReplicas;
  const raft = input.raft;
  if (input.recordedClusterId === undefined) {
    // Bootstrap: only ordinal 0 runs (and may form the cluster) until its id is recorded.
    if (sts === undefined || sts === 0) return { kind: "scaleStatefulSet", replicas: 1 };
    if (raft === undefined) return wait("BootstrapPending", "waiting for the seed to form");
    if (raft.clusterId !== clusterIdOf(c))
      return wait("ClusterIdMismatch", `the seed reports cluster ${raft.clusterId}`);
    const [only, ...others] = raft.members;
    if (only?.name === podName(c, 0) && only.role === "voter" && others.length === 0)
      return { kind: "recordClusterId", clusterId: raft.clusterId };
    return wait("BootstrapPending", "the seed is not yet a one-member cluster");
  }
  if (sts === undefined)
    return { kind: "scaleStatefulSet", replicas: Math.max(1, input.knownVoters) };
  if (raft === undefined) {
    const ready = input.pods.filter((p) => p.ready && p.ordinal < input.knownVoters).length;
    if (ready < quorumOf(input.knownVoters))
      return {
        kind: "quorumLost",
        message: `${ready} of ${input.knownVoters} voters ready, ${quorumOf(input.knownVoters)} needed: not repaired automatically`,
      };
    return wait("NoLeader", "no member reports a leader");
  }
  if (raft.clusterId !== input.recordedClusterId)
    return wait("ClusterIdMismatch", `the leader reports cluster ${raft.clusterId}`);
  if (raft.joint) return wait("ConfigChangeInProgress", "a joint configuration is in progress");

  const podOf = (o: number | undefined): ObservedPod | undefined =>
    input.pods.find((p) => p.ordinal === o);
  const ordinal = (m: ObservedMember): number | undefined => ordinalOfName(c, m.name);
  const healthy = (m: ObservedMember): boolean => {
    const p = podOf(ordinal(m));
    return p !== undefined && p.ready && !lostData(p);
  };
  const byOrdinal = [...raft.members].sort(
    (a, b) => (ordinal(a) ?? Infinity) - (ordinal(b) ?? Infinity),
  );
  const voters = byOrdinal.filter((m) => m.role === "voter");

  /** Removes a member, moving leadership off it first; never below a quorum of the rest. */
  const remove = (victim: ObservedMember): Step => {
    if (victim.role === "learner")
      return { kind: "removeMember", id: victim.id, name: victim.name };
    const rest = voters.filter((m) => m.id !== victim.id);
    const healthyRest = rest.filter(healthy);
    if (healthyRest.length < quorumOf(rest.length))
      return wait(
        "WouldLoseQuorum",
        `removing ${victim.name} would leave ${healthyRest.length} healthy of ${rest.length} voters`,
      );
    const to = healthyRest[0];
    if (victim.id === raft.leaderId && to !== undefined)
      return { kind: "transferLeadership", from: victim.id, to: to.id };
    return { kind: "removeMember", id: victim.id, name: victim.name };
  };

  // A member whose data was lost must not come back with its old id: remove it first.
  const lost = byOrdinal.find((m) => {
    const p = podOf(ordinal(m));
    return p !== undefined && lostData(p);
  });
  if (lost !== undefined) return remove(lost);

  const target = input.targetReplicas ?? voters.length;
  // Learners: beyond the target they go; below it they join the StatefulSet and get promoted.
  for (const l of byOrdinal.filter((m) => m.role === "learner")) {
    const o = ordinal(l);
    if (o === undefined || o >= target) return remove(l);
    if (sts < o + 1) return { kind: "scaleStatefulSet", replicas: o + 1 };
    const caughtUp =
      podOf(o)?.ready === true &&
      l.matchIndex > 0 &&
      raft.lastIndex - l.matchIndex <= input.catchUpLag;
    if (caughtUp) return { kind: "promote", id: l.id, name: l.name };
    return wait("LearnerCatchingUp", `${l.name} is at ${l.matchIndex} of ${raft.lastIndex}`);
  }
  // Scale up: the lowest missing ordinal joins as a learner, while every voter is healthy.
  const present = new Set(byOrdinal.map(ordinal));
  for (let o = 0; o < target; o++) {
    if (present.has(o)) continue;
    const sick = voters.filter((m) => !healthy(m)).map((m) => m.name);
    if (sick.length > 0) return wait("MembersUnhealthy", `not ready: ${sick.join(", ")}`);
    // A volume left over from an earlier member of this ordinal would bring an old identity.
    if (input.pvcOrdinals.includes(o) && podOf(o) === undefined && sts <= o)
      return { kind: "deletePvc", name: pvcName(c, o) };
    return { kind: "addLearner", name: podName(c, o), address: memberPeerAddress(c, o) };
  }
  // Scale down: the highest ordinal beyond the target leaves first.
  const extra = voters.filter((m) => (ordinal(m) ?? Infinity) >= target).reverse();
  const victim = extra[0];
  if (victim !== undefined) return remove(victim);
  // Raft has exactly ordinals 0..target-1 as voters: bring the StatefulSet and volumes along.
  if (sts !== target) return { kind: "scaleStatefulSet", replicas: target };
  const leftover = input.pvcOrdinals.filter((o) => o >= target).sort((a, b) => b - a);
  const first = leftover[0];
  if (first !== undefined) {
    if (podOf(first) !== undefined)
      return wait("PodTerminating", `${podName(c, first)} is still terminating`);
    return { kind: "deletePvc", name: pvcName(c, first) };
  }
  if (input.targetReplicas !== input.specReplicas)
    return { kind: "latchTarget", replicas: input.specReplicas };
  return { kind: "converged", replicas: target };
}
