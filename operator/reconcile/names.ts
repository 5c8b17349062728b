/** Names, labels and identities of a JuraftCluster's children (pure). */
import { API_VERSION, KIND, type JuraftCluster } from "../api/types.js";

/** The node's gRPC port (clients and health; peers too unless TLS splits them off). */
export const NODE_PORT = 7070;
/** The members' port with TLS (`--peer-listen`, mutual TLS), as etcd's 2379/2380 pair. */
export const PEER_PORT = 7071;
/** Prometheus `/metrics` (`--metrics-listen`), plain HTTP. */
export const METRICS_PORT = 9090;
/** Field manager of every server-side apply. */
export const FIELD_MANAGER = "juraft-operator";
/** Name of the StatefulSet's volume claim template. */
export const DATA_VOLUME = "data";
/** Name of the node container in each pod. */
export const NODE_CONTAINER = "juraft";

/** TLS of a cluster (spec.tls with defaults). */
export interface ClusterTls {
  /** Secret with every member's `tls.crt`, `tls.key` and the cluster CA `ca.crt`. */
  readonly secretName: string;
  /** Secret with the certificate the operator presents to the nodes (and `ca.crt`). */
  readonly clientSecretName: string;
  /** Clients of the client port must present a certificate signed by `ca.crt`. */
  readonly clientAuth: boolean;
}

/** A cluster's identity: what every builder needs from the resource. */
export interface ClusterRef {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** Present when the members talk TLS (client port, and peers on {@link PEER_PORT}). */
  readonly tls?: ClusterTls;
}

/** The identity of a JuraftCluster (throws if it has no namespace or uid yet). */
export function clusterRef(c: JuraftCluster): ClusterRef {
  const { name, namespace, uid } = c.metadata;
  if (namespace === undefined || uid === undefined)
    throw new Error(`JuraftCluster ${name}: metadata.namespace and metadata.uid are required`);
  const tls = c.spec.tls;
  return {
    name,
    namespace,
    uid,
    ...(tls !== undefined
      ? {
          tls: {
            secretName: tls.secretName,
            clientSecretName: tls.clientSecretName ?? tls.secretName,
            clientAuth: tls.clientAuth ?? true,
          },
        }
      : {}),
  };
}

/** Headless Service giving each pod a stable peer DNS name. */
export const headlessName = (c: ClusterRef): string => `${c.name}-peers`;
/** Client Service, StatefulSet, PDB and ServiceAccount name. */
export const baseName = (c: ClusterRef): string => c.name;
/** ConfigMap name. */
export const configMapName = (c: ClusterRef): string => `${c.name}-config`;
/** Pod (and Raft member) name of an ordinal. */
export const podName = (c: ClusterRef, ordinal: number): string => `${c.name}-${ordinal}`;
/** PVC of an ordinal, as the StatefulSet controller names it. */
export const pvcName = (c: ClusterRef, ordinal: number): string =>
  `${DATA_VOLUME}-${c.name}-${ordinal}`;
/** A member's client address (its stable DNS name through the headless Service). */
export const memberAddress = (c: ClusterRef, ordinal: number): string =>
  `${podName(c, ordinal)}.${headlessName(c)}.${c.namespace}.svc:${NODE_PORT}`;
/** The address a member advertises to the others: the peer port with TLS, else the one port. */
export const memberPeerAddress = (c: ClusterRef, ordinal: number): string =>
  `${podName(c, ordinal)}.${headlessName(c)}.${c.namespace}.svc:${c.tls !== undefined ? PEER_PORT : NODE_PORT}`;
/** The Raft cluster id: includes the UID so a stale volume of a same-named cluster cannot join. */
export const clusterIdOf = (c: ClusterRef): string => `${c.name}-${c.uid}`;

/** The ordinal of a member or pod name of this cluster (`name-3` -> 3), or undefined. */
export function ordinalOfName(c: ClusterRef, name: string): number | undefined {
  const prefix = `${c.name}-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}

/** Labels selecting the cluster's pods. */
export function selectorLabels(c: ClusterRef): Record<string, string> {
  return { "app.kubernetes.io/name": "juraft", "app.kubernetes.io/instance": c.name };
}

/** Labels of every child object. */
export function labels(c: ClusterRef): Record<string, string> {
  return {
    ...selectorLabels(c),
    "app.kubernetes.io/component": "node",
    "app.kubernetes.io/managed-by": FIELD_MANAGER,
  };
}

/** The selector serialised for `status.selector` (the `/scale` label selector). */
export function selectorString(c: ClusterRef): string {
  return Object.entries(selectorLabels(c))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** Metadata of a child: name, namespace, labels and the controller owner reference. */
export function childMeta(
  c: ClusterRef,
  name: string,
): {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller: boolean;
    blockOwnerDeletion: boolean;
  }[];
} {
  return {
    name,
    namespace: c.namespace,
    labels: labels(c),
    ownerReferences: [
      {
        apiVersion: API_VERSION,
        kind: KIND,
        name: c.name,
        uid: c.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

/** Votes needed for a majority of n voters. */
export const quorumOf = (n: number): number => Math.floor(n / 2) + 1;
