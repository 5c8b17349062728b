import { jest } from "@jest/globals";
import { Kube } from "../../operator/kube/client.js";
import type { ObservedMember, ObservedRaft } from "../../operator/reconcile/planner.js";
import { reconcile, type MemberAdmin } from "../../operator/reconcile/reconciler.js";
import type { JuraftCluster } from "../../operator/api/types.js";
import type { FakeApiServer } from "./fake-apiserver.js";
import { fakeCluster } from "./kube-env.js";
import { validateK8s } from "./k8s-validate.js";

// Each converge is up to 60 passes of ~10 API calls: seconds on a loaded machine.
jest.setTimeout(120_000);

/** An in-memory Raft membership standing in for the juraft nodes. */
class FakeRaft implements MemberAdmin {
  members: ObservedMember[] = [];
  leaderId = "";
  clusterId = "";
  #next = 1;
  readonly calls: string[] = [];
  status(): Promise<ObservedRaft | undefined> {
    if (this.members.length === 0) return Promise.resolve(undefined);
    return Promise.resolve({
      clusterId: this.clusterId,
      leaderId: this.leaderId,
      lastIndex: 50,
      joint: false,
      members: this.members,
    });
  }
  bootstrap(clusterId: string): void {
    this.clusterId = clusterId;
    this.members = [{ id: "n0", name: "db-0", role: "voter", matchIndex: 50 }];
    this.leaderId = "n0";
  }
  addLearner(_: unknown, name: string): Promise<void> {
    this.calls.push(`addLearner ${name}`);
    this.members.push({ id: `n${this.#next++}`, name, role: "learner", matchIndex: 0 });
    return Promise.resolve();
  }
  promote(_: unknown, id: string): Promise<void> {
    this.calls.push(`promote ${id}`);
    this.members = this.members.map((m) => (m.id === id ? { ...m, role: "voter" } : m));
    return Promise.resolve();
  }
  removeMember(_: unknown, id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    this.members = this.members.filter((m) => m.id !== id);
    return Promise.resolve();
  }
  transferLeadership(_: unknown, from: string, to: string): Promise<void> {
    this.calls.push(`transfer ${from}->${to}`);
    this.leaderId = to;
    return Promise.resolve();
  }
}

/** A test kubelet: pods and PVCs follow the StatefulSet; pod 0 bootstraps; learners catch up. */
function kubelet(api: FakeApiServer, raft: FakeRaft): void {
  const sts = api.get("statefulsets", "ns", "db") as
    | {
        spec: {
          replicas: number;
          template: {
            metadata: { labels: Record<string, string> };
            spec: { containers: { args: string[] }[] };
          };
        };
      }
    | undefined;
  if (sts === undefined) return;
  const labels = sts.spec.template.metadata.labels;
  for (let o = 0; o < 10; o++) {
    if (o < sts.spec.replicas) {
      const ready = { status: { conditions: [{ type: "Ready", status: "True" }] } };
      if (api.get("pods", "ns", `db-${o}`) === undefined)
        api.put("pods", { metadata: { name: `db-${o}`, namespace: "ns", labels }, ...ready });
      if (api.get("persistentvolumeclaims", "ns", `data-db-${o}`) === undefined)
        api.put("persistentvolumeclaims", {
          metadata: { name: `data-db-${o}`, namespace: "ns", labels },
        });
    } else api.remove("pods", "ns", `db-${o}`);
  }
  const args = sts.spec.template.spec.containers[0]?.args ?? [];
  const id = args.find((a) => a.startsWith("--cluster-id="))?.slice("--cluster-id=".length) ?? "";
  if (raft.members.length === 0 && sts.spec.replicas >= 1) raft.bootstrap(id);
  raft.members = raft.members.map((m) =>
    m.role === "learner" && api.get("pods", "ns", m.name) !== undefined
      ? { ...m, matchIndex: 50 }
      : m,
  );
}

async function converge(api: FakeApiServer, kube: Kube, raft: FakeRaft): Promise<string[]> {
  const steps: string[] = [];
  for (let i = 0; i < 60; i++) {
    kubelet(api, raft);
    const r = await reconcile(
      { kube, admin: raft, now: () => new Date("2026-01-01T00:00:00Z") },
      "ns",
      "db",
    );
    steps.push(r.step?.kind ?? "none");
    const c = await kube.getCluster("ns", "db");
    if (r.step?.kind === "converged" && c?.status?.targetReplicas === c?.spec.replicas)
      return steps;
  }
  throw new Error(`did not converge: ${steps.join(",")}`);
}

