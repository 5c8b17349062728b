/**
 * End to end without a cluster: the operator's reconcile loop against the fake API server, real
 * `juraft serve` processes as the StatefulSet's pods (the test kubelet), and an in-process DNS
 * server answering the headless Service's SRV records from the API's pods (CoreDNS's part).
 */
import { jest } from "@jest/globals";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JuraftClient } from "../../node/client/index.js";
import type { JuraftCluster } from "../../operator/api/types.js";
import { NodeAdmin } from "../../operator/cluster/admin.js";
import { Kube } from "../../operator/kube/client.js";
import { clusterRef, memberAddress } from "../../operator/reconcile/names.js";
import { reconcile } from "../../operator/reconcile/reconciler.js";
import { sleep } from "../process/harness.js";
import { RecordType, startZone, type DnsZone, type ZoneRecord } from "./dns-zone.js";
import type { FakeApiServer } from "./fake-apiserver.js";
import { fakeCluster } from "./kube-env.js";
import { Kubelet } from "./kubelet.js";
import { runScenario, type ClusterDriver } from "./scenario.js";

jest.setTimeout(600_000);

const NS = "ns";
const NAME = "db";

let api: FakeApiServer;
let zone: DnsZone | undefined;
let kubelet: Kubelet | undefined;
let root = "";
const stopOperator = new AbortController();
let operatorDone: Promise<void> = Promise.resolve();
const operatorErrors: string[] = [];
const operatorSteps: string[] = [];

afterAll(async () => {
  stopOperator.abort();
  await operatorDone;
  await kubelet?.stop();
  await zone?.close();
  await api.stop();
  if (root !== "") await rm(root, { recursive: true, force: true });
});

/** The headless Service's records: SRV per pod with an address (not-ready ones included). */
function records(name: string): ZoneRecord[] | undefined {
  for (const svc of api.list("services", NS)) {
    const spec = svc["spec"] as { clusterIP?: string; selector?: Record<string, string> };
    if (spec.clusterIP !== "None" || name !== `${svc.metadata.name}.${NS}.svc`) continue;
    const selected = new Set(
      api
        .list("pods", NS)
        .filter((p) =>
          Object.entries(spec.selector ?? {}).every(
            ([k, v]) => (p.metadata["labels"] as Record<string, string> | undefined)?.[k] === v,
          ),
        )
        .map((p) => p.metadata.name),
    );
    return (kubelet?.endpoints() ?? [])
      .filter((e) => selected.has(e.pod))
      .map((e) => ({
        type: RecordType.SRV,
        priority: 0,
        weight: 10,
        port: e.port,
        target: e.host,
      }));
  }
  return undefined;
}

