/**
 * The resolver search list (node/cluster/dns-search.ts): Node's dns.Resolver asks for names as
 * given, so discovery applies resolv.conf's search list itself, as glibc does for every other
 * program in a Kubernetes pod.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolvePeers, type PeerResolver } from "../../node/cluster/discovery.js";
import {
  NO_SEARCH,
  parseResolvConf,
  searchCandidates,
  systemSearch,
} from "../../node/cluster/dns-search.js";

const podResolvConf = `# written by the kubelet
search prod.svc.cluster.local svc.cluster.local cluster.local
nameserver 10.96.0.10
options ndots:5
`;

/** A resolver that knows only fully qualified names, and records what it was asked. */
function fqdnOnly(records: Record<string, { srv?: [string, number][]; a?: string[] }>): {
  resolver: PeerResolver;
  asked: string[];
} {
  const asked: string[] = [];
  const notFound = (name: string): Error =>
    Object.assign(new Error(`queryX ENOTFOUND ${name}`), { code: "ENOTFOUND" });
  const resolver = {
    resolveSrv: (name: string) => {
      asked.push(`SRV ${name}`);
      const r = records[name]?.srv;
      return r === undefined
        ? Promise.reject(notFound(name))
        : Promise.resolve(r.map(([n, port]) => ({ name: n, port, priority: 0, weight: 0 })));
    },
    resolve4: (name: string) => {
      asked.push(`A ${name}`);
      const r = records[name]?.a;
      return r === undefined ? Promise.reject(notFound(name)) : Promise.resolve(r);
    },
    resolve6: (name: string) => Promise.reject(notFound(name)),
  } as unknown as PeerResolver;
  return { resolver, asked };
}

describe("resolv.conf search list", () => {
  test("parses search, domain and ndots (last search/domain line wins)", () => {
    expect(parseResolvConf(podResolvConf)).toEqual({
      domains: ["prod.svc.cluster.local", "svc.cluster.local", "cluster.local"],
      ndots: 5,
    });
    expect(parseResolvConf("domain a.example.\nsearch b.example ; old\n")).toEqual({
      domains: ["b.example"],
      ndots: 1,
    });
    expect(parseResolvConf("nameserver 1.1.1.1\n")).toEqual(NO_SEARCH);
  });

  test("candidates follow glibc: short names with the domains first, long ones as given first", () => {
    const s = parseResolvConf(podResolvConf);
    expect(searchCandidates("db-peers.prod.svc", s)).toEqual([
      "db-peers.prod.svc.prod.svc.cluster.local",
      "db-peers.prod.svc.svc.cluster.local",
      "db-peers.prod.svc.cluster.local",
      "db-peers.prod.svc",
    ]);
    expect(searchCandidates("a.b.c.d.e.f", s)[0]).toBe("a.b.c.d.e.f");
    expect(searchCandidates("peers.example.", s)).toEqual(["peers.example"]);
    expect(searchCandidates("x", NO_SEARCH)).toEqual(["x"]);
  });

  test("reads a resolv.conf file; a missing one means no search list", () => {
    const dir = mkdtempSync(join(tmpdir(), "juraft-resolv-"));
    try {
      writeFileSync(join(dir, "resolv.conf"), podResolvConf);
      expect(systemSearch(join(dir, "resolv.conf")).ndots).toBe(5);
      expect(systemSearch(join(dir, "absent"))).toEqual(NO_SEARCH);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a Kubernetes short name resolves through the search list (SRV and A)", async () => {
    const search = parseResolvConf(podResolvConf);
    const { resolver, asked } = fqdnOnly({
      "db-peers.prod.svc.cluster.local": {
        srv: [["db-0.db-peers.prod.svc.cluster.local.", 7070]],
      },
      "plain.prod.svc.cluster.local": { a: ["10.0.0.7"] },
    });
    await expect(resolvePeers("db-peers.prod.svc", { resolver, search })).resolves.toEqual([
      { host: "db-0.db-peers.prod.svc.cluster.local", port: 7070 },
    ]);
    // Tried with the first two domains (not found), found with the third: never asked as given.
    expect(asked.filter((q) => q.startsWith("SRV"))).toEqual([
      "SRV db-peers.prod.svc.prod.svc.cluster.local",
      "SRV db-peers.prod.svc.svc.cluster.local",
      "SRV db-peers.prod.svc.cluster.local",
    ]);
    await expect(resolvePeers("plain", { resolver, search, port: 7071 })).resolves.toEqual([
      { host: "10.0.0.7", port: 7071 },
    ]);
  });

  test("not found anywhere: one DNS_NOT_FOUND naming every name tried", async () => {
    const { resolver } = fqdnOnly({});
    const search = { domains: ["a.example"], ndots: 2 };
    await expect(resolvePeers("peers", { resolver, search })).rejects.toMatchObject({
      reason: "DNS_NOT_FOUND",
      message: expect.stringContaining('"peers.a.example", "peers"') as unknown,
    });
  });
});
