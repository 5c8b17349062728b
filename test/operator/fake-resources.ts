/** Resource table and JSON helpers of the fake API server. */

/** A stored object. */
export type Obj = Record<string, unknown> & {
  metadata: Record<string, unknown> & {
    name: string;
    namespace?: string;
    resourceVersion?: string;
  };
};

/** A resource type the fake serves. */
export interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  /** Writes to the object ignore status; /status writes only status. */
  readonly statusSub: boolean;
  /** GET/PATCH /scale maps to spec.replicas (and status.replicas, status.selector). */
  readonly scaleSub: boolean;
}
const R = (
  group: string,
  version: string,
  plural: string,
  kind: string,
  s = false,
  sc = false,
): Resource => ({
  group,
  version,
  plural,
  kind,
  statusSub: s,
  scaleSub: sc,
});
/** Every resource type the fake serves. */
export const RESOURCES: readonly Resource[] = [
  R("", "v1", "services", "Service"),
  R("", "v1", "configmaps", "ConfigMap"),
  R("", "v1", "secrets", "Secret"),
  R("", "v1", "serviceaccounts", "ServiceAccount"),
  R("", "v1", "pods", "Pod", true),
  R("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true),
  R("", "v1", "events", "Event"),
  R("apps", "v1", "statefulsets", "StatefulSet", true, true),
  R("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true),
  R("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy"),
  R("coordination.k8s.io", "v1", "leases", "Lease"),
  R("juraft.dev", "v1alpha1", "juraftclusters", "JuraftCluster", true, true),
];

/** A JSON object (not an array). */
export const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch (also used, without the null rule, as a simplified apply merge). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return patch;
  const out: Record<string, unknown> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      Reflect.deleteProperty(out, k);
    } else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** A deep copy. */
export const clone = <T>(v: T): T => structuredClone(v);

/** A Status object (the API's error body). */
export function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { apiVersion: "v1", kind: "Status", status: "Failure", code, reason, message };
}
