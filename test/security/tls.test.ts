import { connect as tlsConnect } from "node:tls";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { Http2SessionManager, createConnectTransport } from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus,
} from "../../proto/gen/grpc/health/v1/health_pb.js";
import { RaftService } from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { TokenSet } from "../../node/api/auth.js";
import { JuraftClient } from "../../node/client/index.js";
import { parseEndpoints } from "../../node/cluster/discovery.js";
import { PeerClients, type PeerTls } from "../../node/cluster/peer-clients.js";
import type { JuraftNode } from "../../node/server/juraft-node.js";
import type { NodeSecurity } from "../../node/server/security.js";
import { startNode, tempDir, until } from "../server/helpers.js";
import { CertDir, type Pem } from "./certs.js";

const TOKEN = "s3cret-token-for-tests";

/** How a refused TLS handshake surfaces in a Connect client: never as an RPC answer. */
const transportFailures = [Code.Unavailable, Code.Internal, Code.Canceled, Code.Unknown];

/**
 * Opens a TLS connection offering h2 and reports the server's verdict: the alert message when it
 * refuses the client (TLS 1.3 sends it just after the handshake), else "accepted" after 1 s.
 */
function handshake(
  address: string,
  o: { ca: Buffer; cert?: Buffer; key?: Buffer },
): Promise<string> {
  const [host, port] = address.split(":") as [string, string];
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port: Number(port), ALPNProtocols: ["h2"], ...o });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("accepted");
    }, 1000);
    socket.once("error", (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(err.message);
    });
    // Node's server closes the connection without an alert when verification fails.
    socket.once("close", () => {
      clearTimeout(timer);
      resolve("closed by the server");
    });
  });
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail, it succeeded");
}

