import { withDefaults } from "../../operator/api/defaults.js";
import type { JuraftCluster } from "../../operator/api/types.js";
import {
  clusterRef,
  memberAddress,
  memberPeerAddress,
  ordinalOfName,
  quorumOf,
  selectorString,
} from "../../operator/reconcile/names.js";
import {
  clientService,
  configMap,
  headlessService,
  networkPolicy,
  podDisruptionBudget,
  serviceAccount,
} from "../../operator/reconcile/objects.js";
import { ENTRYPOINT_SCRIPT, statefulSet } from "../../operator/reconcile/statefulset.js";
import { validateK8s } from "./k8s-validate.js";

const cr: JuraftCluster = {
  apiVersion: "juraft.dev/v1alpha1",
  kind: "JuraftCluster",
  metadata: { name: "db", namespace: "prod", uid: "1234-abcd", generation: 1 },
  spec: {
    replicas: 3,
    storage: { size: "2Gi", storageClassName: "fast" },
    tracing: { otlpEndpoint: "http://jaeger:4318", samplingRatio: 0.5 },
    scheduling: {
      nodeSelector: { disk: "ssd" },
      tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }],
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule" },
      ],
    },
  },
};
const c = clusterRef(cr);
const spec = withDefaults(cr.spec);

describe("desired objects", () => {
  const objects = [
    headlessService(c),
    clientService(c),
    configMap(c, false),
    serviceAccount(c),
    podDisruptionBudget(c, 3, 5),
    networkPolicy(c, { "juraft.dev/client-of": "db" }),
    statefulSet(c, spec, 3),
  ];

  it.each(objects.map((o) => [`${o.kind} ${o.metadata?.name ?? ""}`, o]))(
    "%s passes the official schema",
    (_, o) => {
      expect(() => {
        validateK8s(o);
      }).not.toThrow();
    },
  );

  it("every child is owned by the cluster (controller reference) in its namespace", () => {
    for (const o of objects) {
      expect(o.metadata?.namespace).toBe("prod");
      expect(o.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: "JuraftCluster", uid: "1234-abcd", controller: true }),
      ]);
    }
  });

  it("the headless Service publishes not-ready pods; the client Service does not", () => {
    expect(headlessService(c).spec).toMatchObject({
      clusterIP: "None",
      publishNotReadyAddresses: true,
    });
    expect(clientService(c).spec?.publishNotReadyAddresses).toBeUndefined();
  });

  it("the StatefulSet runs juraft serve with peer DNS, the uid-based cluster id and manual promotion", () => {
    const s = statefulSet(c, spec, 3).spec;
    expect(s?.podManagementPolicy).toBe("Parallel");
    expect(s?.serviceName).toBe("db-peers");
    const pod = s?.template.spec;
    const ctr = pod?.containers[0];
    expect(ctr?.args).toEqual([
      "serve",
      "--data-dir=/data",
      "--listen=0.0.0.0:7070",
      "--name=$(POD_NAME)",
      "--advertise=$(POD_NAME).db-peers.prod.svc:7070",
      "--peers-dns=db-peers.prod.svc:7070",
      "--metrics-listen=0.0.0.0:9090",
      "--cluster-id=db-1234-abcd",
      "--manual-promotion",
      "--mode=client",
      "--tick-ms=100",
      "--snapshot-every=100000",
      "--snapshot-trailing=1000",
    ]);
    expect(ctr?.command).toEqual(["/bin/sh", "-c", ENTRYPOINT_SCRIPT, "juraft"]);
    expect(ctr?.terminationMessagePolicy).toBe("FallbackToLogsOnError");
    expect(ctr?.ports).toEqual([
      { name: "grpc", containerPort: 7070 },
      { name: "metrics", containerPort: 9090 },
    ]);
    expect(s?.template.metadata?.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9090",
      "prometheus.io/path": "/metrics",
    });
    expect(ctr?.readinessProbe?.grpc).toEqual({ port: 7070 });
    expect(ctr?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    expect(pod?.nodeSelector).toEqual({ disk: "ssd" });
    expect(ctr?.env).toContainEqual({ name: "OTEL_TRACES_SAMPLER_ARG", value: "0.5" });
    expect(s?.volumeClaimTemplates?.[0]?.spec).toMatchObject({
      storageClassName: "fast",
      resources: { requests: { storage: "2Gi" } },
    });
  });

  it("the ConfigMap carries whether the cluster id is recorded", () => {
    expect(configMap(c, true).data).toEqual({
      "cluster-id": "db-1234-abcd",
      "cluster-id-recorded": "true",
    });
  });

  it("the PDB keeps a quorum of the larger of voters and target", () => {
    expect(podDisruptionBudget(c, 3, 5).spec?.minAvailable).toBe(3);
    expect(podDisruptionBudget(c, 1, 1).spec?.minAvailable).toBe(1);
  });

  it("an invalid object is caught by the schema check", () => {
    const bad = { ...statefulSet(c, spec, 3), spec: { replicas: "three" } };
    expect(() => {
      validateK8s(bad);
    }).toThrow();
  });
});

