/** A fake API server and a KubeConfig pointing at it. */
import { KubeConfig } from "@kubernetes/client-node";
import { FakeApiServer } from "./fake-apiserver.js";

/** Starts a fake API server; returns it and a KubeConfig for it. */
export async function fakeCluster(): Promise<{ api: FakeApiServer; kc: KubeConfig }> {
  const api = new FakeApiServer();
  const server = await api.start();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "fake", server, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "ctx", cluster: "fake", user: "u", namespace: "ns" }],
    currentContext: "ctx",
  });
  return { api, kc };
}
