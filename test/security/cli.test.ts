import { join } from "node:path";
import { Harness, cli, freePort, type ProcNode } from "../process/harness.js";
import { CertDir, type Pem } from "./certs.js";

/** `juraft serve` and client commands with the security flags, as real processes. */
describe("juraft serve and the CLI with TLS, mutual TLS and tokens", () => {
  let h: Harness;
  let certs: CertDir;
  let node: ProcNode;
  let tokenFile: string;
  let clusterCa: Pem, admin: Pem;
  const token = "cli-test-token-0123";

  beforeAll(async () => {
    h = await Harness.create("security-cli");
    certs = await CertDir.create();
    clusterCa = await certs.ca("cluster-ca");
    await certs.ca("client-ca");
    const n0 = await certs.leaf("n0", "cluster-ca");
    admin = await certs.leaf("admin", "client-ca");
    tokenFile = await certs.file("tokens", `# one per line\n${token}\n`);
    node = await h.node("n0", [
      "--peer-listen",
      `127.0.0.1:${await freePort()}`,
      "--tls-cert",
      n0.certPath,
      "--tls-key",
      n0.keyPath,
      "--tls-ca",
      join(certs.dir, "client-ca.crt"),
      "--peer-tls-cert",
      n0.certPath,
      "--peer-tls-key",
      n0.keyPath,
      "--peer-tls-ca",
      clusterCa.certPath,
      "--auth-token-file",
      tokenFile,
    ]);
    const serving = await node.start();
    expect(serving.address).toBe(node.address);
  }, 90_000);
  afterAll(async () => {
    await h.cleanup();
    await certs.cleanup();
  }, 30_000);

  const tlsEnv = (): NodeJS.ProcessEnv => ({
    JURAFT_CACERT: clusterCa.certPath,
    JURAFT_CERT: admin.certPath,
    JURAFT_KEY: admin.keyPath,
  });

  test("a client with certificate and token writes and reads; without a token it is refused", async () => {
    const ops = '[{"c":"units","_id":"u/0","insert":{"life":0}}]';
    const [ok, noToken, flags] = await Promise.all([
      cli(["txn", ops], { endpoints: node.address, env: { ...tlsEnv(), JURAFT_TOKEN: token } }),
      cli(["txn", '[{"c":"units","_id":"u/1","insert":{}}]'], {
        endpoints: node.address,
        env: tlsEnv(),
      }),
      cli(["--cacert", clusterCa.certPath, "--cert", admin.certPath, "--token", "nope", "status"], {
        endpoints: node.address,
      }),
    ]);
    expect([ok.code, ok.stderr]).toEqual([0, ""]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ outcome: "applied" });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/\[unauthenticated NO_TOKEN\].*StoreService\/Session/);
    expect(flags.code).toBe(2); // --cert without --key
    const got = await cli(["get", "units", "u/0"], {
      endpoints: node.address,
      env: { ...tlsEnv(), JURAFT_TOKEN: token },
    });
    expect([got.code, JSON.parse(got.stdout) as unknown]).toEqual([
      0,
      expect.objectContaining({ _id: "u/0", life: { $numberInt: "0" } }),
    ]);
    const bad = await cli(["status"], {
      endpoints: node.address,
      env: { ...tlsEnv(), JURAFT_TOKEN: "wrong" },
    });
    expect(bad.stderr).toMatch(/\[unauthenticated BAD_TOKEN\]/);
  }, 60_000);

  test("serve refuses incomplete or empty security files before it starts", async () => {
    const empty = await certs.file("empty-tokens", "# nothing\n\n");
    const data = join(h.dir, "refused");
    const listen = `127.0.0.1:${await freePort()}`;
    const [halfTls, halfPeer, noTokens] = await Promise.all([
      cli(["serve", "--data-dir", data, "--listen", listen, "--tls-cert", admin.certPath]),
      cli(["serve", "--data-dir", data, "--listen", listen, "--peer-tls-ca", clusterCa.certPath]),
      cli([
        "serve",
        "--data-dir",
        data,
        "--peer-listen",
        `127.0.0.1:${await freePort()}`,
        "--auth-token-file",
        empty,
      ]),
    ]);
    expect([halfTls.code, halfTls.stderr]).toEqual([
      1,
      expect.stringMatching(/--tls-cert and --tls-key go together/),
    ]);
    expect([halfPeer.code, halfPeer.stderr]).toEqual([
      1,
      expect.stringMatching(/--peer-tls-cert, --peer-tls-key and --peer-tls-ca go together/),
    ]);
    expect([noTokens.code, noTokens.stderr]).toEqual([1, expect.stringMatching(/holds no token/)]);
  }, 60_000);
});