test("3 -> 5 -> 3 -> (5 -> 3) -> 1 -> 3, a crash, a wiped data dir and volume, real nodes", async () => {
  const env = await fakeCluster();
  api = env.api;
  const kc = env.kc;
  root = await mkdtemp(join(tmpdir(), "juraft-e2e-"));
  zone = await startZone(records);
  const k = await Kubelet.create({
    api,
    namespace: NS,
    statefulSet: NAME,
    root,
    dnsPort: zone.port,
  });
  kubelet = k;
  k.start();
  const kube = new Kube(kc);
  // The operator dials the members' peer DNS names; here they are the kubelet's addresses.
  const translate = (address: string): string => {
    const pod = address.split(".")[0] ?? "";
    return k.addressOf(pod) ?? address;
  };
  const admin = new NodeAdmin({ sleep, translate });
  // The operator: reconcile, requeue after at most 300 ms (its watches would wake it sooner).
  operatorDone = (async () => {
    for (let i = 0; i < 1_000_000 && !stopOperator.signal.aborted; i++) {
      try {
        const r = await reconcile({ kube, admin, now: () => new Date() }, NS, NAME);
        const line = r.step === undefined ? "none" : JSON.stringify(r.step);
        if (operatorSteps.at(-1)?.endsWith(line) !== true)
          operatorSteps.push(`${new Date().toISOString()} ${line}`);
        await sleep(Math.min(r.requeueAfterMs, 300));
      } catch (err) {
        operatorErrors.push(`${new Date().toISOString()} ${String(err)}`);
        await sleep(300);
      }
    }
  })();

  const clusterOf = (): JuraftCluster | undefined =>
    api.get("juraftclusters", NS, NAME) as JuraftCluster | undefined;
  const driver: ClusterDriver = {
    name: NAME,
    create(replicas) {
      api.put("juraftclusters", {
        apiVersion: "juraft.dev/v1alpha1",
        kind: "JuraftCluster",
        metadata: { name: NAME, namespace: NS },
        spec: { replicas, raft: { tickMs: 50, catchUpLag: 10 } },
      });
      return Promise.resolve();
    },
    scale: (n) => kube.scaleCluster(NS, NAME, n),
    get: () => Promise.resolve(clusterOf()),
    statefulSetReplicas: () =>
      Promise.resolve(
        (api.get("statefulsets", NS, NAME)?.["spec"] as { replicas?: number } | undefined)
          ?.replicas,
      ),
    pods: () =>
      Promise.resolve(
        api.list("pods", NS).map((p) => ({
          name: p.metadata.name,
          ready:
            (
              p["status"] as { conditions?: { type: string; status: string }[] } | undefined
            )?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true,
        })),
      ),
    pvcs: () => Promise.resolve(api.list("persistentvolumeclaims", NS).map((p) => p.metadata.name)),
    raft: () => {
      const c = clusterOf();
      return c === undefined ? Promise.resolve(undefined) : admin.status(clusterRef(c), 5);
    },
    client: () => {
      const c = clusterOf();
      if (c === undefined) throw new Error("no cluster");
      const ref = clusterRef(c);
      return new JuraftClient({
        endpoints: [0, 1, 2, 3, 4].map((o) => translate(memberAddress(ref, o))),
        timeoutMs: 3000,
      });
    },
    crash: (pod) => {
      k.crash(pod);
      return Promise.resolve();
    },
    wipeData: (pod) => k.wipeData(pod),
    wipe: (pod) => {
      api.remove("persistentvolumeclaims", NS, `data-${pod}`);
      api.remove("pods", NS, pod);
      return Promise.resolve();
    },
    diagnostics: async () => {
      // Everything goes to a file (it is long); the message names it and shows the operator's end.
      const file = join(tmpdir(), `juraft-e2e-${String(process.pid)}.log`);
      const pods = [0, 1, 2, 3, 4].map((o) => `${NAME}-${String(o)}`);
      await writeFile(
        file,
        [
          `operator steps:\n${operatorSteps.join("\n")}`,
          `operator errors:\n${operatorErrors.join("\n")}`,
          ...pods.map((p) => `--- ${p}:\n${k.output(p, 200_000)}`),
        ].join("\n"),
      );
      return `diagnostics in ${file}; last operator steps:\n${operatorSteps.slice(-8).join("\n")}`;
    },
  };
  const results = await runScenario(driver, { stepMs: 120_000 });
  process.stdout.write(`${JSON.stringify({ results, starts: Object.fromEntries(k.starts) })}\n`);
  // Every step converged: the scenario checked membership, status and writes after each one.
  expect(results.map((r) => r.step)).toEqual([
    "create 3",
    "scale 3 -> 5",
    "scale 5 -> 3",
    "scale 3 -> 5 -> 3",
    "scale 3 -> 1",
    "scale 1 -> 3",
    `crash ${results[6]?.step.slice("crash ".length) ?? ""}`,
    `wipe data of ${results[7]?.step.slice("wipe data of ".length) ?? ""}`,
    "wipe db-1",
  ]);
  expect(results.at(-1)?.acked).toBeGreaterThan(20);
});
