/** Pure builders of the small children: Services, ConfigMap, ServiceAccount, PDB. */
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IService } from "kubernetes-models/v1/Service";
import type { IServicePort } from "kubernetes-models/v1/ServicePort";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import {
  METRICS_PORT,
  NODE_PORT,
  PEER_PORT,
  baseName,
  childMeta,
  clusterIdOf,
  configMapName,
  headlessName,
  quorumOf,
  selectorLabels,
  type ClusterRef,
} from "./names.js";

/** The client port (h2c, or h2 over TLS). */
const clientPort = (c: ClusterRef): IServicePort =>
  c.tls === undefined
    ? { name: "grpc", port: NODE_PORT, targetPort: "grpc", appProtocol: "kubernetes.io/h2c" }
    : { name: "grpc", port: NODE_PORT, targetPort: "grpc" };

/** Headless Service for peer DNS; not-ready pods are published so a quorum can form. */
export function headlessService(c: ClusterRef): IService {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMeta(c, headlessName(c)),
    spec: {
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: selectorLabels(c),
      // With TLS members meet on the peer port: its SRV name `_peer._tcp.NAME-peers.NS.svc`.
      ports: [
        clientPort(c),
        ...(c.tls !== undefined ? [{ name: "peer", port: PEER_PORT, targetPort: "peer" }] : []),
      ],
    },
  };
}

/** Client Service: ready members only. */
export function clientService(c: ClusterRef): IService {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMeta(c, baseName(c)),
    spec: { type: "ClusterIP", selector: selectorLabels(c), ports: [clientPort(c)] },
  };
}

/** Key of the ConfigMap entry the pods read at start to know a cluster id is recorded. */
export const RECORDED_KEY = "cluster-id-recorded";

/**
 * ConfigMap mounted into every pod. `cluster-id-recorded` turns `true` once the operator has
 * recorded the cluster id, and from then on no pod may bootstrap; being a mounted file, it
 * reaches restarted pods without rolling the StatefulSet.
 */
export function configMap(c: ClusterRef, clusterIdRecorded: boolean): IConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: childMeta(c, configMapName(c)),
    data: { "cluster-id": clusterIdOf(c), [RECORDED_KEY]: String(clusterIdRecorded) },
  };
}

/** ServiceAccount of the pods (they never call the Kubernetes API: no token). */
export function serviceAccount(c: ClusterRef): IServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: childMeta(c, baseName(c)),
    automountServiceAccountToken: false,
  };
}

/**
 * PodDisruptionBudget: voluntary evictions (drains) must leave a quorum of the larger of the
 * current voters and the target size running.
 */
export function podDisruptionBudget(
  c: ClusterRef,
  voters: number,
  target: number,
): IPodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: childMeta(c, baseName(c)),
    spec: {
      minAvailable: quorumOf(Math.max(voters, target)),
      selector: { matchLabels: selectorLabels(c) },
    },
  };
}

/** Labels of the operator's pods (the chart's selector label), admitted by the NetworkPolicy. */
export const OPERATOR_POD_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/name": "juraft-operator",
};

/**
 * NetworkPolicy (optional): the node port admits only the cluster's own pods (Raft peers), the
 * operator (membership calls, from any namespace) and the pods carrying `clientLabels`; the TLS
 * peer port only the cluster's pods; the metrics port anyone. Kubelet probes come from the node
 * and are not subject to it.
 */
export function networkPolicy(
  c: ClusterRef,
  clientLabels: Readonly<Record<string, string>>,
): INetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: childMeta(c, baseName(c)),
    spec: {
      podSelector: { matchLabels: selectorLabels(c) },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: selectorLabels(c) } },
            { podSelector: { matchLabels: { ...clientLabels } } },
            { namespaceSelector: {}, podSelector: { matchLabels: { ...OPERATOR_POD_LABELS } } },
          ],
          ports: [{ protocol: "TCP", port: NODE_PORT }],
        },
        ...(c.tls !== undefined
          ? [
              {
                from: [{ podSelector: { matchLabels: selectorLabels(c) } }],
                ports: [{ protocol: "TCP" as const, port: PEER_PORT }],
              },
            ]
          : []),
        // Prometheus may run anywhere; /metrics is read-only.
        { ports: [{ protocol: "TCP" as const, port: METRICS_PORT }] },
      ],
    },
  };
}
