/**
 * Pruning (pure): the children this operator created for a cluster (its controller owner
 * reference) that the current spec no longer wants are deleted, e.g. the NetworkPolicy once
 * `spec.networkPolicy.enabled` is turned off. StatefulSet and PVCs are never pruned here: the
 * membership planner alone scales and deletes volumes.
 */

/** An object's identity. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
}

/** An existing object and the UIDs of its controller owners. */
export interface OwnedObject extends ObjectRef {
  readonly controllerUids: readonly string[];
}

/** The kinds that can be pruned (every small child the operator applies). */
export const PRUNABLE_KINDS: readonly Omit<ObjectRef, "name">[] = [
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "v1", kind: "ServiceAccount" },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget" },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
];

const key = (o: ObjectRef): string => `${o.apiVersion}/${o.kind}/${o.name}`;

/** The existing objects controlled by `ownerUid` of a prunable kind that are not desired. */
export function toPrune(
  desired: readonly ObjectRef[],
  existing: readonly OwnedObject[],
  ownerUid: string,
): ObjectRef[] {
  const want = new Set(desired.map(key));
  const kinds = new Set(PRUNABLE_KINDS.map((k) => `${k.apiVersion}/${k.kind}`));
  return existing
    .filter(
      (o) =>
        o.controllerUids.includes(ownerUid) &&
        kinds.has(`${o.apiVersion}/${o.kind}`) &&
        !want.has(key(o)),
    )
    .map(({ apiVersion, kind, name }) => ({ apiVersion, kind, name }));
}
