/**
 * One reconcile pass (the only impure file under reconcile/): observe, plan one membership step,
 * server-side apply the desired children, execute the step, write status when it changed.
 */
import { withDefaults } from "../api/defaults.js";
import type { JuraftClusterStatus, MemberStatus } from "../api/types.js";
import { validateSpec } from "../api/validate.js";
import type { Kube } from "../kube/client.js";
import { computeConditions } from "./conditions.js";
import {
  DATA_VOLUME,
  NODE_CONTAINER,
  clusterRef,
  ordinalOfName,
  quorumOf,
  selectorString,
  type ClusterRef,
} from "./names.js";
import {
  clientService,
  configMap,
  headlessService,
  networkPolicy,
  podDisruptionBudget,
  serviceAccount,
} from "./objects.js";
import { eventsFor } from "./events.js";
import { PRUNABLE_KINDS, toPrune, type ObjectRef } from "./prune.js";
import { planMembership, type ObservedRaft, type Step } from "./planner.js";
import { statefulSet } from "./statefulset.js";
import {
  dataWiped,
  recordedVolume,
  refusedMemberId,
  volumeLost,
  type ObservedVolume,
  type VolumeInput,
} from "./volumes.js";

/** Membership calls to the juraft nodes (ClusterService), addressed through the peer DNS names. */
export interface MemberAdmin {
  /** The leader's view, asking members 0..replicas-1; undefined when no leader answers. */
  status(c: ClusterRef, replicas: number): Promise<ObservedRaft | undefined>;
  addLearner(c: ClusterRef, name: string, address: string): Promise<void>;
  promote(c: ClusterRef, id: string): Promise<void>;
  /** Removes a member and resolves once the configuration change has committed. */
  removeMember(c: ClusterRef, id: string): Promise<void>;
  transferLeadership(c: ClusterRef, from: string, to: string): Promise<void>;
}

/** What a pass needs. */
export interface ReconcileDeps {
  readonly kube: Kube;
  readonly admin: MemberAdmin;
  readonly now: () => Date;
}

/** The outcome of a pass. */
export interface ReconcileResult {
  readonly step: Step | undefined;
  readonly requeueAfterMs: number;
}

