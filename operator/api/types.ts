/**
 * `JuraftCluster` (group `juraft.dev`, version `v1alpha1`): the hand-written source of truth for
 * the CRD. Every field is documented here; `schema.ts` mirrors it as OpenAPI.
 */

import type { IAffinity } from "kubernetes-models/v1/Affinity";
import type { IToleration } from "kubernetes-models/v1/Toleration";
import type { ITopologySpreadConstraint } from "kubernetes-models/v1/TopologySpreadConstraint";

/** API group of the JuraftCluster resource. */
export const GROUP = "juraft.dev";
/** API version of the JuraftCluster resource. */
export const VERSION = "v1alpha1";
/** Kind of the resource. */
export const KIND = "JuraftCluster";
/** Plural resource name. */
export const PLURAL = "juraftclusters";
/** `apiVersion` of the resource. */
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Transaction semantics of a new cluster (`juraft serve --mode`). */
export type TxnMode = "client" | "server";

/** Resource requests and limits of the node container (Kubernetes quantities). */
export interface ResourceRequirements {
  readonly requests?: Readonly<Record<string, string>>;
  readonly limits?: Readonly<Record<string, string>>;
}

/** The persistent volume of each member. */
export interface StorageSpec {
  /** Size of each member's volume, e.g. `1Gi`. */
  readonly size?: string;
  /** Storage class; the cluster default when absent. */
  readonly storageClassName?: string;
}

/** Raft tuning passed to `juraft serve`. */
export interface RaftSpec {
  /** Milliseconds per Raft tick (the election timeout is 10 ticks). */
  readonly tickMs?: number;
  /** Snapshot and compact the log every n applied entries. */
  readonly snapshotEvery?: number;
  /** Log entries kept behind a snapshot for slow followers. */
  readonly snapshotTrailing?: number;
  /** A learner is caught up (and promoted) when it is at most this many entries behind. */
  readonly catchUpLag?: number;
}

/**
 * TLS: the client port serves TLS, members talk mutual TLS on a separate peer port (7071).
 * Secrets are of type `kubernetes.io/tls` with `ca.crt` (what cert-manager writes).
 */
export interface TlsSpec {
  /**
   * Secret with the members' `tls.crt` and `tls.key` (one certificate for every member, with
   * `*.NAME-peers.NAMESPACE.svc`, `*.NAME-peers.NAMESPACE.svc.cluster.local` (SRV answers are fully
   * qualified) and `NAME.NAMESPACE.svc` among its DNS names, usable for server
   * and client authentication) and `ca.crt`, the CA members and clients verify.
   */
  readonly secretName: string;
  /**
   * Secret (same namespace) with the `tls.crt`, `tls.key` and `ca.crt` the operator presents
   * to the nodes' client port. Default: `secretName`.
   */
  readonly clientSecretName?: string;
  /** Clients must present a certificate signed by `ca.crt` (`--tls-ca`). Default true. */
  readonly clientAuth?: boolean;
}

/** OpenTelemetry tracing. */
export interface TracingSpec {
  /** OTLP endpoint, e.g. `http://jaeger-collector:4318`. */
  readonly otlpEndpoint: string;
  /** Fraction of traces sampled, 0..1. */
  readonly samplingRatio?: number;
}

/** Pod scheduling overrides, copied into the StatefulSet's pod template. */
export interface SchedulingSpec {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly IToleration[];
  readonly affinity?: IAffinity;
  readonly topologySpreadConstraints?: readonly ITopologySpreadConstraint[];
  readonly priorityClassName?: string;
}

/** An optional NetworkPolicy admitting only peers, the operator and labelled clients. */
export interface NetworkPolicySpec {
  /** Create the NetworkPolicy (default false: many clusters enforce none). */
  readonly enabled?: boolean;
  /** Labels of the pods (in the cluster's namespace) allowed as clients. */
  readonly clientLabels?: Readonly<Record<string, string>>;
}

/** What the user asks for. */
export interface JuraftClusterSpec {
  /** Number of voting members (>= 1; odd sizes recommended). */
  readonly replicas?: number;
  /** Node image. */
  readonly image?: string;
  /** Image pull policy of the node container. */
  readonly imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  readonly resources?: ResourceRequirements;
  readonly storage?: StorageSpec;
  readonly raft?: RaftSpec;
  /** Transaction semantics of a new cluster. */
  readonly txnMode?: TxnMode;
  readonly tls?: TlsSpec;
  readonly tracing?: TracingSpec;
  readonly scheduling?: SchedulingSpec;
  readonly networkPolicy?: NetworkPolicySpec;
}

/** Role of a member in the Raft configuration. */
export type MemberRole = "voter" | "learner";

/** One Raft member as the operator last saw it. */
export interface MemberStatus {
  /** Member (and pod) name. */
  readonly name: string;
  /** Raft member id (decimal). */
  readonly id: string;
  readonly role: MemberRole;
  /** Within `raft.catchUpLag` entries of the leader's log. */
  readonly caughtUp: boolean;
  /** UID of the PVC the member's data lives on (a new UID means the data was lost). */
  readonly volume?: string;
}

/** Status of a standard condition. */
export type ConditionStatus = "True" | "False" | "Unknown";

/** A standard Kubernetes condition (`metav1.Condition`). */
export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

/** What the operator observed and decided. */
export interface JuraftClusterStatus {
  /** Pods of the StatefulSet (the `/scale` status path). */
  readonly replicas?: number;
  readonly readyReplicas?: number;
  /** The size being converged to: latched from spec.replicas, reached before the next change. */
  readonly targetReplicas?: number;
  readonly members?: readonly MemberStatus[];
  /** Name of the leader. */
  readonly leader?: string;
  /** The Raft cluster id, recorded once the seed has bootstrapped: nothing bootstraps again. */
  readonly clusterId?: string;
  readonly observedGeneration?: number;
  readonly conditions?: readonly Condition[];
  /** Label selector of the pods, serialised (the `/scale` selector path). */
  readonly selector?: string;
}

/** Object metadata the operator relies on. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The custom resource. */
export interface JuraftCluster {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof KIND;
  readonly metadata: ObjectMeta;
  readonly spec: JuraftClusterSpec;
  readonly status?: JuraftClusterStatus;
}
