/** Pure builder of the StatefulSet that runs the juraft nodes. */
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { ResolvedSpec } from "../api/defaults.js";
import { RECORDED_KEY } from "./objects.js";
import {
  DATA_VOLUME,
  METRICS_PORT,
  NODE_CONTAINER,
  NODE_PORT,
  PEER_PORT,
  baseName,
  childMeta,
  clusterIdOf,
  configMapName,
  headlessName,
  labels,
  selectorLabels,
  type ClusterRef,
} from "./names.js";

/**
 * Prometheus' conventional pod annotations (kubernetes_sd_configs role: pod): every pod, ready
 * or not, is scraped on its metrics port, with no Service or ServiceMonitor needed.
 */
export const METRICS_ANNOTATIONS: Readonly<Record<string, string>> = {
  "prometheus.io/scrape": "true",
  "prometheus.io/port": String(METRICS_PORT),
  "prometheus.io/path": "/metrics",
};

/** Non-root user and group of the image (see Dockerfile). */
export const NODE_UID = 10001;
const CONFIG_DIR = "/etc/juraft";

/**
 * The container's shell wrapper: adds `--cluster-id-recorded` when the mounted ConfigMap says a
 * cluster id is recorded, then execs `juraft` with the arguments (so SIGTERM reaches the node).
 */
export const ENTRYPOINT_SCRIPT = `if [ "$(cat ${CONFIG_DIR}/${RECORDED_KEY} 2>/dev/null)" = true ]; then set -- "$@" --cluster-id-recorded; fi; exec juraft "$@"`;

/** Where the TLS Secret is mounted (`tls.crt`, `tls.key`, `ca.crt`). */
export const TLS_DIR = "/etc/juraft/tls";
/** The image's readiness check over TLS (see {@link readinessCheck}). */
export const PROBE_SCRIPT = "/app/operator/cli/juraft-probe.mjs";

/** TLS flags: the Secret's certificate on both ports, mutual TLS between members. */
function tlsArgs(c: ClusterRef): string[] {
  if (c.tls === undefined) return [];
  const peers = `${headlessName(c)}.${c.namespace}.svc`;
  return [
    `--peer-listen=0.0.0.0:${PEER_PORT}`,
    // The peer port's SRV records (`_peer._tcp`): a bare-name SRV answer would mix both ports.
    `--peers-dns=_peer._tcp.${peers}`,
    `--tls-cert=${TLS_DIR}/tls.crt`,
    `--tls-key=${TLS_DIR}/tls.key`,
    ...(c.tls.clientAuth ? [`--tls-ca=${TLS_DIR}/ca.crt`] : []),
    `--peer-tls-cert=${TLS_DIR}/tls.crt`,
    `--peer-tls-key=${TLS_DIR}/tls.key`,
    `--peer-tls-ca=${TLS_DIR}/ca.crt`,
  ];
}

/** The `juraft serve` arguments of every pod (`$(POD_NAME)` is expanded by the kubelet). */
export function serveArgs(c: ClusterRef, spec: ResolvedSpec): string[] {
  const peers = `${headlessName(c)}.${c.namespace}.svc`;
  return [
    "serve",
    "--data-dir=/data",
    `--listen=0.0.0.0:${NODE_PORT}`,
    "--name=$(POD_NAME)",
    `--advertise=$(POD_NAME).${peers}:${NODE_PORT}`,
    ...(c.tls === undefined ? [`--peers-dns=${peers}:${NODE_PORT}`] : tlsArgs(c)),
    `--metrics-listen=0.0.0.0:${METRICS_PORT}`,
    `--cluster-id=${clusterIdOf(c)}`,
    "--manual-promotion",
    `--mode=${spec.txnMode}`,
    `--tick-ms=${spec.raft.tickMs}`,
    `--snapshot-every=${spec.raft.snapshotEvery}`,
    `--snapshot-trailing=${spec.raft.snapshotTrailing}`,
  ];
}

/**
 * Seconds a pod gets to stop: the node transfers leadership on SIGTERM (a shutdown is not a
 * leave), so no preStop hook is needed, only a grace period well beyond an election (10 ticks).
 */
export function gracePeriodSeconds(spec: ResolvedSpec): number {
  return Math.max(30, Math.ceil((20 * 10 * spec.raft.tickMs) / 1000));
}

/**
 * Readiness and liveness: the node's grpc.health.v1 service. Without TLS Kubernetes' own gRPC
 * probe asks it; that probe cannot speak TLS, so with TLS an exec probe runs the image's
 * dependency-free checker (node:http2 only, a few tens of ms of CPU), which verifies the node's
 * certificate chain against ca.crt (not the name: it dials its own pod on 127.0.0.1) and
 * presents the member certificate for `--tls-ca`.
 */
