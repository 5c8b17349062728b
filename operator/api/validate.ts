/** Pure validation of a JuraftCluster spec: errors reject it, warnings are reported. */
import type { JuraftClusterSpec } from "./types.js";

/** Outcome of {@link validateSpec}. */
export interface Validation {
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

/** A DNS-1123 subdomain, as Secret names are (at most 253 characters). */
const SECRET_NAME =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const isPositiveInt = (n: number): boolean => Number.isInteger(n) && n >= 1;

/** Checks a spec beyond what the OpenAPI schema enforces (and repeats its key rules). */
export function validateSpec(spec: JuraftClusterSpec): Validation {
  const errors: string[] = [];
  const warnings: string[] = [];
  const { replicas, raft, tracing, storage } = spec;
  if (replicas !== undefined) {
    if (!isPositiveInt(replicas))
      errors.push(`spec.replicas must be an integer >= 1, got ${replicas}`);
    else if (replicas % 2 === 0)
      warnings.push(
        `spec.replicas=${replicas} is even: it tolerates no more failures than ${replicas - 1}`,
      );
  }
  for (const key of ["tickMs", "snapshotEvery", "catchUpLag"] as const) {
    const v = raft?.[key];
    if (v !== undefined && !isPositiveInt(v))
      errors.push(`spec.raft.${key} must be an integer >= 1, got ${v}`);
  }
  const trailing = raft?.snapshotTrailing;
  if (trailing !== undefined && !(Number.isInteger(trailing) && trailing >= 0))
    errors.push(`spec.raft.snapshotTrailing must be an integer >= 0, got ${trailing}`);
  const ratio = tracing?.samplingRatio;
  if (ratio !== undefined && !(ratio >= 0 && ratio <= 1))
    errors.push(`spec.tracing.samplingRatio must be within 0..1, got ${ratio}`);
  if (tracing !== undefined && !/^https?:\/\/\S+$/.test(tracing.otlpEndpoint))
    errors.push(`spec.tracing.otlpEndpoint must be an http(s) URL, got ${tracing.otlpEndpoint}`);
  if (storage?.size !== undefined && !/^[0-9]+(\.[0-9]+)?([KMGTPE]i?)?$/.test(storage.size))
    errors.push(`spec.storage.size must be a quantity such as 1Gi, got ${storage.size}`);
  for (const key of ["secretName", "clientSecretName"] as const) {
    const v = spec.tls?.[key];
    if (v !== undefined && !SECRET_NAME.test(v))
      errors.push(`spec.tls.${key} must be a Secret name (DNS-1123 subdomain), got ${v}`);
  }
  return { errors, warnings };
}
