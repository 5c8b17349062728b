import type { ClusterRef } from "../../operator/reconcile/names.js";
import {
  planMembership,
  type ObservedMember,
  type ObservedPod,
  type PlanInput,
  type Step,
} from "../../operator/reconcile/planner.js";

const c: ClusterRef = { name: "db", namespace: "ns", uid: "u1" };
const CID = "db-u1";
const voter = (o: number, matchIndex = 100): ObservedMember => ({
  id: `id${o}`,
  name: `db-${o}`,
  role: "voter",
  matchIndex,
});
const learner = (o: number, matchIndex: number): ObservedMember => ({
  ...voter(o, matchIndex),
  role: "learner",
});
const pods = (n: number, over: Partial<Record<number, Partial<ObservedPod>>> = {}): ObservedPod[] =>
  Array.from({ length: n }, (_, o) => ({
    ordinal: o,
    ready: true,
    volumeLost: false,
    dataWiped: false,
    ...over[o],
  }));
const ords = (n: number): number[] => Array.from({ length: n }, (_, o) => o);

/** A healthy cluster of n voters, leader db-0, StatefulSet and volumes at n, target and spec n. */
function at(n: number, over: Partial<PlanInput> = {}, members?: ObservedMember[]): PlanInput {
  return {
    cluster: c,
    specReplicas: n,
    recordedClusterId: CID,
    targetReplicas: n,
    knownVoters: n,
    statefulSetReplicas: n,
    pods: pods(n),
    pvcOrdinals: ords(n),
    raft: {
      clusterId: CID,
      leaderId: "id0",
      lastIndex: 100,
      joint: false,
      members: members ?? ords(n).map((o) => voter(o)),
    },
    catchUpLag: 10,
    ...over,
  };
}
const raftOf = (members: ObservedMember[], leaderId = "id0"): PlanInput["raft"] => ({
  clusterId: CID,
  lastIndex: 100,
  joint: false,
  leaderId,
  members,
});

const bootstrap: Partial<PlanInput> = {
  recordedClusterId: undefined,
  targetReplicas: undefined,
  knownVoters: 0,
};

