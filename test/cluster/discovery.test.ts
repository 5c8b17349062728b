/**
 * Peer discovery (DESIGN.md §8): endpoint lists, DNS against a real in-process DNS server
 * (dns2, UDP and TCP on one port so c-ares' TCP fallback would reach it: MATRIX.md), StatefulSet
 * ordinals and every row of the bootstrap decision table.
 */
import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { promises as dns } from "node:dns";
import { Code } from "@connectrpc/connect";
import dns2 from "dns2";
import type { DnsServer, Resource } from "dns2";
import type { BootstrapInput } from "../../node/cluster/discovery.js";
import {
  bootstrapDecision,
  formatEndpoint,
  ordinalOf,
  parseEndpoints,
  resolvePeers,
} from "../../node/cluster/discovery.js";

const { Packet } = dns2;
const ZONE = "peers.ns1.svc.cluster.local";
const T = Packet.TYPE;

type Rec = Partial<Resource> & { type: number };
const srv = (target: string, port: number): Rec => ({
  type: T.SRV,
  priority: 0,
  weight: 10,
  port,
  target,
});
const records: Record<string, Rec[]> = {
  // Unsorted, mixed case, one repeat: resolvePeers sorts, lower-cases and de-duplicates.
  [`_juraft._tcp.${ZONE}`]: [
    srv(`juraft-2.${ZONE}`, 7070),
    srv(`JURAFT-0.${ZONE}`, 7070),
    srv(`juraft-1.${ZONE}`, 7070),
    srv(`juraft-0.${ZONE}`, 7070),
  ],
  // CoreDNS answers SRV for a headless Service's plain name too.
  [`headless.${ZONE}`]: [srv(`juraft-1.${ZONE}`, 7171), srv(`juraft-0.${ZONE}`, 7171)],
  [ZONE]: [
    { type: T.A, address: "10.0.0.10" },
    { type: T.A, address: "10.0.0.2" },
    { type: T.A, address: "10.0.0.2" },
    { type: T.AAAA, address: "fd00::1" },
  ],
  "v6only.example": [{ type: T.AAAA, address: "fd00::2" }],
  "_empty._tcp.example": [{ type: T.A, address: "10.9.9.9" }],
};

let server: DnsServer;
let port = 0;
let queries = 0;
let silent: Socket;
let silentPort = 0;

/** A free port for both UDP and TCP (bind both to port 0 once, reuse the UDP one). */
async function bindUdp(p: number): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.bind(p, "127.0.0.1", resolve);
  });
  return s;
}

beforeAll(async () => {
  server = dns2.createServer({
    udp: true,
    tcp: true,
    handle: (request, send) => {
      queries++;
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      if (q !== undefined) {
        const name = q.name.toLowerCase();
        const known = records[name];
        if (name === "servfail.example") response.header.rcode = 2;
        else if (known === undefined) response.header.rcode = 3; // NXDOMAIN
        for (const r of known ?? []) {
          if (r.type !== q.type) continue;
          response.answers.push(
            Packet.createResourceFromQuestion(q, { class: Packet.CLASS.IN, ttl: 5, ...r }),
          );
        }
      }
      void send(response);
    },
  });
  const probe = await bindUdp(0);
  port = probe.address().port;
  probe.close();
  await server.listen({ udp: { port, address: "127.0.0.1" }, tcp: { port, address: "127.0.0.1" } });
  // A UDP socket that reads queries and never answers: the resolver must time out.
  silent = await bindUdp(0);
  silentPort = silent.address().port;
});

afterAll(async () => {
  await server.close();
  silent.close();
});

function resolverAt(p: number): dns.Resolver {
  const r = new dns.Resolver({ timeout: 200, tries: 1 });
  r.setServers([`127.0.0.1:${p}`]);
  return r;
}

const show = (eps: { host: string; port: number }[]): string[] => eps.map(formatEndpoint);

