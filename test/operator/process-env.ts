/**
 * The end-to-end environment without a cluster: the operator's reconcile loop against the fake
 * API server, real `juraft serve` processes as the StatefulSet's pods (the test kubelet), and an
 * in-process DNS server answering the headless Service's SRV records from the API's pods
 * (CoreDNS's part: the bare Service name with the client port, `_peer._tcp.` with the peer port).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JuraftClient, type ClientOptions } from "../../node/client/index.js";
import type { JuraftCluster, JuraftClusterSpec } from "../../operator/api/types.js";
import { NodeAdmin } from "../../operator/cluster/admin.js";
import { secretCredentials } from "../../operator/cluster/credentials.js";
import { Kube } from "../../operator/kube/client.js";
import { PEER_PORT, clusterRef, memberAddress } from "../../operator/reconcile/names.js";
import { reconcile } from "../../operator/reconcile/reconciler.js";
import { sleep } from "../process/harness.js";
import { RecordType, startZone, type DnsZone, type ZoneRecord } from "./dns-zone.js";
import type { FakeApiServer } from "./fake-apiserver.js";
import { fakeCluster } from "./kube-env.js";
import { Kubelet } from "./kubelet.js";
import type { ClusterDriver } from "./scenario.js";

const NS = "ns";

/** A running environment; `close()` stops everything it started. */
export interface ProcessEnv {
  readonly api: FakeApiServer;
  readonly kubelet: Kubelet;
  readonly driver: ClusterDriver;
  close(): Promise<void>;
}

/** Options: the cluster's name, extra spec (e.g. tls), the TLS a client needs. */
export interface ProcessEnvOptions {
  readonly name: string;
  readonly spec?: JuraftClusterSpec;
  readonly clientTls?: ClientOptions["tls"];
}

/** Starts the fake API, DNS, kubelet and the operator loop (every piece is closed on failure). */
export async function startProcessEnv(o: ProcessEnvOptions): Promise<ProcessEnv> {
  const { api, kc } = await fakeCluster();
  const root = await mkdtemp(join(tmpdir(), "juraft-e2e-"));
  let zone: DnsZone | undefined;
  let kubelet: Kubelet | undefined;
  const stopOperator = new AbortController();
  let operatorDone: Promise<void> = Promise.resolve();
  const close = async (): Promise<void> => {
    stopOperator.abort();
    await operatorDone;
    await kubelet?.stop();
    await zone?.close();
    await api.stop();
    await rm(root, { recursive: true, force: true });
  };
  try {
    zone = await startZone((name) => records(api, kubelet, name));
    const k = await Kubelet.create({
      api,
      namespace: NS,
      statefulSet: o.name,
      root,
      dnsPort: zone.port,
    });
    kubelet = k;
    k.start();
    const kube = new Kube(kc);
    // The operator dials the members' DNS names; here they are the kubelet's addresses.
    const translate = (address: string): string => {
      const pod = address.split(".")[0] ?? "";
      const peer = address.endsWith(`:${String(PEER_PORT)}`);
      return (peer ? k.peerAddressOf(pod) : k.addressOf(pod)) ?? address;
    };
    const admin = new NodeAdmin({
      sleep,
      translate,
      credentials: secretCredentials((ns, name) =>
        Promise.resolve(
          api.get("secrets", ns, name)?.["data"] as Record<string, string> | undefined,
        ),
      ),
    });
    const steps: string[] = [];
    const errors: string[] = [];
    // The operator: reconcile, requeue after at most 300 ms (its watches would wake it sooner).
    operatorDone = (async () => {
      for (let i = 0; i < 1_000_000 && !stopOperator.signal.aborted; i++) {
        try {
          const r = await reconcile({ kube, admin, now: () => new Date() }, NS, o.name);
          const line = r.step === undefined ? "none" : JSON.stringify(r.step);
          if (steps.at(-1)?.endsWith(line) !== true)
            steps.push(`${new Date().toISOString()} ${line}`);
          await sleep(Math.min(r.requeueAfterMs, 300));
        } catch (err) {
          errors.push(`${new Date().toISOString()} ${String(err)}`);
          await sleep(300);
        }
      }
    })();
    const clusterOf = (): JuraftCluster | undefined =>
      api.get("juraftclusters", NS, o.name) as JuraftCluster | undefined;
    const pods = [0, 1, 2, 3, 4].map((i) => `${o.name}-${String(i)}`);
    const driver: ClusterDriver = {
      name: o.name,
      create(replicas) {
        api.put("juraftclusters", {
          apiVersion: "juraft.dev/v1alpha1",
          kind: "JuraftCluster",
          metadata: { name: o.name, namespace: NS },
          spec: { replicas, raft: { tickMs: 50, catchUpLag: 10 }, ...o.spec },
        });
        return Promise.resolve();
      },
      scale: (n) => kube.scaleCluster(NS, o.name, n),
      get: () => Promise.resolve(clusterOf()),
      statefulSetReplicas: () =>
        Promise.resolve(
          (api.get("statefulsets", NS, o.name)?.["spec"] as { replicas?: number } | undefined)
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
      pvcs: () =>
        Promise.resolve(api.list("persistentvolumeclaims", NS).map((p) => p.metadata.name)),
      raft: () => {
        const c = clusterOf();
        return c === undefined ? Promise.resolve(undefined) : admin.status(clusterRef(c), 5);
      },
      client: () => {
        const c = clusterOf();
        if (c === undefined) throw new Error("no cluster");
        const ref = clusterRef(c);
        return new JuraftClient({
          endpoints: [0, 1, 2, 3, 4].map((i) => translate(memberAddress(ref, i))),
          timeoutMs: 3000,
          ...(o.clientTls !== undefined ? { tls: o.clientTls } : {}),
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
        // Everything goes to a file (it is long); the message names it and the operator's end.
        const file = join(tmpdir(), `juraft-e2e-${o.name}-${String(process.pid)}.log`);
        await writeFile(
          file,
          [
            `operator steps:\n${steps.join("\n")}`,
            `operator errors:\n${errors.join("\n")}`,
            ...pods.map((p) => `--- ${p}:\n${k.output(p, 200_000)}`),
          ].join("\n"),
        );
        return `diagnostics in ${file}; last operator steps:\n${steps.slice(-8).join("\n")}`;
      },
    };
    return { api, kubelet: k, driver, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The headless Service's SRV records, per pod with an address (not-ready ones included): the
 * Service name answers with the client port, `_peer._tcp.NAME` with the peer port.
 */
function records(
  api: FakeApiServer,
  kubelet: Kubelet | undefined,
  name: string,
): ZoneRecord[] | undefined {
  for (const svc of api.list("services", NS)) {
    const spec = svc["spec"] as {
      clusterIP?: string;
      selector?: Record<string, string>;
      ports?: { name?: string }[];
    };
    if (spec.clusterIP !== "None") continue;
    const bare = `${svc.metadata.name}.${NS}.svc`;
    const peer = name === `_peer._tcp.${bare}`;
    if (name !== bare && !(peer && spec.ports?.some((p) => p.name === "peer") === true)) continue;
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
        port: peer ? e.peerPort : e.port,
        target: e.host,
      }));
  }
  return undefined;
}