const table: [string, PlanInput, Step][] = [
  // Bootstrap
  [
    "bootstrap: no StatefulSet -> the seed alone",
    at(3, {
      ...bootstrap,
      statefulSetReplicas: undefined,
      pods: [],
      pvcOrdinals: [],
      raft: undefined,
    }),
    { kind: "scaleStatefulSet", replicas: 1 },
  ],
  [
    "bootstrap: seed not answering -> wait",
    at(3, { ...bootstrap, statefulSetReplicas: 1, pods: pods(1), raft: undefined }),
    { kind: "wait", reason: "BootstrapPending", message: "waiting for the seed to form" },
  ],
  [
    "bootstrap: seed formed alone -> record the cluster id",
    at(1, { ...bootstrap, specReplicas: 3 }),
    { kind: "recordClusterId", clusterId: CID },
  ],
  [
    "bootstrap: seed of another cluster (stale volume) -> refuse",
    at(1, {
      ...bootstrap,
      raft: {
        clusterId: "db-old",
        leaderId: "id0",
        lastIndex: 1,
        joint: false,
        members: [voter(0)],
      },
    }),
    { kind: "wait", reason: "ClusterIdMismatch", message: "the seed reports cluster db-old" },
  ],
  [
    "recorded id: first pass latches spec",
    at(1, { specReplicas: 3, targetReplicas: undefined }),
    { kind: "latchTarget", replicas: 3 },
  ],
  // Scale up 3 -> 5
  ["converged at spec -> nothing", at(3), { kind: "converged", replicas: 3 }],
  ["spec raised -> latch it", at(3, { specReplicas: 5 }), { kind: "latchTarget", replicas: 5 }],
  [
    "scale up: add the next ordinal as a learner first",
    at(3, { specReplicas: 5, targetReplicas: 5 }),
    { kind: "addLearner", name: "db-3", address: "db-3.db-peers.ns.svc:7070" },
  ],
  [
    "scale up: learner added -> raise the StatefulSet",
    at(3, { targetReplicas: 5 }, [...ords(3).map((o) => voter(o)), learner(3, 0)]),
    { kind: "scaleStatefulSet", replicas: 4 },
  ],
  [
    "scale up: learner behind -> wait",
    at(3, { targetReplicas: 5, statefulSetReplicas: 4, pods: pods(4) }, [
      ...ords(3).map((o) => voter(o)),
      learner(3, 50),
    ]),
    { kind: "wait", reason: "LearnerCatchingUp", message: "db-3 is at 50 of 100" },
  ],
  [
    "scale up: learner caught up but pod not ready -> wait",
    at(3, { targetReplicas: 5, statefulSetReplicas: 4, pods: pods(4, { 3: { ready: false } }) }, [
      ...ords(3).map((o) => voter(o)),
      learner(3, 95),
    ]),
    { kind: "wait", reason: "LearnerCatchingUp", message: "db-3 is at 95 of 100" },
  ],
  [
    "scale up: learner caught up -> promote",
    at(3, { targetReplicas: 5, statefulSetReplicas: 4, pods: pods(4) }, [
      ...ords(3).map((o) => voter(o)),
      learner(3, 95),
    ]),
    { kind: "promote", id: "id3", name: "db-3" },
  ],
  [
    "scale up: next member only after the previous is promoted",
    at(4, { targetReplicas: 5 }),
    { kind: "addLearner", name: "db-4", address: "db-4.db-peers.ns.svc:7070" },
  ],
  [
    "scale up: a voter unhealthy -> do not add",
    at(3, { targetReplicas: 5, pods: pods(3, { 1: { ready: false } }) }),
    { kind: "wait", reason: "MembersUnhealthy", message: "not ready: db-1" },
  ],
  [
    "scale up: stale volume of a former member -> delete it before adding",
    at(3, { targetReplicas: 5, pvcOrdinals: ords(4) }),
    { kind: "deletePvc", name: "data-db-3" },
  ],
  [
    "3 -> 5 -> 3 quickly: spec lowered mid-add, the latched 5 is reached first",
    at(3, { specReplicas: 3, targetReplicas: 5, statefulSetReplicas: 4, pods: pods(4) }, [
      ...ords(3).map((o) => voter(o)),
      learner(3, 99),
    ]),
    { kind: "promote", id: "id3", name: "db-3" },
  ],
  [
    "3 -> 5 -> 3 quickly: at 5, latch 3",
    at(5, { specReplicas: 3 }),
    { kind: "latchTarget", replicas: 3 },
  ],
  // Scale down 5 -> 3
  [
    "scale down: remove the highest ordinal from Raft first",
    at(5, { specReplicas: 3, targetReplicas: 3 }),
    { kind: "removeMember", id: "id4", name: "db-4" },
  ],
  [
    "scale down: the victim leads -> transfer leadership off it",
    at(5, {
      targetReplicas: 3,
      raft: raftOf(
        ords(5).map((o) => voter(o)),
        "id4",
      ),
    }),
    { kind: "transferLeadership", from: "id4", to: "id0" },
  ],
  [
    "scale down: removal committed -> lower the StatefulSet",
    at(3, { statefulSetReplicas: 5, pods: pods(5), pvcOrdinals: ords(5) }),
    { kind: "scaleStatefulSet", replicas: 3 },
  ],
  [
    "scale down: pod still terminating -> wait before deleting its volume",
    at(3, { pods: pods(4), pvcOrdinals: ords(4) }),
    { kind: "wait", reason: "PodTerminating", message: "db-3 is still terminating" },
  ],
  [
    "scale down: pod gone -> delete its volume",
    at(3, { pvcOrdinals: ords(5) }),
    { kind: "deletePvc", name: "data-db-4" },
  ],
  [
    "scale down 3 -> 1 with db-1 down: the rest would lack quorum -> never remove",
    at(3, { specReplicas: 1, targetReplicas: 1, pods: pods(3, { 1: { ready: false } }) }),
    {
      kind: "wait",
      reason: "WouldLoseQuorum",
      message: "removing db-2 would leave 1 healthy of 2 voters",
    },
  ],
  [
    "scale down: two of the rest down -> WouldLoseQuorum",
    at(5, { targetReplicas: 3, pods: pods(5, { 1: { ready: false }, 2: { ready: false } }) }),
    {
      kind: "wait",
      reason: "WouldLoseQuorum",
      message: "removing db-4 would leave 2 healthy of 4 voters",
    },
  ],
  [
    "scale down to 1: last step removes db-1",
    at(2, { specReplicas: 1, targetReplicas: 1 }),
    { kind: "removeMember", id: "id1", name: "db-1" },
  ],
  [
    "scale down: a learner beyond the target is removed without a quorum check",
    at(3, { targetReplicas: 3, pods: pods(3, { 1: { ready: false }, 2: { ready: false } }) }, [
      ...ords(3).map((o) => voter(o)),
      learner(3, 10),
    ]),
    { kind: "removeMember", id: "id3", name: "db-3" },
  ],
  // Failures
  [
    "no leader but a quorum of pods ready -> wait (an election)",
    at(3, { raft: undefined, pods: pods(3, { 0: { ready: false } }) }),
    { kind: "wait", reason: "NoLeader", message: "no member reports a leader" },
  ],
  [
    "no leader and no quorum of pods -> quorum lost, nothing automatic",
    at(3, { raft: undefined, pods: pods(3, { 0: { ready: false }, 1: { ready: false } }) }),
    { kind: "quorumLost", message: "1 of 3 voters ready, 2 needed: not repaired automatically" },
  ],
  [
    "joint configuration in progress -> wait",
    at(3, {
      raft: {
        ...raftOf(ords(3).map((o) => voter(o))),
        joint: true,
      } as PlanInput["raft"],
    }),
    {
      kind: "wait",
      reason: "ConfigChangeInProgress",
      message: "a joint configuration is in progress",
    },
  ],
  [
    "StatefulSet deleted after bootstrap -> recreate at the known size, never bootstrap",
    at(3, { statefulSetReplicas: undefined }),
    { kind: "scaleStatefulSet", replicas: 3 },
  ],
  [
    "StatefulSet shrunk by hand -> restore",
    at(3, { statefulSetReplicas: 2 }),
    { kind: "scaleStatefulSet", replicas: 3 },
  ],
  // Lost volume
  [
    "wiped volume: remove the old member first",
    at(3, { pods: pods(3, { 1: { volumeLost: true } }) }),
    { kind: "removeMember", id: "id1", name: "db-1" },
  ],
  [
    "wiped volume on the leader: transfer leadership first",
    at(3, { pods: pods(3, { 0: { volumeLost: true } }) }),
    { kind: "transferLeadership", from: "id0", to: "id1" },
  ],
  [
    "wiped volume but the rest lack quorum -> wait",
    at(3, { pods: pods(3, { 1: { volumeLost: true }, 2: { ready: false } }) }),
    {
      kind: "wait",
      reason: "WouldLoseQuorum",
      message: "removing db-1 would leave 1 healthy of 2 voters",
    },
  ],
  [
    "wiped volume: old member removed -> rejoins as a new learner",
    at(3, {}, [voter(0), voter(2)]),
    { kind: "addLearner", name: "db-1", address: "db-1.db-peers.ns.svc:7070" },
  ],
  [
    "wiped volume: the new learner (new id) is promoted when caught up",
    at(3, {}, [voter(0), voter(2), { ...learner(1, 100), id: "id1b" }]),
    { kind: "promote", id: "id1b", name: "db-1" },
  ],
  // Data directory wiped on the same PVC (the pod was refused its name: NAME_IN_USE)
  [
    "wiped data dir: remove the old member first",
    at(3, { pods: pods(3, { 2: { dataWiped: true, ready: false } }) }),
    { kind: "removeMember", id: "id2", name: "db-2" },
  ],
  [
    "wiped data dir on the member still listed as leader: transfer leadership first",
    at(3, { pods: pods(3, { 0: { dataWiped: true, ready: false } }) }),
    { kind: "transferLeadership", from: "id0", to: "id1" },
  ],
  [
    "wiped data dir but another voter is down -> wait, never lose quorum",
    at(3, { pods: pods(3, { 1: { dataWiped: true, ready: false }, 2: { ready: false } }) }),
    {
      kind: "wait",
      reason: "WouldLoseQuorum",
      message: "removing db-1 would leave 1 healthy of 2 voters",
    },
  ],
  [
    "wiped data dirs on two of five: the first is removed (three healthy of four remain)",
    at(5, {
      pods: pods(5, { 3: { dataWiped: true, ready: false }, 4: { dataWiped: true, ready: false } }),
    }),
    { kind: "removeMember", id: "id3", name: "db-3" },
  ],
  [
    "wiped data dir: old member removed -> the pod rejoins as a new learner",
    at(3, { pods: pods(3, { 2: { ready: false } }) }, [voter(0), voter(1)]),
    { kind: "addLearner", name: "db-2", address: "db-2.db-peers.ns.svc:7070" },
  ],
  [
    "wiped data dir on a learner: removed without a quorum check",
    at(3, { pods: pods(3, { 2: { dataWiped: true, ready: false } }) }, [
      voter(0),
      voter(1),
      learner(2, 50),
    ]),
    { kind: "removeMember", id: "id2", name: "db-2" },
  ],
  [
    "one-member cluster lost its volume -> cannot remove (reported)",
    at(1, { pods: pods(1, { 0: { volumeLost: true } }) }),
    {
      kind: "wait",
      reason: "WouldLoseQuorum",
      message: "removing db-0 would leave 0 healthy of 0 voters",
    },
  ],
];