export function readinessCheck(c: ClusterRef): IProbe {
  if (c.tls === undefined)
    return { grpc: { port: NODE_PORT }, periodSeconds: 5, timeoutSeconds: 2 };
  return {
    exec: {
      command: [
        "node",
        PROBE_SCRIPT,
        `127.0.0.1:${NODE_PORT}`,
        `${TLS_DIR}/ca.crt`,
        `${TLS_DIR}/tls.crt`,
        `${TLS_DIR}/tls.key`,
      ],
    },
    periodSeconds: 5,
    timeoutSeconds: 5,
  };
}

function env(spec: ResolvedSpec): IEnvVar[] {
  const vars: IEnvVar[] = [
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "HOME", value: "/tmp" },
  ];
  if (spec.tracing !== undefined)
    vars.push(
      { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: spec.tracing.otlpEndpoint },
      { name: "OTEL_TRACES_SAMPLER", value: "parentbased_traceidratio" },
      { name: "OTEL_TRACES_SAMPLER_ARG", value: String(spec.tracing.samplingRatio) },
    );
  return vars;
}

/** The StatefulSet at the given replica count (the membership planner decides the count). */
export function statefulSet(c: ClusterRef, spec: ResolvedSpec, replicas: number): IStatefulSet {
  const probe = readinessCheck(c);
  const s = spec.scheduling;
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: childMeta(c, baseName(c)),
    spec: {
      replicas,
      serviceName: headlessName(c),
      // OrderedReady would deadlock: pod 0 cannot be Ready without the others of its quorum.
      podManagementPolicy: "Parallel",
      selector: { matchLabels: selectorLabels(c) },
      // The operator deletes a removed member's PVC itself, after Raft has removed the member.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      template: {
        metadata: { labels: labels(c), annotations: { ...METRICS_ANNOTATIONS } },
        spec: {
          serviceAccountName: baseName(c),
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: gracePeriodSeconds(spec),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: NODE_UID,
            runAsGroup: NODE_UID,
            fsGroup: NODE_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: NODE_CONTAINER,
              image: spec.image,
              imagePullPolicy: spec.imagePullPolicy,
              command: ["/bin/sh", "-c", ENTRYPOINT_SCRIPT, "juraft"],
              args: serveArgs(c, spec),
              env: env(spec),
              ports: [
                { name: "grpc", containerPort: NODE_PORT },
                ...(c.tls !== undefined ? [{ name: "peer", containerPort: PEER_PORT }] : []),
                { name: "metrics", containerPort: METRICS_PORT },
              ],
              readinessProbe: { ...probe, failureThreshold: 3 },
              // 30 s of failures restart the node; every 10 s halves the exec probe's cost.
              livenessProbe: {
                ...probe,
                initialDelaySeconds: 10,
                periodSeconds: 10,
                failureThreshold: 3,
              },
              resources: { ...spec.resources },
              // A node that exits (e.g. refused rejoining after its data dir was wiped) leaves
              // its last log lines as the termination message the operator reads.
              terminationMessagePolicy: "FallbackToLogsOnError",
              securityContext: {
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: DATA_VOLUME, mountPath: "/data" },
                { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
                ...(c.tls !== undefined
                  ? [{ name: "tls", mountPath: TLS_DIR, readOnly: true }]
                  : []),
              ],
            },
          ],
          volumes: [
            { name: "config", configMap: { name: configMapName(c) } },
            { name: "tmp", emptyDir: {} },
            // Group-readable: the pod's fsGroup owns the files, the node runs in that group.
            ...(c.tls !== undefined
              ? [{ name: "tls", secret: { secretName: c.tls.secretName, defaultMode: 0o440 } }]
              : []),
          ],
          ...(s.nodeSelector !== undefined ? { nodeSelector: { ...s.nodeSelector } } : {}),
          ...(s.tolerations !== undefined
            ? { tolerations: s.tolerations.map((t) => ({ ...t })) }
            : {}),
          ...(s.affinity !== undefined ? { affinity: { ...s.affinity } } : {}),
          ...(s.topologySpreadConstraints !== undefined
            ? { topologySpreadConstraints: s.topologySpreadConstraints.map((t) => ({ ...t })) }
            : {}),
          ...(s.priorityClassName !== undefined ? { priorityClassName: s.priorityClassName } : {}),
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: DATA_VOLUME, labels: labels(c) },
          spec: {
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: spec.storage.size } },
            ...(spec.storage.storageClassName !== undefined
              ? { storageClassName: spec.storage.storageClassName }
              : {}),
          },
        },
      ],
    },
  };
}
