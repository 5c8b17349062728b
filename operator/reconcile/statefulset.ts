/** Pure builder of the StatefulSet that runs the juraft nodes. */
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { ResolvedSpec } from "../api/defaults.js";
import { RECORDED_KEY } from "./objects.js";
import {
  DATA_VOLUME,
  NODE_CONTAINER,
  NODE_PORT,
  baseName,
  childMeta,
  clusterIdOf,
  configMapName,
  headlessName,
  labels,
  selectorLabels,
  type ClusterRef,
} from "./names.js";

/** Non-root user and group of the image (see Dockerfile). */
export const NODE_UID = 10001;
const CONFIG_DIR = "/etc/juraft";

/**
 * The container's shell wrapper: adds `--cluster-id-recorded` when the mounted ConfigMap says a
 * cluster id is recorded, then execs `juraft` with the arguments (so SIGTERM reaches the node).
 */
export const ENTRYPOINT_SCRIPT = `if [ "$(cat ${CONFIG_DIR}/${RECORDED_KEY} 2>/dev/null)" = true ]; then set -- "$@" --cluster-id-recorded; fi; exec juraft "$@"`;

/** The `juraft serve` arguments of every pod (`$(POD_NAME)` is expanded by the kubelet). */
export function serveArgs(c: ClusterRef, spec: ResolvedSpec): string[] {
  const peers = `${headlessName(c)}.${c.namespace}.svc`;
  return [
    "serve",
    "--data-dir=/data",
    `--listen=0.0.0.0:${NODE_PORT}`,
    "--name=$(POD_NAME)",
    `--advertise=$(POD_NAME).${peers}:${NODE_PORT}`,
    `--peers-dns=${peers}:${NODE_PORT}`,
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
  const probe = { grpc: { port: NODE_PORT }, periodSeconds: 5, timeoutSeconds: 2 };
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
        metadata: { labels: labels(c) },
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
              ports: [{ name: "grpc", containerPort: NODE_PORT }],
              readinessProbe: { ...probe, failureThreshold: 3 },
              livenessProbe: { ...probe, initialDelaySeconds: 10, failureThreshold: 6 },
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
              ],
            },
          ],
          volumes: [
            { name: "config", configMap: { name: configMapName(c) } },
            { name: "tmp", emptyDir: {} },
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
