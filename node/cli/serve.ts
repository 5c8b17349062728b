import { promises as dns } from "node:dns";
import { hostname } from "node:os";
import { formatEndpoint, parseEndpoints, type Endpoint } from "../cluster/discovery.js";
import { jsonLogger, type LogLevel } from "../cluster/logger.js";
import { JuraftNode } from "../server/juraft-node.js";
import { usage } from "./exit.js";
import { formatExtJson } from "./ejson-io.js";

/** Options of `juraft serve`, as commander parses them. */
export interface ServeFlags {
  readonly dataDir: string;
  readonly listen: string;
  readonly advertise?: string;
  readonly name?: string;
  readonly join?: string;
  readonly peersDns?: string;
  readonly dnsServer?: string;
  readonly clusterId?: string;
  readonly clusterIdRecorded?: boolean;
  readonly mode: string;
  readonly manualPromotion?: boolean;
  readonly tickMs: string;
  readonly snapshotEvery: string;
  readonly snapshotTrailing: string;
  readonly maxTxnBytes: string;
  readonly maxOps: string;
  readonly logLevel: string;
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw usage(`serve: ${flag} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function nonNegativeInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw usage(`serve: ${flag} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * `--peers-dns NAME[:PORT]`: the name to resolve and the port of peers found through A/AAAA
 * records (SRV answers carry their own port). Without a port, A/AAAA answers use 7070.
 */
function peersDnsOf(v: string): { peersDns: string; peersDnsPort?: number } {
  if (!v.includes(":")) return { peersDns: v };
  const [e] = endpointsOf(v, "--peers-dns");
  if (e === undefined) throw usage("serve: --peers-dns needs NAME or NAME:PORT");
  return { peersDns: e.host, peersDnsPort: e.port };
}

function endpointsOf(v: string, flag: string, defaultPort?: number): Endpoint[] {
  try {
    return parseEndpoints(v, defaultPort === undefined ? {} : { defaultPort });
  } catch (err) {
    throw usage(`serve: ${flag}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * `--dns-server HOST:PORT`: a resolver asking only that server (tests run an in-process DNS
 * server; a pod may name its cluster DNS explicitly). Default: the system's resolver.
 */
function resolverOf(v: string): dns.Resolver {
  const [e] = endpointsOf(v, "--dns-server", 53);
  if (e === undefined) throw usage("serve: --dns-server needs HOST:PORT");
  const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  try {
    resolver.setServers([formatEndpoint(e)]);
  } catch (err) {
    throw usage(`serve: --dns-server: ${err instanceof Error ? err.message : String(err)}`);
  }
  return resolver;
}

/**
 * `juraft serve`: runs one node until SIGTERM/SIGINT (leadership is handed off first; a shutdown
 * is not a leave). SIGHUP prints the applied state as Extended JSON (the seed's debugging aid).
 */
export async function serve(f: ServeFlags): Promise<void> {
  // A malformed address is a usage error (exit 2), not a crash with a stack trace.
  const [listen] = endpointsOf(f.listen, "--listen");
  if (listen === undefined) throw usage("serve: --listen needs host:port");
  if (f.mode !== "client" && f.mode !== "server")
    throw usage(`serve: --mode must be client or server, got ${JSON.stringify(f.mode)}`);
  const level = f.logLevel as LogLevel;
  if (!["debug", "info", "warn"].includes(level))
    throw usage(`serve: --log-level must be debug, info or warn`);
  const name = f.name ?? hostname();
  const node = await JuraftNode.start({
    dataDir: f.dataDir,
    name,
    listenHost: listen.host,
    listenPort: listen.port,
    ...(f.advertise !== undefined ? { advertise: f.advertise } : {}),
    ...(f.join !== undefined ? { join: endpointsOf(f.join, "--join") } : {}),
    ...(f.peersDns !== undefined ? peersDnsOf(f.peersDns) : {}),
    ...(f.dnsServer !== undefined ? { resolver: resolverOf(f.dnsServer) } : {}),
    ...(f.clusterId !== undefined ? { clusterId: f.clusterId } : {}),
    clusterIdRecorded: f.clusterIdRecorded === true,
    mode: f.mode,
    manualPromotion: f.manualPromotion === true,
    tickMs: positiveInt(f.tickMs, "--tick-ms"),
    snapshotEvery: positiveInt(f.snapshotEvery, "--snapshot-every"),
    snapshotTrailing: nonNegativeInt(f.snapshotTrailing, "--snapshot-trailing"),
    limits: {
      maxTxnBytes: positiveInt(f.maxTxnBytes, "--max-txn-bytes"),
      maxOps: positiveInt(f.maxOps, "--max-ops"),
    },
    logger: jsonLogger({ level, fields: { node: name } }),
  });
  process.stdout.write(
    `${JSON.stringify({ event: "serving", name, id: node.identity.id.toString(), address: node.address, clusterId: node.identity.clusterId })}\n`,
  );
  // A storage error is fatal for the node (DESIGN.md §11): exit so the supervisor restarts it.
  const watchdog = setInterval(() => {
    if (node.runtime.state === "failed") {
      process.stderr.write(`juraft serve: the node failed: ${String(node.runtime.failure)}\n`);
      process.exit(1);
    }
  }, 500);
  watchdog.unref();
  process.on("SIGHUP", () => {
    const store = node.runtime.store;
    for (const c of store.listCollections()) {
      for (const doc of store.find(c))
        process.stdout.write(
          `{"collection":${JSON.stringify(c)},"document":${formatExtJson(doc)}}\n`,
        );
    }
  });
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  await node.stop();
}