describe("planMembership", () => {
  it.each(table)("%s", (_, input, step) => {
    expect(planMembership(input)).toEqual(step);
  });
});

describe("planMembership, scenario", () => {
  it("3 -> 5 -> 3 typed quickly converges through two clean transitions", () => {
    // A tiny model of the world: apply each step to it and plan again.
    let members = ords(3).map((o) => voter(o));
    let sts = 3;
    let target: number | undefined = 3;
    let pvcs = ords(3);
    let spec = 5;
    const steps: string[] = [];
    for (let i = 0; i < 60; i++) {
      if (i === 2) spec = 3; // the user changes their mind mid-add
      const input = at(3, {
        specReplicas: spec,
        targetReplicas: target,
        statefulSetReplicas: sts,
        pods: pods(sts),
        pvcOrdinals: pvcs,
        raft: raftOf(members),
      });
      const s = planMembership(input);
      steps.push(s.kind === "wait" ? `wait:${s.reason}` : s.kind);
      if (s.kind === "converged" && spec === target) break;
      if (s.kind === "latchTarget") target = s.replicas;
      else if (s.kind === "addLearner")
        members = [...members, { ...learner(Number(s.name.slice(3)), 0), matchIndex: 0 }];
      else if (s.kind === "scaleStatefulSet") {
        sts = s.replicas;
        pvcs = [...new Set([...pvcs, ...ords(sts)])];
        members = members.map((m) => (m.role === "learner" ? { ...m, matchIndex: 100 } : m));
      } else if (s.kind === "promote")
        members = members.map((m) => (m.id === s.id ? { ...m, role: "voter" } : m));
      else if (s.kind === "removeMember") members = members.filter((m) => m.id !== s.id);
      else if (s.kind === "deletePvc") pvcs = pvcs.filter((o) => `data-db-${o}` !== s.name);
    }
    expect(steps).toEqual([
      "latchTarget", // 5
      "addLearner",
      "scaleStatefulSet",
      "promote",
      "addLearner",
      "scaleStatefulSet",
      "promote",
      "latchTarget", // 3, only now
      "removeMember",
      "removeMember",
      "scaleStatefulSet",
      "deletePvc",
      "deletePvc",
      "converged",
    ]);
    expect(members.map((m) => m.name)).toEqual(["db-0", "db-1", "db-2"]);
  });
});
