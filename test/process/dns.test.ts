/**
 * DNS discovery with real serve processes: an in-process DNS server (dns2, UDP and TCP on one
 * port) answers SRV and A records for the nodes; each node gets only `--peers-dns NAME` and
 * `--dns-server 127.0.0.1:PORT`, no `--join`. The node whose name ends in `-0` bootstraps (it
 * finds no serving peer); the others discover it and join.
 *
 * SRV targets are `127.0.0.1`: a target name would be resolved by the peer clients through the
 * system resolver, which knows nothing of the test zone. A/AAAA answers carry no port: the nodes
 * are told it with `--peers-dns NAME:PORT` (every node listens on its own port on 127.0.0.1).
 */
import { jest } from "@jest/globals";
import { createSocket } from "node:dgram";
import dns2 from "dns2";
import type { DnsServer, Resource } from "dns2";
import { MemberRole } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import { Harness, until, type ProcNode } from "./harness.js";

jest.setTimeout(60_000);

const { Packet } = dns2;
type Rec = Partial<Resource> & { type: number };
const records = new Map<string, Rec[]>();
let server: DnsServer;
let dnsPort = 0;
let queries = 0;
let h: Harness;

beforeAll(async () => {
  h = await Harness.create("dns");
  server = dns2.createServer({
    udp: true,
    tcp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      if (q !== undefined) {
        queries++;
        const known = records.get(q.name.toLowerCase());
        if (known === undefined) response.header.rcode = 3; // NXDOMAIN
        for (const r of known ?? []) {
          if (r.type !== q.type) continue;
          response.answers.push(
            Packet.createResourceFromQuestion(q, { class: Packet.CLASS.IN, ttl: 1, ...r }),
          );
        }
      }
      void send(response);
    },
  });
  // One port for UDP and TCP (c-ares falls back to TCP for large answers).
  const probe = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.bind(0, "127.0.0.1", resolve);
  });
  dnsPort = probe.address().port;
  probe.close();
  await server.listen({
    udp: { port: dnsPort, address: "127.0.0.1" },
    tcp: { port: dnsPort, address: "127.0.0.1" },
  });
}, 30_000);

afterAll(async () => {
  await h.cleanup();
  await server.close();
}, 30_000);

async function roles(n: ProcNode): Promise<{ voters: number; names: string[] }> {
  const c = n.client(3000);
  try {
    const st = await c.status();
    return {
      voters: st.members.filter((m) => m.role === MemberRole.VOTER).length,
      names: st.members.map((m) => m.name).sort(),
    };
  } finally {
    c.close();
  }
}

async function checkCluster(nodes: readonly ProcNode[]): Promise<void> {
  const names = nodes.map((n) => n.name).sort();
  await until(`${names.join(",")} are voters`, async () => {
    const r = await roles(nodes[0] as ProcNode);
    return r.voters === nodes.length && r.names.join() === names.join();
  });
  const ids = new Set(nodes.map((n) => n.serving?.clusterId));
  expect(ids.size).toBe(1);
  // It replicates: a write through the last node is applied on the first.
  await using c = (nodes.at(-1) as ProcNode).client();
  const r = await c.apply([{ c: "dns", _id: "x", insert: { ok: true } }]);
  expect(r.outcome).toBe("applied");
  await using c0 = (nodes[0] as ProcNode).client();
  await until("replicated", async () => {
    const g = await c0.get("dns", "x", { consistency: "local" });
    return g.doc !== undefined;
  });
  for (const n of nodes.slice(1)) expect(n.tail(2000)).toMatch(/joined cluster/);
}

test("SRV records: three nodes started with only --peers-dns form one cluster", async () => {
  const name = "_juraft._tcp.srv.test";
  const nodes = [await h.node("srv-0"), await h.node("srv-1"), await h.node("srv-2")];
  records.set(
    name,
    nodes.map((n) => ({
      type: Packet.TYPE.SRV,
      priority: 0,
      weight: 10,
      port: n.port,
      target: "127.0.0.1",
    })),
  );
  for (const n of nodes) n.args = ["--peers-dns", name, "--dns-server", `127.0.0.1:${dnsPort}`];
  const before = queries;
  // srv-0 first (it bootstraps); the others started together, joining through what DNS names.
  await (nodes[0] as ProcNode).start();
  await Promise.all(nodes.slice(1).map((n) => n.start()));
  expect(queries).toBeGreaterThan(before);
  await checkCluster(nodes);
});

test("A records: nodes find the cluster through an A answer and the --peers-dns port", async () => {
  const name = "peers.a.test";
  records.set(name, [{ type: Packet.TYPE.A, address: "127.0.0.1" }]);
  const first = await h.node("a-0");
  const second = await h.node("a-1");
  // Both name the first node's port: A answers carry none.
  for (const n of [first, second])
    n.args = ["--peers-dns", `${name}:${first.port}`, "--dns-server", `127.0.0.1:${dnsPort}`];
  await first.start();
  await second.start();
  await checkCluster([first, second]);
  // The SRV query for the name failed (no records) and the node fell back to A.
  expect(first.serving?.clusterId).not.toBe(h.nodes[0]?.serving?.clusterId);
});

test("--dns-server and --peers-dns reject malformed values with a usage error", async () => {
  const bad = await h.node("bad-0", ["--peers-dns", "x.test", "--dns-server", "not a server"]);
  await expect(bad.start(15_000)).rejects.toThrow(/exited \(2\)/);
});
