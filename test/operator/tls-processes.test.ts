/**
 * A TLS cluster end to end with real processes (process-env.ts): spec.tls names a Secret with a
 * test CA and member certificate; the pods serve TLS to clients and mutual TLS to each other on
 * the peer port, found through the `_peer._tcp` SRV name; the test kubelet runs the exec probe
 * (juraft-probe.mjs over TLS); the operator talks to the nodes with the client Secret. Created
 * at 1, scaled to 3 and back to 1, checking membership, status and writes after each step.
 */
import { jest } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JuraftClient } from "../../node/client/index.js";
import { startProcessEnv, type ProcessEnv } from "./process-env.js";
import { runSizes } from "./scenario.js";
import { clusterCerts } from "./tls-certs.js";

jest.setTimeout(600_000);

let env: ProcessEnv | undefined;
let dir = "";

afterAll(async () => {
  await env?.close();
  if (dir !== "") await rm(dir, { recursive: true, force: true });
});

test("a TLS cluster is created and scaled 1 -> 3 -> 1 through the operator", async () => {
  dir = await mkdtemp(join(tmpdir(), "juraft-tls-"));
  // The kubelet's pods listen on 127.0.0.11..18: the member certificate names them and the DNS
  // names a real cluster would use.
  const ips = Array.from({ length: 8 }, (_, i) => `127.0.0.${String(11 + i)}`);
  const certs = await clusterCerts(dir, ["*.tdb-peers.ns.svc", "tdb.ns.svc"], ips);
  const pem = (k: keyof typeof certs): Buffer => Buffer.from(certs[k]);
  env = await startProcessEnv({
    name: "tdb",
    spec: { tls: { secretName: "tdb-tls" } },
    clientTls: { ca: pem("ca.crt"), cert: pem("tls.crt"), key: pem("tls.key") },
  });
  env.api.put("secrets", {
    metadata: { name: "tdb-tls", namespace: "ns" },
    type: "kubernetes.io/tls",
    data: Object.fromEntries(
      Object.entries(certs).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    ),
  });
  const results = await runSizes(env.driver, [1, 3, 1], { stepMs: 120_000 });
  process.stdout.write(`${JSON.stringify({ results })}\n`);
  expect(results.map((r) => r.step)).toEqual(["create 1", "scale 1 -> 3", "scale 3 -> 1"]);

  // The client port really is TLS with client certificates: cleartext and certificate-less
  // clients are refused.
  const addr = env.kubelet.addressOf("tdb-0") ?? "";
  const plain = new JuraftClient({ endpoints: [addr], timeoutMs: 2000, attempts: 1 });
  const noCert = new JuraftClient({
    endpoints: [addr],
    timeoutMs: 2000,
    attempts: 1,
    tls: { ca: pem("ca.crt") },
  });
  try {
    await expect(plain.status()).rejects.toThrow();
    await expect(noCert.status()).rejects.toThrow();
  } finally {
    plain.close();
    noCert.close();
  }
});
