import { promises as dns } from "node:dns";
import { hostname } from "node:os";
import { formatEndpoint, parseEndpoints, type Endpoint } from "../cluster/discovery.js";
import { jsonLogger, type LogLevel } from "../cluster/logger.js";
import { JuraftNode } from "../server/juraft-node.js";
import { isSecured, loadSecurity, type SecurityFiles } from "../server/security.js";
import { startNodeTelemetry } from "../telemetry/index.js";
import { CliError, usage } from "./exit.js";
import { formatExtJson } from "./ejson-io.js";

/** Options of `juraft serve`, as commander parses them. */
export interface ServeFlags extends SecurityFiles {
  readonly peerListen?: string;
  readonly peerAdvertise?: string;
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
  readonly metricsListen?: string;
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

/** `--metrics-listen HOST:PORT`; port 0 lets the kernel pick (the serving line names it). */
function listenOf(v: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(v);
  const port = Number(m?.[2]);
  if (m?.[1] === undefined || port > 65535)
    throw usage(`serve: --metrics-listen must be host:port, got ${JSON.stringify(v)}`);
  return { host: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}

/**
 * The peer listener: `--peer-listen`, or with any security option the client port + 1 (etcd's
 * 2379/2380 pairing); `--peer-advertise` defaults to the `--advertise` host on the peer port.
 */
function peerListenOf(
  f: ServeFlags,
  listen: Endpoint,
  secured: boolean,
): { peerListen?: Endpoint; peerAdvertise?: string } {
  let peerListen: Endpoint | undefined;
  if (f.peerListen !== undefined) {
    [peerListen] = endpointsOf(f.peerListen, "--peer-listen");
    if (peerListen === undefined) throw usage("serve: --peer-listen needs host:port");
  } else if (secured) {
    if (listen.port === 0 || listen.port >= 65535)
      throw usage("serve: TLS or tokens with --listen port 0 or 65535 need --peer-listen");
    peerListen = { host: listen.host, port: listen.port + 1 };
  }
  if (peerListen === undefined) {
    if (f.peerAdvertise !== undefined) throw usage("serve: --peer-advertise needs --peer-listen");
    return {};
  }
  let peerAdvertise = f.peerAdvertise;
  if (peerAdvertise === undefined && f.advertise !== undefined) {
    const [adv] = endpointsOf(f.advertise, "--advertise");
    if (adv !== undefined)
      peerAdvertise = formatEndpoint({ host: adv.host, port: peerListen.port });
  }
  return { peerListen, ...(peerAdvertise !== undefined ? { peerAdvertise } : {}) };
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
  const security = await loadSecurity(f).catch((err: unknown) => {
    throw new CliError(`serve: ${err instanceof Error ? err.message : String(err)}`);
  });
  const peer = peerListenOf(f, listen, isSecured(security));
  const logger = jsonLogger({ level, fields: { node: name } });
  if (peer.peerListen !== undefined && security.peerTls === undefined)
    logger.warn(
      `serve ${name}: the peer port ${formatEndpoint(peer.peerListen)} has no TLS (no --peer-tls-*): anyone who reaches it can act as a member; restrict it to the members' network`,
    );
  const metricsListen = f.metricsListen === undefined ? undefined : listenOf(f.metricsListen);
  // Tracing follows the standard OTEL_* variables (off unless they ask for it).
  const telemetry = await startNodeTelemetry({ node: name, metrics: metricsListen !== undefined });
  const node = await JuraftNode.start({
    telemetry,
    ...(metricsListen !== undefined ? { metricsListen } : {}),
    dataDir: f.dataDir,
    name,
    listenHost: listen.host,
    listenPort: listen.port,
    ...(f.advertise !== undefined ? { advertise: f.advertise } : {}),
    ...peer,
    security,
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
    logger,
  });
  process.stdout.write(
    `${JSON.stringify({ event: "serving", name, id: node.identity.id.toString(), address: node.address, peerAddress: node.peerAddress, clusterId: node.identity.clusterId, ...(node.metricsAddress !== undefined ? { metrics: node.metricsAddress } : {}) })}\n`,
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
  await telemetry.close();
}
