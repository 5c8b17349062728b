import { CoordinationV1Api, CustomObjectsApi, Watch } from "@kubernetes/client-node";
import { Informer } from "../../operator/kube/informer.js";
import { LeaderElector } from "../../operator/kube/leader-election.js";
import type { JuraftCluster } from "../../operator/api/types.js";
import type { FakeApiServer } from "./fake-apiserver.js";
import { fakeCluster } from "./kube-env.js";

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};
const cr = (name: string, replicas: number): Parameters<FakeApiServer["put"]>[1] => ({
  apiVersion: "juraft.dev/v1alpha1",
  kind: "JuraftCluster",
  metadata: { name, namespace: "ns" },
  spec: { replicas },
});

describe("Informer against the fake API server", () => {
  it("lists, watches from the list's version, resumes after a dropped watch, relists on 410 Gone", async () => {
    const { api, kc } = await fakeCluster();
    api.put("juraftclusters", cr("a", 3));
    const custom = kc.makeApiClient(CustomObjectsApi);
    const seen: string[] = [];
    const inf = new Informer<JuraftCluster>(
      new Watch(kc),
      "/apis/juraft.dev/v1alpha1/namespaces/ns/juraftclusters",
      async () =>
        (await custom.listNamespacedCustomObject({
          group: "juraft.dev",
          version: "v1alpha1",
          namespace: "ns",
          plural: "juraftclusters",
        })) as { items: JuraftCluster[]; metadata?: { resourceVersion?: string } },
      (key, obj) => seen.push(`${key}:${obj === undefined ? "gone" : String(obj.spec.replicas)}`),
      20,
    );
    await inf.start();
    expect(inf.get("ns", "a")?.spec.replicas).toBe(3);
    api.put("juraftclusters", cr("b", 1));
    await until(() => inf.get("ns", "b") !== undefined);
    // A dropped watch resumes from the last version: no relist, no missed event.
    api.closeWatches();
    api.put("juraftclusters", cr("a", 5));
    await until(() => inf.get("ns", "a")?.spec.replicas === 5);
    expect(inf.lists).toBe(1);
    // Compaction: the resume version is gone, so the informer lists again.
    api.compact();
    await until(() => inf.lists === 2);
    api.remove("juraftclusters", "ns", "b");
    await until(() => inf.get("ns", "b") === undefined);
    expect(seen).toEqual(["ns/a:3", "ns/b:1", "ns/a:5", "ns/a:5", "ns/b:1", "ns/b:gone"]);
    expect(
      api.requests.some((r) => r.includes("watch=true") && r.includes("allowWatchBookmarks=true")),
    ).toBe(true);
    inf.stop();
    await api.stop();
  });
});

describe("LeaderElector against the fake API server", () => {
  it("one of two candidates holds the Lease; the other takes it only after it expires", async () => {
    const { api, kc } = await fakeCluster();
    const coord = kc.makeApiClient(CoordinationV1Api);
    let now = new Date("2026-01-01T00:00:00Z");
    const elector = (identity: string): LeaderElector =>
      new LeaderElector(coord, {
        namespace: "ns",
        name: "juraft-operator",
        identity,
        leaseSeconds: 15,
        now: () => now,
      });
    const a = elector("a");
    const b = elector("b");
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    now = new Date(now.getTime() + 10_000);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    now = new Date(now.getTime() + 16_000);
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(api.get("leases", "ns", "juraft-operator")?.["spec"]).toMatchObject({
      holderIdentity: "b",
      leaseTransitions: 1,
    });
    await api.stop();
  });

  it("two candidates racing on an expired Lease: one wins, the other gets 409 and loses", async () => {
    const { api, kc } = await fakeCluster();
    const coord = kc.makeApiClient(CoordinationV1Api);
    const t0 = new Date("2026-01-01T00:00:00Z");
    const later = new Date(t0.getTime() + 60_000);
    const mk = (identity: string, at: Date): LeaderElector =>
      new LeaderElector(coord, {
        namespace: "ns",
        name: "l",
        identity,
        leaseSeconds: 15,
        now: () => at,
      });
    expect(await mk("old", t0).tryAcquireOrRenew()).toBe(true);
    const results = await Promise.all([
      mk("x", later).tryAcquireOrRenew(),
      mk("y", later).tryAcquireOrRenew(),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    await api.stop();
  });
});
