import { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import { withDefaults } from "../../operator/api/defaults.js";
import { Kube, httpStatusOf } from "../../operator/kube/client.js";
import { configMap } from "../../operator/reconcile/objects.js";
import { statefulSet } from "../../operator/reconcile/statefulset.js";
import type { FakeApiServer } from "./fake-apiserver.js";
import { fakeCluster } from "./kube-env.js";

const ref = { name: "db", namespace: "ns", uid: "u1" };
let api: FakeApiServer;
let kube: Kube;
let core: CoreV1Api;

beforeEach(async () => {
  const env = await fakeCluster();
  api = env.api;
  kube = new Kube(env.kc);
  core = env.kc.makeApiClient(CoreV1Api);
  api.put("juraftclusters", {
    apiVersion: "juraft.dev/v1alpha1",
    kind: "JuraftCluster",
    metadata: { name: "db", namespace: "ns" },
    spec: { replicas: 3 },
  });
});
afterEach(() => api.stop());

describe("Kube against the fake API server", () => {
  it("server-side applies with one field manager: creates, then updates in place", async () => {
    const sts = statefulSet(ref, withDefaults({}), 1);
    await kube.apply(sts);
    await kube.apply(statefulSet(ref, withDefaults({}), 2));
    expect(api.get("statefulsets", "ns", "db")?.["spec"]).toMatchObject({
      replicas: 2,
      podManagementPolicy: "Parallel",
    });
    const patches = api.requests.filter((r) => r.startsWith("PATCH"));
    expect(patches).toEqual([
      "PATCH /apis/apps/v1/namespaces/ns/statefulsets/db?fieldManager=juraft-operator&force=true application/apply-patch+yaml",
      "PATCH /apis/apps/v1/namespaces/ns/statefulsets/db?fieldManager=juraft-operator&force=true application/apply-patch+yaml",
    ]);
    expect((await kube.getStatefulSet("ns", "db"))?.spec?.replicas).toBe(2);
  });

  it("writes status through /status only, and scales through /scale", async () => {
    const c = await kube.getCluster("ns", "db");
    if (c === undefined) throw new Error("no cluster");
    await kube.applyClusterStatus(c, { replicas: 1, selector: "a=b", targetReplicas: 3 });
    await kube.scaleCluster("ns", "db", 5);
    const after = await kube.getCluster("ns", "db");
    expect(after?.spec.replicas).toBe(5);
    expect(after?.status).toEqual({ replicas: 1, selector: "a=b", targetReplicas: 3 });
    expect(after?.metadata.generation).toBe(2);
    expect(api.requests).toContain(
      "PATCH /apis/juraft.dev/v1alpha1/namespaces/ns/juraftclusters/db/scale application/merge-patch+json",
    );
  });

  it("returns undefined for a missing object and lists by label", async () => {
    expect(await kube.getCluster("ns", "nope")).toBeUndefined();
    expect(await kube.getStatefulSet("ns", "nope")).toBeUndefined();
    api.put("pods", { metadata: { name: "db-0", namespace: "ns", labels: { app: "x" } } });
    api.put("pods", { metadata: { name: "other", namespace: "ns", labels: { app: "y" } } });
    expect((await kube.listPods("ns", "app=x")).map((p) => p.metadata?.name)).toEqual(["db-0"]);
    await kube.deletePvc("ns", "absent");
  });

  it("rejects an update with a stale resourceVersion (409 Conflict)", async () => {
    await kube.apply(configMap(ref, false));
    const cm = await core.readNamespacedConfigMap({ namespace: "ns", name: "db-config" });
    const write = (a: string): Promise<V1ConfigMap> =>
      core.replaceNamespacedConfigMap({
        namespace: "ns",
        name: "db-config",
        body: Object.assign(new V1ConfigMap(), { metadata: cm.metadata, data: { a } }),
      });
    await write("1");
    const status = await write("2").then(
      () => 200,
      (e: unknown) => httpStatusOf(e),
    );
    expect(status).toBe(409);
  });
});