/** Reconciles one JuraftCluster. */
export async function reconcile(
  deps: ReconcileDeps,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  const { kube, admin } = deps;
  const cr = await kube.getCluster(namespace, name);
  if (cr === undefined) return { step: undefined, requeueAfterMs: 0 };
  const c = clusterRef(cr);
  const status = cr.status ?? {};
  const check = validateSpec(cr.spec);
  const spec = withDefaults(cr.spec, c.name);
  const sts = await kube.getStatefulSet(namespace, c.name);
  const selector = selectorString(c);
  const pods = await kube.listPods(namespace, selector);
  const pvcs = await kube.listPvcs(namespace, selector);
  const stsReplicas = sts?.spec?.replicas;
  const raft = await admin.status(c, Math.max(stsReplicas ?? 0, 1));
  const ready = (p: (typeof pods)[number]): boolean =>
    p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") === true;
  const ordinals = (names: (string | undefined)[], strip = ""): number[] =>
    names.flatMap((n) => {
      const o = ordinalOfName(c, (n ?? "").slice(strip.length));
      return o === undefined ? [] : [o];
    });
  const volumes = pvcs.flatMap((p): ObservedVolume[] => {
    const [o] = ordinals([p.metadata?.name], `${DATA_VOLUME}-`);
    const uid = p.metadata?.uid;
    return o === undefined || uid === undefined
      ? []
      : [{ ordinal: o, uid, deleting: p.metadata?.deletionTimestamp !== undefined }];
  });
  const podOrdinals = new Set(ordinals(pods.map((p) => p.metadata?.name)));
  // The member id each pod's node was last refused for (it exited with no data: volumes.ts).
  const refusedAs = new Map(
    pods.flatMap((p): [number | undefined, string][] => {
      const [o] = ordinals([p.metadata?.name]);
      const s = p.status?.containerStatuses?.find((x) => x.name === NODE_CONTAINER);
      const id = refusedMemberId(
        s?.state?.terminated?.message ?? s?.lastState?.terminated?.message,
      );
      return o === undefined || id === undefined ? [] : [[o, id]];
    }),
  );
  const volumeInputs = new Map(
    (raft?.members ?? []).map((m): [string, VolumeInput] => {
      const o = ordinalOfName(c, m.name);
      return [
        m.id,
        {
          member: m,
          ordinal: o,
          previous: status.members?.find((p) => p.id === m.id),
          volume: volumes.find((v) => v.ordinal === o),
          podExists: o !== undefined && podOrdinals.has(o),
          refusedAs: refusedAs.get(o),
        },
      ];
    }),
  );
  const lostOrdinals = new Set(
    [...volumeInputs.values()].flatMap((v) =>
      volumeLost(v) && v.ordinal !== undefined ? [v.ordinal] : [],
    ),
  );
  const wipedOrdinals = new Set(
    [...volumeInputs.values()].flatMap((v) =>
      dataWiped(v) && v.ordinal !== undefined ? [v.ordinal] : [],
    ),
  );
  const knownVoters = (status.members ?? []).filter((m) => m.role === "voter").length;
  const step: Step =
    check.errors.length > 0
      ? { kind: "wait", reason: "MembersUnhealthy", message: check.errors.join("; ") }
      : planMembership({
          cluster: c,
          specReplicas: spec.replicas,
          recordedClusterId: status.clusterId,
          targetReplicas: status.targetReplicas,
          knownVoters,
          statefulSetReplicas: stsReplicas,
          pods: pods.flatMap((p) => {
            const [o] = ordinals([p.metadata?.name]);
            return o === undefined
              ? []
              : [
                  {
                    ordinal: o,
                    ready: ready(p),
                    volumeLost: lostOrdinals.has(o),
                    dataWiped: wipedOrdinals.has(o),
                  },
                ];
          }),
          pvcOrdinals: ordinals(
            pvcs.map((p) => p.metadata?.name),
            `${DATA_VOLUME}-`,
          ),
          raft,
          catchUpLag: spec.raft.catchUpLag,
        });
  const voters = raft?.members.filter((m) => m.role === "voter") ?? [];
  const target =
    step.kind === "latchTarget" ? step.replicas : (status.targetReplicas ?? spec.replicas);
  const clusterId = step.kind === "recordClusterId" ? step.clusterId : status.clusterId;
  if (check.errors.length === 0) {
    const replicas = step.kind === "scaleStatefulSet" ? step.replicas : (stsReplicas ?? 0);
    const desired = [
      serviceAccount(c),
      configMap(c, clusterId !== undefined),
      headlessService(c),
      clientService(c),
      podDisruptionBudget(c, voters.length, target),
      ...(spec.networkPolicy !== undefined
        ? [networkPolicy(c, spec.networkPolicy.clientLabels)]
        : []),
      statefulSet(c, spec, replicas),
    ];
    for (const obj of desired) await kube.apply(obj);
    await prune(kube, c, desired);
  }
  switch (step.kind) {
    case "addLearner":
      await admin.addLearner(c, step.name, step.address);
      break;
    case "promote":
      await admin.promote(c, step.id);
      break;
    case "removeMember":
      await admin.removeMember(c, step.id);
      break;
    case "transferLeadership":
      await admin.transferLeadership(c, step.from, step.to);
      break;
    case "deletePvc":
      await kube.deletePvc(namespace, step.name);
      break;
    case "scaleStatefulSet": // applied above
    case "recordClusterId": // written to status below
    case "latchTarget":
    case "wait":
    case "quorumLost": // reported, never repaired
    case "converged":
      break;
  }
  // Listed by ordinal (Raft keeps insertion order), so a status is stable between passes.
  const byOrdinal = [...(raft?.members ?? [])].sort(
    (a, b) => (ordinalOfName(c, a.name) ?? Infinity) - (ordinalOfName(c, b.name) ?? Infinity),
  );
  const members: MemberStatus[] = byOrdinal.map((m) => {
    const v = volumeInputs.get(m.id);
    const volume = v === undefined ? undefined : recordedVolume(v);
    return {
      name: m.name,
      id: m.id,
      role: m.role,
      caughtUp: raft !== undefined && raft.lastIndex - m.matchIndex <= spec.raft.catchUpLag,
      ...(volume !== undefined ? { volume } : {}),
    };
  });
  const readyNames = new Set(pods.filter(ready).map((p) => p.metadata?.name));
  const leader = raft?.members.find((m) => m.id === raft.leaderId)?.name;
  const next: JuraftClusterStatus = {
    replicas: stsReplicas ?? 0,
    readyReplicas: readyNames.size,
    targetReplicas: target,
    members,
    ...(leader !== undefined ? { leader } : {}),
    ...(clusterId !== undefined ? { clusterId } : {}),
    observedGeneration: cr.metadata.generation ?? 0,
    selector,
    conditions: computeConditions({
      step,
      leaderKnown: raft !== undefined,
      readyVoters: voters.filter((m) => readyNames.has(m.name)).length,
      voters: voters.length,
      specErrors: check.errors,
      specWarnings: check.warnings,
      generation: cr.metadata.generation ?? 0,
      now: deps.now().toISOString(),
      previous: status.conditions ?? [],
    }),
  };
  if (JSON.stringify(next) !== JSON.stringify(status)) await kube.applyClusterStatus(cr, next);
  for (const e of eventsFor(step, status.conditions ?? [], next.conditions ?? []))
    await kube.createEvent(cr, e, deps.now());
  const converged = step.kind === "converged" && quorumOf(voters.length) <= readyNames.size;
  return { step, requeueAfterMs: converged ? 30_000 : 1_000 };
}

/** Deletes the children this cluster owns that are no longer desired (e.g. a disabled policy). */
async function prune(
  kube: Kube,
  c: ClusterRef,
  desired: readonly { apiVersion: string; kind: string; metadata?: { name?: string } }[],
): Promise<void> {
  const want: ObjectRef[] = desired.map((o) => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: o.metadata?.name ?? "",
  }));
  const existing = [];
  for (const k of PRUNABLE_KINDS)
    existing.push(...(await kube.listOwned(k.apiVersion, k.kind, c.namespace, selectorString(c))));
  for (const ref of toPrune(want, existing, c.uid)) await kube.deleteObject(c.namespace, ref);
}
