/**
 * The TLS pods' exec probe (operator/cli/juraft-probe.mjs) against real in-process nodes serving
 * TLS: SERVING exits 0; a node without a leader, an untrusted CA, a missing file or a closed
 * port exit 1 naming why; bad usage exits 2.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEndpoints } from "../../node/cluster/discovery.js";
import type { JuraftNode } from "../../node/server/juraft-node.js";
import type { NodeSecurity } from "../../node/server/security.js";
import { freePort, startNode, until } from "../server/helpers.js";
import { clusterCerts, type ClusterCerts } from "./tls-certs.js";

const PROBE = fileURLToPath(new URL("../../operator/cli/juraft-probe.mjs", import.meta.url));

/** Runs the probe; resolves with its exit code and stderr. */
function probe(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env["NODE_OPTIONS"];
    execFile(process.execPath, [PROBE, ...args], { env, timeout: 20_000 }, (err, _o, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stderr });
    });
  });
}

let dir = "";
let other = "";
const nodes: JuraftNode[] = [];
let certs: ClusterCerts;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "juraft-probe-"));
  other = await mkdtemp(join(tmpdir(), "juraft-probe-other-"));
  certs = await clusterCerts(dir, ["localhost"], ["127.0.0.1"]);
  await clusterCerts(other, ["localhost"], ["127.0.0.1"]);
}, 30_000);

afterAll(async () => {
  for (const n of nodes) await n.stop();
  await rm(dir, { recursive: true, force: true });
  await rm(other, { recursive: true, force: true });
}, 30_000);

test("asks grpc.health.v1 over TLS with the member certificate", async () => {
  const pem = (k: keyof ClusterCerts): Buffer => Buffer.from(certs[k]);
  const security: NodeSecurity = {
    clientTls: { cert: pem("tls.crt"), key: pem("tls.key"), ca: pem("ca.crt") },
    peerTls: { cert: pem("tls.crt"), key: pem("tls.key"), ca: pem("ca.crt") },
  };
  const peerListen = { host: "127.0.0.1", port: 0 };
  const a = await startNode(join(dir, "nodes"), "a", { peerListen, security });
  nodes.push(a);
  await until("a leads", () => a.runtime.status().role === "leader");
  const b = await startNode(join(dir, "nodes"), "b", {
    peerListen,
    security,
    join: parseEndpoints(a.peerAddress),
  });
  nodes.push(b);
  await until("two voters", () => a.runtime.status().config.voters.length === 2);
  const files = (d: string): string[] => ["ca.crt", "tls.crt", "tls.key"].map((f) => join(d, f));

  await until("b serving", async () => (await probe([b.address, ...files(dir)])).code === 0);
  expect(await probe([a.address, ...files(dir)])).toEqual({ code: 0, stderr: "" });

  const untrusted = await probe([a.address, join(other, "ca.crt"), ...files(dir).slice(1)]);
  expect(untrusted.code).toBe(1);
  expect(untrusted.stderr).toMatch(/certificate/);

  const missing = await probe([a.address, join(dir, "nope.crt"), ...files(dir).slice(1)]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/read .*nope\.crt/);

  expect((await probe([`127.0.0.1:${String(await freePort())}`, ...files(dir)])).code).toBe(1);
  expect((await probe([a.address])).code).toBe(2);

  // Without a leader the node is up but not serving: the probe fails on the health status.
  await a.stop();
  nodes.splice(nodes.indexOf(a), 1);
  await until("b not serving", async () => (await probe([b.address, ...files(dir)])).code === 1);
  expect((await probe([b.address, ...files(dir)])).stderr).toMatch(/not SERVING/);
}, 60_000);