describe("parseEndpoints()", () => {
  test("IPv4, [IPv6], DNS names, default port 7070, order kept, repeats dropped", () => {
    const got = parseEndpoints(
      " 10.0.0.1:7000 ,[::1]:7001,[fd00::5],Juraft-0.Peers.Example.:7002,localhost,10.0.0.1:7000",
    );
    expect(got).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "::1", port: 7001 },
      { host: "fd00::5", port: 7070 },
      { host: "juraft-0.peers.example", port: 7002 },
      { host: "localhost", port: 7070 },
    ]);
    expect(show(got)).toContain("[::1]:7001");
    expect(parseEndpoints("a", { defaultPort: 9 })).toEqual([{ host: "a", port: 9 }]);
  });

  test.each([
    ["", /endpoint 1 "": empty item/],
    ["a:1,,b:2", /endpoint 2 "": empty item/],
    ["a:0", /port "0" is not an integer in 1\.\.65535/],
    ["a:65536", /port "65536"/],
    ["a:http", /port "http"/],
    ["a:", /port ""/],
    ["::1", /IPv6 address must be in brackets/],
    ["[::1", /bracket/],
    ["[::1]x", /bracket/],
    ["[10.0.0.1]:5", /not an IPv6 address/],
    ["10.0.0.300:5", /"10\.0\.0\.300" is not a valid IPv4 address/],
    ["http://a:5", /IPv6 address must be in brackets|not a valid DNS label/],
    ["bad_host-.example:5", /"bad_host-" is not a valid DNS label/],
    ["a b:5", /"a b" is not a valid DNS label/],
    [":5", /empty host/],
  ])("%j is rejected naming the item", (text, message) => {
    expect(() => parseEndpoints(text)).toThrow(message);
    try {
      parseEndpoints(text);
    } catch (e) {
      expect(e).toMatchObject({ reason: "BAD_ENDPOINT", name: "ClusterError" });
    }
  });
});

