/**
 * `juraft-operator`: the manager. Holds a Lease (leader election), watches JuraftClusters and
 * their StatefulSets and pods, and reconciles each cluster key through a deduplicating queue
 * with requeue-after. Health on :8081 (/healthz, /readyz).
 */
import http from "node:http";
import { Command } from "commander";
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Watch,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "./api/types.js";
import { NodeAdmin } from "./cluster/admin.js";
import { secretCredentials } from "./cluster/credentials.js";
import { Kube } from "./kube/client.js";
import { Informer, type ListFn } from "./kube/informer.js";
import { LeaderElector } from "./kube/leader-election.js";
import { reconcile } from "./reconcile/reconciler.js";

const opts = new Command("juraft-operator")
  .option("--namespace <ns>", "namespace to watch (default: all)", "")
  .option("--leader-elect <bool>", "hold a Lease before reconciling", "true")
  .option("--leader-election-namespace <ns>", "namespace of the Lease", "default")
  .option("--log-level <level>", "debug, info or warn", "info")
  .option("--health-port <port>", "health endpoint port", "8081")
  .parse()
  .opts<{
    namespace: string;
    leaderElect: string;
    leaderElectionNamespace: string;
    healthPort: string;
  }>();

const log = (msg: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const kc = new KubeConfig();
kc.loadFromDefault();
const kube = new Kube(kc);
const admin = new NodeAdmin({
  sleep,
  credentials: secretCredentials(async (ns, name) => (await kube.getSecret(ns, name))?.data),
});
let ready = false;
http
  .createServer((req, res) => {
    const ok = req.url === "/healthz" || (req.url === "/readyz" && ready);
    res.writeHead(ok ? 200 : 503).end(ok ? "ok" : "not ready");
  })
  .listen(Number(opts.healthPort));

// A deduplicating queue of "namespace/name" keys with requeue-after.
const queued = new Set<string>();
const timers = new Map<string, NodeJS.Timeout>();
let wake: (() => void) | undefined;
const enqueue = (key: string): void => {
  queued.add(key);
  wake?.();
};
const clusterKeyOf = (o: KubernetesObject | undefined, key: string): string | undefined => {
  const instance = o?.metadata?.labels?.["app.kubernetes.io/instance"];
  const ns = key.split("/")[0] ?? "";
  return instance === undefined ? undefined : `${ns}/${instance}`;
};

async function lead(): Promise<void> {
  const ns = opts.namespace;
  const nsPath = ns === "" ? "" : `/namespaces/${ns}`;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const selector = "app.kubernetes.io/name=juraft";
  const crs: ListFn<KubernetesObject> = async () =>
    (await (ns === ""
      ? custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })
      : custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: ns,
        }))) as {
      items: KubernetesObject[];
    };
  const stsList: ListFn<KubernetesObject> = () =>
    ns === ""
      ? apps.listStatefulSetForAllNamespaces({ labelSelector: selector })
      : apps.listNamespacedStatefulSet({ namespace: ns, labelSelector: selector });
  const podList: ListFn<KubernetesObject> = () =>
    ns === ""
      ? core.listPodForAllNamespaces({ labelSelector: selector })
      : core.listNamespacedPod({ namespace: ns, labelSelector: selector });
  const watch = new Watch(kc);
  const child = (key: string, o: KubernetesObject | undefined): void => {
    const k = clusterKeyOf(o, key);
    if (k !== undefined) enqueue(k);
  };
  await new Informer(watch, `/apis/${GROUP}/${VERSION}${nsPath}/${PLURAL}`, crs, enqueue).start();
  await new Informer(watch, `/apis/apps/v1${nsPath}/statefulsets`, stsList, child).start();
  await new Informer(watch, `/api/v1${nsPath}/pods`, podList, child).start();
  ready = true;
  for (;;) {
    const [key] = queued;
    if (key === undefined) {
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    queued.delete(key);
    const [namespace = "", name = ""] = key.split("/");
    try {
      const r = await reconcile({ kube, admin, now: () => new Date() }, namespace, name);
      log("reconciled", { key, step: r.step });
      clearTimeout(timers.get(key));
      if (r.requeueAfterMs > 0)
        timers.set(
          key,
          setTimeout(() => {
            enqueue(key);
          }, r.requeueAfterMs),
        );
    } catch (err) {
      log("reconcile failed", { key, error: String(err) });
      timers.set(
        key,
        setTimeout(() => {
          enqueue(key);
        }, 5000),
      );
    }
  }
}

if (opts.leaderElect === "true") {
  const elector = new LeaderElector(kc.makeApiClient(CoordinationV1Api), {
    namespace: opts.leaderElectionNamespace,
    name: "juraft-operator",
    identity: process.env["POD_NAME"] ?? `juraft-operator-${String(process.pid)}`,
    leaseSeconds: 15,
    now: () => new Date(),
  });
  while (!(await elector.tryAcquireOrRenew().catch(() => false))) await sleep(5000);
  log("leading");
  // Renew in the background; losing the Lease ends the process (a restart re-enters election).
  setInterval(() => {
    void elector.tryAcquireOrRenew().then(
      (held) => {
        if (!held) {
          log("lost the lease");
          process.exit(1);
        }
      },
      () => undefined,
    );
  }, 5000);
}
await lead();