describe("TLS for clients, mutual TLS between members, bearer tokens", () => {
  let certs: CertDir;
  let dir: { dir: string; cleanup: () => Promise<void> };
  const nodes: JuraftNode[] = [];
  const closers: (() => void)[] = [];
  let clusterCa: Pem, clientCa: Pem, rogueCa: Pem, client: Pem, rogue: Pem;
  const leafs = new Map<string, Pem>();

  const security = (name: string): NodeSecurity => {
    const leaf = leafs.get(name) as Pem;
    return {
      clientTls: { cert: leaf.cert, key: leaf.key, ca: clientCa.cert },
      peerTls: { cert: leaf.cert, key: leaf.key, ca: clusterCa.cert },
      tokens: TokenSet.parse(`# clients\n${TOKEN}\n\nanother-token\n`, "test"),
    };
  };
  const peerClients = (tls?: PeerTls): PeerClients => {
    const c = new PeerClients(tls === undefined ? {} : { tls });
    closers.push(() => {
      c.close();
    });
    return c;
  };
  const clientFor = (
    endpoints: string[],
    o: { token?: string; cert?: Pem | undefined; ca?: Buffer } = {},
  ): JuraftClient => {
    const c = new JuraftClient({
      endpoints,
      attempts: 1,
      timeoutMs: 3000,
      tls: {
        ca: o.ca ?? clusterCa.cert,
        ...(o.cert !== undefined ? { cert: o.cert.cert, key: o.cert.key } : {}),
      },
      ...(o.token !== undefined ? { token: o.token } : {}),
    });
    closers.push(() => {
      c.close();
    });
    return c;
  };

  beforeAll(async () => {
    certs = await CertDir.create();
    dir = await tempDir("juraft-tls-");
    clusterCa = await certs.ca("cluster-ca");
    clientCa = await certs.ca("client-ca");
    rogueCa = await certs.ca("rogue-ca");
    for (const n of ["a", "b", "c"]) leafs.set(n, await certs.leaf(n, "cluster-ca"));
    client = await certs.leaf("client", "client-ca");
    rogue = await certs.leaf("rogue", "rogue-ca");
  }, 60_000);
  afterAll(async () => {
    for (const c of closers) c();
    for (const n of nodes) await n.stop();
    await dir.cleanup();
    await certs.cleanup();
  }, 30_000);

  test("a three-member cluster serves TLS clients; members talk mutual TLS", async () => {
    const peerListen = { host: "127.0.0.1", port: 0 };
    const a = await startNode(dir.dir, "a", { peerListen, security: security("a") });
    nodes.push(a);
    expect(a.peerAddress).not.toBe(a.address);
    await until("a leads", () => a.runtime.status().role === "leader");
    const join = parseEndpoints(a.peerAddress);
    const b = await startNode(dir.dir, "b", { peerListen, join, security: security("b") });
    nodes.push(b);
    const c = await startNode(dir.dir, "c", { peerListen, join, security: security("c") });
    nodes.push(c);
    await until("three voters", () => a.runtime.status().config.voters.length === 3);

    // A write through a follower is relayed to the leader over mutual TLS and replicated.
    const ok = clientFor([b.address, a.address], { token: TOKEN, cert: client });
    const r = await ok.apply([{ c: "units", _id: "u/0", assert: "d-", insert: { life: 0 } }]);
    expect(r.outcome).toBe("applied");
    await until("c applied it", () => c.runtime.store.get("units", "u/0") !== undefined);
    expect((await ok.get("units", "u/0")).doc?.get("life")).toBe(0);
    // The client finds the leader's client port although members know its peer address.
    expect(await ok.leaderAddress()).toBe(a.address);
  }, 60_000);

  test("clients without a valid token are refused with Unauthenticated", async () => {
    const [a] = nodes as [JuraftNode];
    const applied = a.runtime.applied;
    const none = await failure(
      clientFor([a.address], { cert: client }).apply([{ c: "units", _id: "x", insert: {} }]),
    );
    expect(none.code).toBe(Code.Unauthenticated);
    expect(none.metadata.get("juraft-reason")).toBe("NO_TOKEN");
    // The client carries Apply on StoreService.Session.
    expect(none.rawMessage).toContain("StoreService/Session");
    const bad = await failure(
      clientFor([a.address], { cert: client, token: "wrong" }).get("units", "u/0"),
    );
    expect(bad.code).toBe(Code.Unauthenticated);
    expect(bad.metadata.get("juraft-reason")).toBe("BAD_TOKEN");
    expect(bad.rawMessage).not.toContain("wrong");
    // The second token of the file is accepted too.
    const other = clientFor([a.address], { cert: client, token: "another-token" });
    expect((await other.get("units", "u/0")).doc?.get("life")).toBe(0);
    expect(a.runtime.applied).toBe(applied);
  });

  test("health checks need no token (Kubernetes probes carry none)", async () => {
    const [a] = nodes as [JuraftNode];
    const sessions = new Http2SessionManager(`https://${a.address}`, undefined, {
      ca: clusterCa.cert,
      cert: client.cert,
      key: client.key,
    });
    closers.push(() => {
      sessions.abort();
    });
    const health = createClient(
      Health,
      createConnectTransport({
        baseUrl: `https://${a.address}`,
        httpVersion: "2",
        sessionManager: sessions,
      }),
    );
    await until(
      "serving",
      async () => (await health.check({})).status === HealthCheckResponse_ServingStatus.SERVING,
    );
  });

  test("the client port refuses clients without a certificate of the client CA", async () => {
    const [a] = nodes as [JuraftNode];
    const noCert = await failure(clientFor([a.address], { token: TOKEN }).get("units", "u/0"));
    // Refused in the handshake, before any RPC (so not Unauthenticated): a transport failure.
    expect(transportFailures).toContain(noCert.code);
    const rogueCert = await failure(
      clientFor([a.address], { token: TOKEN, cert: rogue }).get("units", "u/0"),
    );
    expect(transportFailures).toContain(rogueCert.code);
    // A client that does not trust the cluster CA refuses the node.
    const untrusting = await failure(
      clientFor([a.address], { token: TOKEN, cert: client, ca: rogueCa.cert }).get("units", "u/0"),
    );
    expect(transportFailures).toContain(untrusting.code);
    // The TLS alerts say why: no certificate, or one of an unknown CA.
    expect(await handshake(a.address, { ca: clusterCa.cert })).toMatch(/certificate required/);
    expect(
      await handshake(a.address, { ca: clusterCa.cert, cert: rogue.cert, key: rogue.key }),
    ).toMatch(/closed by the server|unknown ca/);
    expect(
      await handshake(a.address, { ca: clusterCa.cert, cert: client.cert, key: client.key }),
    ).toBe("accepted");
  });

  test("member-only methods are never served on the client port, whatever the credential", async () => {
    const [a] = nodes as [JuraftNode];
    const ok = clientFor([a.address], { token: TOKEN, cert: client });
    const join = await failure(
      ok.cluster().join({ name: "intruder", address: "127.0.0.1:1", clusterId: "", nodeId: 5n }),
    );
    expect(join.code).toBe(Code.PermissionDenied);
    expect(join.metadata.get("juraft-reason")).toBe("PEER_ONLY");
    const relay = await failure(
      ok.cluster().relay({ request: { txnId: "r", ops: new Uint8Array(0) } }),
    );
    expect(relay.code).toBe(Code.PermissionDenied);
    // RaftService is not routed on the client port at all.
    const sessions = new Http2SessionManager(`https://${a.address}`, undefined, {
      ca: clusterCa.cert,
      cert: client.cert,
      key: client.key,
    });
    closers.push(() => {
      sessions.abort();
    });
    const raft = createClient(
      RaftService,
      createConnectTransport({
        baseUrl: `https://${a.address}`,
        httpVersion: "2",
        sessionManager: sessions,
        interceptors: [
          (next) => (req) => {
            req.header.set("authorization", `Bearer ${TOKEN}`);
            return next(req);
          },
        ],
      }),
    );
    const send = await failure(raft.send({ clusterId: a.identity.clusterId, messages: [] }));
    expect(send.code).toBe(Code.Unimplemented);
    expect(a.runtime.status().config.voters.length).toBe(3);
  });

  test("the peer port refuses a client's credential, another CA's member and cleartext", async () => {
    const [a] = nodes as [JuraftNode];
    const before = a.runtime.status();
    const opts = { timeoutMs: 3000 };
    // Positive control: a member certificate of the cluster CA is served.
    const member = leafs.get("b") as Pem;
    const good = peerClients({ cert: member.cert, key: member.key, ca: clusterCa.cert });
    expect((await good.cluster(a.peerAddress).getRaftLeader({}, opts)).known).toBe(true);
    // A client certificate (client CA), a member of another CA, and h2c without TLS.
    for (const [what, pc] of [
      [
        "client certificate",
        peerClients({ cert: client.cert, key: client.key, ca: clusterCa.cert }),
      ],
      ["rogue CA", peerClients({ cert: rogue.cert, key: rogue.key, ca: clusterCa.cert })],
      ["cleartext", peerClients()],
    ] as const) {
      const e = await failure(pc.cluster(a.peerAddress).getRaftLeader({}, opts));
      expect([what, transportFailures.includes(e.code)]).toEqual([what, true]);
      const j = await failure(
        pc.cluster(a.peerAddress).join(
          {
            name: `x-${what}`,
            address: "127.0.0.1:1",
            clusterId: a.identity.clusterId,
            nodeId: 9n,
          },
          opts,
        ),
      );
      expect(transportFailures).toContain(j.code);
      const s = await failure(
        pc.raft(a.peerAddress).send({ clusterId: a.identity.clusterId, messages: [] }, opts),
      );
      expect(transportFailures).toContain(s.code);
    }
    const member2 = { ca: clusterCa.cert, cert: member.cert, key: member.key };
    expect(await handshake(a.peerAddress, member2)).toBe("accepted");
    expect(
      await handshake(a.peerAddress, { ca: clusterCa.cert, cert: client.cert, key: client.key }),
    ).toMatch(/closed by the server|unknown ca/);
    const after = a.runtime.status();
    expect(after.config).toEqual(before.config);
    expect(after.term).toBe(before.term);
    expect(a.runtime.members.idOf("x-rogue CA")).toBeUndefined();
  }, 30_000);

  test("a node with a certificate of another CA cannot join", async () => {
    const [a] = nodes as [JuraftNode];
    const ac = new AbortController();
    const timer = setTimeout(() => {
      ac.abort();
    }, 3000);
    const err = await startNode(dir.dir, "intruder", {
      peerListen: { host: "127.0.0.1", port: 0 },
      join: parseEndpoints(a.peerAddress),
      security: { peerTls: { cert: rogue.cert, key: rogue.key, ca: rogueCa.cert } },
      signal: ac.signal,
    }).then(
      (n) => {
        nodes.push(n);
        return undefined;
      },
      (e: unknown) => e,
    );
    clearTimeout(timer);
    expect(err).toBeDefined();
    expect(a.runtime.members.idOf("intruder")).toBeUndefined();
    expect(a.runtime.status().config.voters.length).toBe(3);
    expect(a.runtime.status().config.learners.length).toBe(0);
  }, 30_000);

  test("security options on a shared port are refused", async () => {
    await expect(startNode(dir.dir, "shared", { security: security("a") })).rejects.toThrow(
      /separate peer listener/,
    );
  });
});
