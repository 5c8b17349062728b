/** Pure defaulting of a JuraftCluster spec. */
import type {
  JuraftClusterSpec,
  ResourceRequirements,
  SchedulingSpec,
  TlsSpec,
  TracingSpec,
  TxnMode,
} from "./types.js";

/** Default node image (built from this repository's Dockerfile). */
export const DEFAULT_IMAGE = "juraft:0.1.0";

/** A spec with every default filled in. */
export interface ResolvedSpec {
  readonly replicas: number;
  readonly image: string;
  readonly imagePullPolicy: "Always" | "IfNotPresent" | "Never";
  readonly resources: ResourceRequirements;
  readonly storage: { readonly size: string; readonly storageClassName?: string };
  readonly raft: {
    readonly tickMs: number;
    readonly snapshotEvery: number;
    readonly snapshotTrailing: number;
    readonly catchUpLag: number;
  };
  readonly txnMode: TxnMode;
  readonly tls?: TlsSpec;
  readonly tracing?: Required<TracingSpec>;
  readonly scheduling: SchedulingSpec;
  /** Undefined when no NetworkPolicy is wanted. */
  readonly networkPolicy?: { readonly clientLabels: Readonly<Record<string, string>> };
}

/** Label a client pod carries to pass the NetworkPolicy by default (value: the cluster's name). */
export const CLIENT_LABEL = "juraft.dev/client-of";

/** Fills in every default (the values `juraft serve` uses when a flag is absent). */
export function withDefaults(spec: JuraftClusterSpec, name = ""): ResolvedSpec {
  const storageClassName = spec.storage?.storageClassName;
  return {
    replicas: spec.replicas ?? 3,
    image: spec.image ?? DEFAULT_IMAGE,
    imagePullPolicy: spec.imagePullPolicy ?? "IfNotPresent",
    resources: spec.resources ?? {},
    storage: {
      size: spec.storage?.size ?? "1Gi",
      ...(storageClassName !== undefined ? { storageClassName } : {}),
    },
    raft: {
      tickMs: spec.raft?.tickMs ?? 100,
      snapshotEvery: spec.raft?.snapshotEvery ?? 100000,
      snapshotTrailing: spec.raft?.snapshotTrailing ?? 1000,
      catchUpLag: spec.raft?.catchUpLag ?? 100,
    },
    txnMode: spec.txnMode ?? "client",
    ...(spec.tls !== undefined ? { tls: spec.tls } : {}),
    ...(spec.tracing !== undefined
      ? {
          tracing: {
            otlpEndpoint: spec.tracing.otlpEndpoint,
            samplingRatio: spec.tracing.samplingRatio ?? 1,
          },
        }
      : {}),
    scheduling: spec.scheduling ?? {},
    ...(spec.networkPolicy?.enabled === true
      ? {
          networkPolicy: {
            clientLabels: spec.networkPolicy.clientLabels ?? { [CLIENT_LABEL]: name },
          },
        }
      : {}),
  };
}
