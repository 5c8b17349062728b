import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeCluster } from "./kube-env.js";

const until = async (cond: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe("juraft-operator (the process) against the fake API server", () => {
  it("takes the Lease, watches, and creates the seed StatefulSet and status for a new cluster", async () => {
    const { api, kc } = await fakeCluster();
    const dir = await mkdtemp(join(tmpdir(), "juraft-op-"));
    const kubeconfig = join(dir, "config");
    await writeFile(kubeconfig, kc.exportConfig());
    api.put("juraftclusters", {
      apiVersion: "juraft.dev/v1alpha1",
      kind: "JuraftCluster",
      metadata: { name: "db", namespace: "ns" },
      spec: { replicas: 3 },
    });
    const child = spawn(
      process.execPath,
      [
        "operator/cli/juraft-operator.mjs",
        "--namespace=ns",
        "--leader-election-namespace=ns",
        "--health-port=0",
      ],
      { env: { ...process.env, KUBECONFIG: kubeconfig, POD_NAME: "op-0" }, stdio: "ignore" },
    );
    try {
      await until(() => api.get("statefulsets", "ns", "db") !== undefined, 20_000);
      expect(api.get("statefulsets", "ns", "db")?.["spec"]).toMatchObject({ replicas: 1 });
      expect(api.get("leases", "ns", "juraft-operator")?.["spec"]).toMatchObject({
        holderIdentity: "op-0",
      });
      await until(() => api.get("juraftclusters", "ns", "db")?.["status"] !== undefined, 20_000);
      expect(api.get("juraftclusters", "ns", "db")?.["status"]).toMatchObject({ replicas: 0 });
    } finally {
      child.kill("SIGTERM");
      await api.stop();
    }
  }, 45_000);
});