describe("resolvePeers() against a DNS server", () => {
  test("SRV name: target host names and ports, sorted and de-duplicated", async () => {
    const got = await resolvePeers(`_juraft._tcp.${ZONE}`, { resolver: resolverAt(port) });
    expect(show(got)).toEqual([0, 1, 2].map((i) => `juraft-${i}.${ZONE}:7070`));
  });

  test("a plain name with SRV records uses them (stable names, not IPs)", async () => {
    const got = await resolvePeers(`headless.${ZONE}`, { resolver: resolverAt(port), port: 1 });
    expect(show(got)).toEqual([`juraft-0.${ZONE}:7171`, `juraft-1.${ZONE}:7171`]);
  });

  test("a plain name without SRV falls back to A and AAAA with the given port", async () => {
    const got = await resolvePeers(ZONE, { resolver: resolverAt(port), port: 7443 });
    expect(show(got)).toEqual(["10.0.0.2:7443", "10.0.0.10:7443", "[fd00::1]:7443"]);
    const v6 = await resolvePeers("v6only.example", { resolver: resolverAt(port) });
    expect(show(v6)).toEqual(["[fd00::2]:7070"]);
  });

  test("NXDOMAIN: not_found naming the name and the record type", async () => {
    const name = `nope.${ZONE}`;
    await expect(resolvePeers(name, { resolver: resolverAt(port) })).rejects.toMatchObject({
      reason: "DNS_NOT_FOUND",
      message: /resolve A\/AAAA records of "nope\..*": no such records/,
    });
    await expect(
      resolvePeers(`_missing._tcp.${ZONE}`, { resolver: resolverAt(port) }),
    ).rejects.toMatchObject({
      reason: "DNS_NOT_FOUND",
      message: /resolve SRV records of "_missing\._tcp\..*".*ENOTFOUND/,
      code: Code.NotFound,
    });
    // An SRV-shaped name with other records but no SRV: no A fallback.
    await expect(
      resolvePeers("_empty._tcp.example", { resolver: resolverAt(port) }),
    ).rejects.toMatchObject({ reason: "DNS_NOT_FOUND", message: /SRV.*ENODATA/ });
  });

  test("a server that does not answer: unavailable (ETIMEOUT) naming the name", async () => {
    const t0 = Date.now();
    await expect(
      resolvePeers(`_juraft._tcp.${ZONE}`, { resolver: resolverAt(silentPort) }),
    ).rejects.toMatchObject({
      reason: "DNS_UNAVAILABLE",
      code: Code.Unavailable,
      message: /resolve SRV records of "_juraft\._tcp\..*".*ETIMEOUT/,
    });
    await expect(resolvePeers(ZONE, { resolver: resolverAt(silentPort) })).rejects.toMatchObject({
      reason: "DNS_UNAVAILABLE",
      message: /SRV.*ETIMEOUT/,
    });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test("SERVFAIL is unavailable, not not_found", async () => {
    await expect(
      resolvePeers("servfail.example", { resolver: resolverAt(port) }),
    ).rejects.toMatchObject({ reason: "DNS_UNAVAILABLE", message: /ESERVFAIL/ });
  });

  test("aborting rejects with the abort reason without waiting for the timeout", async () => {
    const ac = new AbortController();
    const r = new dns.Resolver({ timeout: 5000, tries: 1 });
    r.setServers([`127.0.0.1:${silentPort}`]);
    const p = resolvePeers(ZONE, { resolver: r, signal: ac.signal });
    const reason = new Error("shutting down");
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
    r.cancel();
    await expect(resolvePeers(ZONE, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  test("bad names and ports are invalid_argument", async () => {
    await expect(resolvePeers("10.0.0.1")).rejects.toMatchObject({ reason: "BAD_DNS_NAME" });
    await expect(resolvePeers("a b")).rejects.toMatchObject({ reason: "BAD_DNS_NAME" });
    await expect(resolvePeers("a", { port: 0 })).rejects.toMatchObject({ reason: "BAD_DNS_NAME" });
  });

  test("the server really served the queries", () => {
    expect(queries).toBeGreaterThan(5);
  });
});

describe("ordinalOf()", () => {
  test.each([
    ["juraft-0", 0],
    ["juraft-3", 3],
    ["my-db-12.peers.ns.svc.cluster.local", 12],
    ["juraft", undefined],
    ["juraft-", undefined],
    ["juraft-03", undefined],
    ["-3", undefined],
    ["juraft-3a", undefined],
    ["host.juraft-3", undefined],
    ["", undefined],
  ])("%j -> %p", (host, want) => {
    expect(ordinalOf(host)).toBe(want);
  });
});

describe("bootstrapDecision() (DESIGN.md §8)", () => {
  const base: BootstrapInput = {
    ordinal: 0,
    hasData: false,
    clusterIdRecorded: false,
    peersFound: false,
  };
  const B = { action: "bootstrap" };
  const J = { action: "join" };
  const R = { action: "restart" };
  test.each<[string, Partial<BootstrapInput>, object]>([
    ["ordinal 0, empty, nothing recorded, no peers: forms the cluster", {}, B],
    ["ordinal 0, empty, cluster id recorded: lost its data, joins", { clusterIdRecorded: true }, J],
    ["ordinal 0, empty, a peer serves a cluster: joins", { peersFound: true }, J],
    [
      "ordinal 0, empty, recorded and peers: joins",
      { clusterIdRecorded: true, peersFound: true },
      J,
    ],
    ["ordinal 0 with data: restarts, never re-bootstraps", { hasData: true }, R],
    [
      "ordinal 0 with data, id recorded and matching",
      { hasData: true, clusterIdRecorded: true, dataClusterIdMatches: true },
      R,
    ],
    ["ordinal 3, empty, nothing anywhere: joins (waits for 0)", { ordinal: 3 }, J],
    [
      "ordinal 3, empty, peers found: joins",
      { ordinal: 3, peersFound: true, clusterIdRecorded: true },
      J,
    ],
    ["ordinal 3 with data: restarts", { ordinal: 3, hasData: true, peersFound: true }, R],
    ["no ordinal, not designated: joins", { ordinal: undefined }, J],
    [
      "no ordinal, designated (single node default): bootstraps",
      { ordinal: undefined, designated: true },
      B,
    ],
    ["ordinal 3 designated explicitly: bootstraps", { ordinal: 3, designated: true }, B],
    ["designated, cluster id recorded: joins", { designated: true, clusterIdRecorded: true }, J],
    ["designated with data: restarts", { ordinal: undefined, designated: true, hasData: true }, R],
    ["designated=false does not stop ordinal 0", { designated: false }, B],
  ])("%s", (_name, over, want) => {
    expect(bootstrapDecision({ ...base, ...over })).toEqual(want);
  });

  test("data of another cluster (stale volume): refuse with a reason", () => {
    const d = bootstrapDecision({
      ...base,
      hasData: true,
      clusterIdRecorded: true,
      dataClusterIdMatches: false,
    });
    expect(d).toMatchObject({ action: "refuse", reason: /another cluster/ });
  });

  test("every combination: only an eligible empty node with nothing recorded bootstraps", () => {
    const bools = [false, true];
    for (const ordinal of [0, 1, undefined])
      for (const designated of [undefined, false, true])
        for (const hasData of bools)
          for (const clusterIdRecorded of bools)
            for (const peersFound of bools)
              for (const dataClusterIdMatches of [undefined, false, true]) {
                const input: BootstrapInput = {
                  ordinal,
                  hasData,
                  clusterIdRecorded,
                  peersFound,
                  ...(designated === undefined ? {} : { designated }),
                  ...(dataClusterIdMatches === undefined ? {} : { dataClusterIdMatches }),
                };
                const d = bootstrapDecision(input);
                const eligible = ordinal === 0 || designated === true;
                const boots = eligible && !hasData && !clusterIdRecorded && !peersFound;
                expect(d.action === "bootstrap").toBe(boots);
                if (hasData) {
                  expect(d.action).toBe(dataClusterIdMatches === false ? "refuse" : "restart");
                } else if (!boots) expect(d.action).toBe("join");
              }
  });
});