describe("reconcile against the fake API server and an in-memory Raft", () => {
  let api: FakeApiServer;
  afterEach(() => api.stop());

  it("bootstraps 3 members one at a time, scales to 5 and back to 1 through /scale", async () => {
    const env = await fakeCluster();
    api = env.api;
    const kube = new Kube(env.kc);
    const raft = new FakeRaft();
    api.put("juraftclusters", {
      apiVersion: "juraft.dev/v1alpha1",
      kind: "JuraftCluster",
      metadata: { name: "db", namespace: "ns" },
      spec: { replicas: 3 },
    });
    await converge(api, kube, raft);
    const c = (await kube.getCluster("ns", "db")) as JuraftCluster;
    expect(c.status?.members?.map((m) => `${m.name}:${m.role}`)).toEqual([
      "db-0:voter",
      "db-1:voter",
      "db-2:voter",
    ]);
    expect(c.status).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      leader: "db-0",
      clusterId: `db-${c.metadata.uid ?? ""}`,
      selector: "app.kubernetes.io/name=juraft,app.kubernetes.io/instance=db",
    });
    expect(c.status?.conditions?.map((x) => `${x.type}=${x.status}`)).toEqual([
      "Available=True",
      "Progressing=False",
      "Degraded=False",
    ]);
    expect(api.get("configmaps", "ns", "db-config")?.["data"]).toMatchObject({
      "cluster-id-recorded": "true",
    });
    for (const plural of [
      "services",
      "configmaps",
      "serviceaccounts",
      "poddisruptionbudgets",
      "statefulsets",
    ])
      for (const o of api.list(plural, "ns")) validateK8s(o);

    await kube.scaleCluster("ns", "db", 5);
    await converge(api, kube, raft);
    expect(raft.members.filter((m) => m.role === "voter")).toHaveLength(5);
    expect(api.get("statefulsets", "ns", "db")?.["spec"]).toMatchObject({ replicas: 5 });

    raft.calls.length = 0;
    raft.leaderId = "n4"; // the leader is the first victim: leadership must move first
    await kube.scaleCluster("ns", "db", 1);
    await converge(api, kube, raft);
    expect(raft.calls[0]).toBe("transfer n4->n0");
    expect(raft.members.map((m) => m.name)).toEqual(["db-0"]);
    expect(api.list("persistentvolumeclaims", "ns").map((p) => p.metadata.name)).toEqual([
      "data-db-0",
    ]);
    expect(api.get("poddisruptionbudgets", "ns", "db")?.["spec"]).toMatchObject({
      minAvailable: 1,
    });
  });
  it("a pod whose volume was lost: removes its old id, then it rejoins with a new one", async () => {
    const env = await fakeCluster();
    api = env.api;
    const kube = new Kube(env.kc);
    const raft = new FakeRaft();
    api.put("juraftclusters", {
      apiVersion: "juraft.dev/v1alpha1",
      kind: "JuraftCluster",
      metadata: { name: "db", namespace: "ns" },
      spec: { replicas: 3 },
    });
    await converge(api, kube, raft);
    const before = (await kube.getCluster("ns", "db"))?.status?.members ?? [];
    const old = before.find((m) => m.name === "db-1");
    expect(old?.volume).toBe(api.get("persistentvolumeclaims", "ns", "data-db-1")?.metadata["uid"]);
    // The node's disk is gone: its PVC and pod are deleted; the StatefulSet recreates both.
    api.remove("persistentvolumeclaims", "ns", "data-db-1");
    api.remove("pods", "ns", "db-1");
    raft.calls.length = 0;
    await converge(api, kube, raft);
    expect(raft.calls).toEqual([`remove ${old?.id ?? ""}`, "addLearner db-1", "promote n3"]);
    const after = (await kube.getCluster("ns", "db"))?.status?.members ?? [];
    const fresh = after.find((m) => m.name === "db-1");
    expect(fresh?.id).toBe("n3");
    expect(fresh?.volume).toBe(
      api.get("persistentvolumeclaims", "ns", "data-db-1")?.metadata["uid"],
    );
    expect(fresh?.volume).not.toBe(old?.volume);
  });
  it("a pod whose data directory was wiped (same PVC): the refused id is removed, the pod rejoins", async () => {
    const env = await fakeCluster();
    api = env.api;
    const kube = new Kube(env.kc);
    const raft = new FakeRaft();
    api.put("juraftclusters", {
      apiVersion: "juraft.dev/v1alpha1",
      kind: "JuraftCluster",
      metadata: { name: "db", namespace: "ns" },
      spec: { replicas: 3 },
    });
    await converge(api, kube, raft);
    const old = (await kube.getCluster("ns", "db"))?.status?.members?.find(
      (m) => m.name === "db-1",
    );
    const pvc = api.get("persistentvolumeclaims", "ns", "data-db-1")?.metadata["uid"];
    // The node restarted on an empty data dir: refused its name, it exited; the kubelet keeps
    // the log's last line as the termination message (FallbackToLogsOnError).
    const refused = (ready: boolean) => ({
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      containerStatuses: [
        {
          name: "juraft",
          ready,
          restartCount: 1,
          image: "juraft:0.1.0",
          imageID: "",
          state: ready ? { running: {} } : { waiting: { reason: "CrashLoopBackOff" } },
          lastState: {
            terminated: {
              exitCode: 1,
              reason: "Error",
              message: `juraft: [already_exists NAME_IN_USE] join db-1: member ${old?.id ?? ""} has that name and is a voter; remove it first`,
            },
          },
        },
      ],
    });
    const pod = api.get("pods", "ns", "db-1");
    if (pod === undefined) throw new Error("no pod db-1");
    api.put("pods", { ...pod, status: refused(false) });
    raft.calls.length = 0;
    for (let i = 0; i < 20 && !raft.calls.includes(`remove ${old?.id ?? ""}`); i++)
      await reconcile({ kube, admin: raft, now: () => new Date() }, "ns", "db");
    expect(raft.calls).toEqual([`remove ${old?.id ?? ""}`]);
    // The next start joins as a new member; its status still shows the old refusal.
    const again = api.get("pods", "ns", "db-1");
    if (again === undefined) throw new Error("no pod db-1");
    api.put("pods", { ...again, status: refused(true) });
    await converge(api, kube, raft);
    expect(raft.calls).toEqual([`remove ${old?.id ?? ""}`, "addLearner db-1", "promote n3"]);
    const fresh = (await kube.getCluster("ns", "db"))?.status?.members?.find(
      (m) => m.name === "db-1",
    );
    expect(fresh).toMatchObject({ id: "n3", role: "voter", volume: pvc });
  });
  it("records Events, applies the optional NetworkPolicy and prunes it once disabled", async () => {
    const env = await fakeCluster();
    api = env.api;
    const kube = new Kube(env.kc);
    const raft = new FakeRaft();
    api.put("juraftclusters", {
      apiVersion: "juraft.dev/v1alpha1",
      kind: "JuraftCluster",
      metadata: { name: "db", namespace: "ns" },
      spec: { replicas: 3, networkPolicy: { enabled: true } },
    });
    await converge(api, kube, raft);
    const np = api.get("networkpolicies", "ns", "db");
    validateK8s(np);
    expect(np?.metadata["ownerReferences"]).toMatchObject([{ kind: "JuraftCluster", name: "db" }]);
    const events = api.list("events", "ns");
    for (const e of events) {
      validateK8s(e);
      expect(e["involvedObject"]).toMatchObject({ kind: "JuraftCluster", name: "db" });
    }
    const reasons = events.map((e) => `${String(e["type"])} ${String(e["reason"])}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        "Normal ScalingStatefulSet",
        "Normal Bootstrapped",
        "Normal AddingLearner",
        "Normal PromotingLearner",
      ]),
    );
    expect(reasons.filter((r) => r === "Normal AddingLearner")).toHaveLength(2);

    const cr = api.get("juraftclusters", "ns", "db");
    api.put("juraftclusters", {
      ...cr,
      spec: { replicas: 3, networkPolicy: { enabled: false } },
    } as Parameters<FakeApiServer["put"]>[1]);
    await converge(api, kube, raft);
    expect(api.get("networkpolicies", "ns", "db")).toBeUndefined();
    // Everything else stays.
    expect(api.get("services", "ns", "db-peers")).toBeDefined();
    expect(api.get("poddisruptionbudgets", "ns", "db")).toBeDefined();
  });
});