describe("TLS", () => {
  const tlsCr: JuraftCluster = { ...cr, spec: { ...cr.spec, tls: { secretName: "db-tls" } } };
  const t = clusterRef(tlsCr);
  const sts = statefulSet(t, withDefaults(tlsCr.spec), 3);
  const ctr = sts.spec?.template.spec?.containers[0];

  it("defaults: the operator presents the members' Secret, clients need a certificate", () => {
    expect(t.tls).toEqual({ secretName: "db-tls", clientSecretName: "db-tls", clientAuth: true });
    const open = clusterRef({
      ...cr,
      spec: { tls: { secretName: "s", clientSecretName: "op", clientAuth: false } },
    });
    expect(open.tls).toEqual({ secretName: "s", clientSecretName: "op", clientAuth: false });
    expect(
      statefulSet(open, withDefaults({}), 1).spec?.template.spec?.containers[0]?.args,
    ).not.toContain("--tls-ca=/etc/juraft/tls/ca.crt");
  });

  it("every object passes the official schema", () => {
    for (const o of [headlessService(t), clientService(t), networkPolicy(t, { app: "juju" }), sts])
      expect(() => {
        validateK8s(o);
      }).not.toThrow();
  });

  it("the pods serve TLS on 7070 and mutual TLS on the peer port, found through its SRV name", () => {
    expect(ctr?.args).toEqual(
      expect.arrayContaining([
        "--peer-listen=0.0.0.0:7071",
        "--peers-dns=_peer._tcp.db-peers.prod.svc",
        "--tls-cert=/etc/juraft/tls/tls.crt",
        "--tls-key=/etc/juraft/tls/tls.key",
        "--tls-ca=/etc/juraft/tls/ca.crt",
        "--peer-tls-cert=/etc/juraft/tls/tls.crt",
        "--peer-tls-key=/etc/juraft/tls/tls.key",
        "--peer-tls-ca=/etc/juraft/tls/ca.crt",
      ]),
    );
    expect(ctr?.args?.filter((a) => a.startsWith("--peers-dns"))).toHaveLength(1);
    expect(ctr?.ports?.map((p) => p.name)).toEqual(["grpc", "peer", "metrics"]);
    expect(ctr?.volumeMounts).toContainEqual({
      name: "tls",
      mountPath: "/etc/juraft/tls",
      readOnly: true,
    });
    expect(sts.spec?.template.spec?.volumes).toContainEqual({
      name: "tls",
      secret: { secretName: "db-tls", defaultMode: 0o440 },
    });
    expect(headlessService(t).spec?.ports?.map((p) => `${p.name ?? ""}:${String(p.port)}`)).toEqual(
      ["grpc:7070", "peer:7071"],
    );
    expect(clientService(t).spec?.ports?.map((p) => p.port)).toEqual([7070]);
    expect(memberPeerAddress(t, 1)).toBe("db-1.db-peers.prod.svc:7071");
    expect(memberPeerAddress(c, 1)).toBe("db-1.db-peers.prod.svc:7070");
  });

  it("readiness and liveness run the TLS health check in the pod (the gRPC probe is cleartext)", () => {
    const probe = {
      exec: {
        command: [
          "node",
          "/app/operator/cli/juraft-probe.mjs",
          "127.0.0.1:7070",
          "/etc/juraft/tls/ca.crt",
          "/etc/juraft/tls/tls.crt",
          "/etc/juraft/tls/tls.key",
        ],
      },
    };
    expect(ctr?.readinessProbe).toMatchObject(probe);
    expect(ctr?.livenessProbe).toMatchObject(probe);
    expect(ctr?.readinessProbe?.grpc).toBeUndefined();
  });

  it("the NetworkPolicy admits only the members on the peer port, anyone on metrics", () => {
    const rules = networkPolicy(t, { app: "juju" }).spec?.ingress ?? [];
    expect(rules.map((r) => r.ports)).toEqual([
      [{ protocol: "TCP", port: 7070 }],
      [{ protocol: "TCP", port: 7071 }],
      [{ protocol: "TCP", port: 9090 }],
    ]);
    expect(rules[1]?.from).toEqual([
      {
        podSelector: {
          matchLabels: { "app.kubernetes.io/name": "juraft", "app.kubernetes.io/instance": "db" },
        },
      },
    ]);
    expect(rules[2]?.from).toBeUndefined();
  });
});

