/**
 * The operator's end-to-end scenario (test/operator/scenario.ts) against a real Kubernetes
 * cluster (kind or minikube) where the chart is installed and the image loaded (see the README's
 * operator section). It runs when a kubeconfig is present (KUBECONFIG or ~/.kube/config), the
 * API server answers and the JuraftCluster CRD is installed; otherwise it prints why it skipped.
 * The substitute that runs everywhere is test/operator/processes.test.ts (the same scenario with
 * real node processes as pods of the fake API server).
 *
 * Pods are reached through port-forwards (one local port per pod name), so nothing but the
 * Kubernetes API has to be reachable from where the test runs.
 */
import { jest } from "@jest/globals";
import { existsSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Exec,
  KubeConfig,
  PortForward,
  V1Namespace,
  V1ObjectMeta,
} from "@kubernetes/client-node";
import { JuraftClient } from "../../node/client/index.js";
import { GROUP, PLURAL, VERSION } from "../../operator/api/types.js";
import { NodeAdmin } from "../../operator/cluster/admin.js";
import { Kube } from "../../operator/kube/client.js";
import { clusterRef, selectorString } from "../../operator/reconcile/names.js";
import { sleep } from "../process/harness.js";
import { runScenario, type ClusterDriver } from "../operator/scenario.js";

jest.setTimeout(45 * 60_000);

const NAME = "e2e";
const PODS = [0, 1, 2, 3, 4].map((o) => `${NAME}-${String(o)}`);

/** Why the scenario cannot run here, or undefined when a cluster with the CRD answers. */
async function whyNoCluster(): Promise<string | undefined> {
  const path = process.env["KUBECONFIG"] ?? join(homedir(), ".kube", "config");
  if (!existsSync(path)) return `no kubeconfig (KUBECONFIG unset and ${path} absent)`;
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error("no answer within 5 s"));
      }, 5000);
    });
    try {
      await Promise.race([
        kc
          .makeApiClient(ApiextensionsV1Api)
          .readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  } catch (err) {
    return `the cluster in ${path} does not answer or lacks the ${PLURAL}.${GROUP} CRD (helm install the chart first): ${String(err).slice(0, 200)}`;
  }
  return undefined;
}

const reason = await whyNoCluster();
if (reason !== undefined)
  process.stdout.write(
    `test/e2e skipped: ${reason}; the same scenario runs in test/operator/processes.test.ts\n`,
  );

(reason === undefined ? describe : describe.skip)("the operator on a real cluster", () => {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const kube = new Kube(kc);
  const namespace = `juraft-e2e-${String(Date.now() % 1_000_000)}`;
  const forwards = new Map<string, Server>();

  afterAll(async () => {
    for (const s of forwards.values()) s.close();
    await core.deleteNamespace({ name: namespace });
  });

  /** A local port forwarded to a pod's node port (connections fail while the pod is absent). */
  async function forward(pod: string): Promise<string> {
    let s = forwards.get(pod);
    if (s === undefined) {
      const pf = new PortForward(kc);
      const server = createServer((socket) => {
        pf.portForward(namespace, pod, [7070], socket, null, socket).catch(() => socket.destroy());
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      forwards.set(pod, server);
      s = server;
    }
    return `127.0.0.1:${String((s.address() as AddressInfo).port)}`;
  }

  it("runs the scenario: 3 -> 5 -> 3 -> (5 -> 3) -> 1 -> 3, a crash, wiped data, a wiped volume", async () => {
    const ns = Object.assign(new V1Namespace(), {
      metadata: Object.assign(new V1ObjectMeta(), { name: namespace }),
    });
    await core.createNamespace({ body: ns });
    const local = new Map<string, string>();
    for (const p of PODS) local.set(p, await forward(p));
    const translate = (address: string): string =>
      local.get(address.split(".")[0] ?? "") ?? address;
    const admin = new NodeAdmin({ sleep, translate });
    const get = () => kube.getCluster(namespace, NAME);
    const driver: ClusterDriver = {
      name: NAME,
      async create(replicas) {
        await custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: "JuraftCluster",
            metadata: { name: NAME, namespace },
            spec: { replicas, image: process.env["JURAFT_IMAGE"] ?? "juraft:0.1.0" },
          },
        });
      },
      scale: (n) => kube.scaleCluster(namespace, NAME, n),
      get,
      statefulSetReplicas: async () => (await kube.getStatefulSet(namespace, NAME))?.spec?.replicas,
      pods: async () => {
        const c = await get();
        if (c === undefined) return [];
        return (await kube.listPods(namespace, selectorString(clusterRef(c))))
          .filter((p) => p.metadata?.deletionTimestamp === undefined)
          .map((p) => ({
            name: p.metadata?.name ?? "",
            ready:
              p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") === true,
          }));
      },
      pvcs: async () => {
        const c = await get();
        if (c === undefined) return [];
        return (await kube.listPvcs(namespace, selectorString(clusterRef(c)))).map(
          (p) => p.metadata?.name ?? "",
        );
      },
      raft: async () => {
        const c = await get();
        return c === undefined ? undefined : admin.status(clusterRef(c), 5);
      },
      client: () => new JuraftClient({ endpoints: [...local.values()], timeoutMs: 5000 }),
      async crash(pod) {
        await core.deleteNamespacedPod({ namespace, name: pod, gracePeriodSeconds: 0 });
      },
      async wipeData(pod) {
        // Empty /data under the running node, then stop it (SIGTERM to PID 1, the node: SIGKILL
        // from inside the pod is ignored for PID 1); the kubelet restarts it on the same PVC.
        const exec = new Exec(kc);
        await new Promise<void>((resolve, reject) => {
          exec
            .exec(
              namespace,
              pod,
              "juraft",
              ["/bin/sh", "-c", "rm -rf /data/* /data/.[!.]*; kill -TERM 1"],
              null,
              null,
              null,
              false,
              (st) => {
                if (st.status === "Success") resolve();
                else reject(new Error(`wipe data of ${pod}: ${st.message ?? "exec failed"}`));
              },
            )
            .catch(reject);
          // The container may stop before the status arrives; the step's checks judge the rest.
          setTimeout(resolve, 20_000);
        });
      },
      async wipe(pod) {
        await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: `data-${pod}` });
        await core.deleteNamespacedPod({ namespace, name: pod });
      },
      async diagnostics() {
        const events = await core.listNamespacedEvent({ namespace });
        return events.items
          .slice(-30)
          .map(
            (e) =>
              `${e.type ?? ""} ${e.reason ?? ""} ${e.involvedObject.name ?? ""}: ${e.message ?? ""}`,
          )
          .join("\n");
      },
    };
    const results = await runScenario(driver, { stepMs: 300_000 });
    process.stdout.write(`${JSON.stringify({ results })}\n`);
    expect(results).toHaveLength(9);
  });
});