describe("names", () => {
  it("derive ordinals, addresses, quorum and the scale selector", () => {
    expect(ordinalOfName(c, "db-12")).toBe(12);
    expect(ordinalOfName(c, "db-01")).toBeUndefined();
    expect(ordinalOfName(c, "other-1")).toBeUndefined();
    expect(memberAddress(c, 2)).toBe("db-2.db-peers.prod.svc:7070");
    expect([1, 2, 3, 4, 5].map(quorumOf)).toEqual([1, 2, 2, 3, 3]);
    expect(selectorString(c)).toBe("app.kubernetes.io/name=juraft,app.kubernetes.io/instance=db");
  });

  it("refuse a resource without a uid", () => {
    expect(() => clusterRef({ ...cr, metadata: { name: "x", namespace: "n" } })).toThrow(/uid/);
  });
});

describe("NetworkPolicy", () => {
  it("is absent by default and admits peers, the operator and labelled clients on the node port", () => {
    expect(withDefaults({}).networkPolicy).toBeUndefined();
    const on = withDefaults({ networkPolicy: { enabled: true } }, "db").networkPolicy;
    expect(on).toEqual({ clientLabels: { "juraft.dev/client-of": "db" } });
    const custom = withDefaults({
      networkPolicy: { enabled: true, clientLabels: { app: "juju" } },
    });
    expect(custom.networkPolicy?.clientLabels).toEqual({ app: "juju" });
    const np = networkPolicy(c, { app: "juju" });
    expect(np.spec?.podSelector.matchLabels).toEqual({
      "app.kubernetes.io/name": "juraft",
      "app.kubernetes.io/instance": "db",
    });
    expect(np.spec?.ingress?.[0]?.ports).toEqual([{ protocol: "TCP", port: 7070 }]);
    expect(np.spec?.ingress?.[0]?.from?.map((f) => f.podSelector?.matchLabels)).toEqual([
      { "app.kubernetes.io/name": "juraft", "app.kubernetes.io/instance": "db" },
      { app: "juju" },
      { "app.kubernetes.io/name": "juraft-operator" },
    ]);
    expect(np.spec?.ingress?.[0]?.from?.[2]?.namespaceSelector).toEqual({});
  });
});
