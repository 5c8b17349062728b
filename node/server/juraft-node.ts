import { randomUUID } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { startServer, type ApiServer } from "../api/server.js";
import { defaultLimits, type ApiLimits } from "../api/context.js";
import { RelaySessions } from "../api/relay.js";
import { systemClock, type Clock } from "../cluster/clock.js";
import {
  bootstrapDecision,
  formatEndpoint,
  ordinalOf,
  resolvePeers,
  type Endpoint,
  type PeerResolver,
} from "../cluster/discovery.js";
import { failedPrecondition } from "../cluster/errors.js";
import { jsonLogger } from "../cluster/logger.js";
import { MemberBook, encodeMemberContext } from "../cluster/members.js";
import { PeerClients } from "../cluster/peer-clients.js";
import { startPromoter } from "../cluster/promoter.js";
import { RaftRuntime } from "../cluster/runtime.js";
import { decodeSnapshotData } from "../cluster/snapshot-data.js";
import { PeerTransport } from "../cluster/transport.js";
import type { RaftLogger } from "../raft/index.js";
import { RocksStorage, SnapshotFiles } from "../storage/index.js";
import { DocumentStore } from "../store/index.js";
import { WatchHub } from "../watch/index.js";
import {
  noTelemetry,
  startMetricsServer,
  type MetricsServer,
  type NodeTelemetry,
} from "../telemetry/index.js";
import { fileSnapshotStore, rocksLogStore } from "./adapters.js";
import { newNodeId, readIdentity, writeIdentity, type NodeIdentity } from "./identity.js";
import { joinCluster, probeForCluster, type Joined } from "./join.js";
import { listenersOf, type NodeSecurity } from "./security.js";

/** How to run one node (`juraft serve`). */
export interface NodeOptions {
  readonly dataDir: string;
  /** Stable member name (a pod name on Kubernetes). */
  readonly name: string;
  readonly listenHost: string;
  readonly listenPort: number;
  /** host:port other members and clients reach this node at; default the listen address. */
  readonly advertise?: string;
  /**
   * Serve member traffic (Raft, Join, Relay) on its own listener, as etcd's peer URLs; required by
   * `security`. Absent: one port serves clients and members.
   */
  readonly peerListen?: { readonly host: string; readonly port: number };
  /** host:port members reach the peer listener at; default the peer listen address. */
  readonly peerAdvertise?: string;
  /** TLS, mutual TLS between members, client tokens (README, Security). */
  readonly security?: NodeSecurity;
  /** Static endpoints of existing members to join through (their peer addresses). */
  readonly join?: readonly Endpoint[];
  /** A DNS name resolving (SRV or A) to the members (Kubernetes headless Service). */
  readonly peersDns?: string;
  /** Port of peers found through A/AAAA records of `peersDns` (SRV answers carry their own). */
  readonly peersDnsPort?: number;
  readonly resolver?: PeerResolver;
  /** The expected cluster id (Kubernetes: includes the JuraftCluster UID); new clusters take it. */
  readonly clusterId?: string;
  /** A cluster id was already recorded for this cluster: never bootstrap (DESIGN.md §8). */
  readonly clusterIdRecorded?: boolean;
  /** Transaction semantics of a new cluster. Default "client". */
  readonly mode?: "client" | "server";
  /** Leave promotion of this node (once it joins as a learner) to an operator. */
  readonly manualPromotion?: boolean;
  readonly tickMs?: number;
  readonly electionTick?: number;
  readonly snapshotEvery?: number;
  readonly snapshotTrailing?: number;
  readonly limits?: Partial<ApiLimits>;
  readonly logger?: RaftLogger;
  /** Traces and metrics (DESIGN.md §10); the caller closes it after stop(). Default: none. */
  readonly telemetry?: NodeTelemetry;
  /** Serve Prometheus `/metrics` here (needs `telemetry` with metrics). Default: not served. */
  readonly metricsListen?: { readonly host: string; readonly port: number };
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
}

/** A running juraft node: storage, runtime, peer transport and API server. */
export class JuraftNode implements AsyncDisposable {
  readonly identity: NodeIdentity;
  readonly runtime: RaftRuntime;
  readonly hub: WatchHub;
  readonly #server: ApiServer;
  readonly #peerServer: ApiServer | undefined;
  readonly #storage: RocksStorage;
  readonly #stopPromoter: () => void;
  readonly #clients: PeerClients;
  readonly #relay: RelaySessions;
  readonly #metricsServer: MetricsServer | undefined;
  #stopped: Promise<void> | undefined;

  private constructor(p: {
    identity: NodeIdentity;
    runtime: RaftRuntime;
    hub: WatchHub;
    server: ApiServer;
    peerServer: ApiServer | undefined;
    storage: RocksStorage;
    stopPromoter: () => void;
    clients: PeerClients;
    relay: RelaySessions;
    metricsServer: MetricsServer | undefined;
  }) {
    this.identity = p.identity;
    this.runtime = p.runtime;
    this.hub = p.hub;
    this.#server = p.server;
    this.#peerServer = p.peerServer;
    this.#storage = p.storage;
    this.#stopPromoter = p.stopPromoter;
    this.#clients = p.clients;
    this.#relay = p.relay;
    this.#metricsServer = p.metricsServer;
  }

  /** The address `/metrics` is served on (host:port), when it is. */
  get metricsAddress(): string | undefined {
    return this.#metricsServer?.address;
  }

  /** The address the client API listens on (host:port). */
  get address(): string {
    return this.#server.address;
  }

  /** The address members reach this node at: the peer listener's, or the shared one's. */
  get peerAddress(): string {
    return (this.#peerServer ?? this.#server).address;
  }

  /**
   * Opens the data directory and enters the cluster: restart from data, bootstrap a new cluster
   * (only when allowed: DESIGN.md §8), or join through existing members as a learner.
   */
  static async start(o: NodeOptions): Promise<JuraftNode> {
    const clock = o.clock ?? systemClock;
    // Port 0 means "any free port": pick it now, because the address is advertised to peers
    // (in the bootstrap entry or the join request) before the server starts.
    const listenPort = o.listenPort === 0 ? await freePort(o.listenHost) : o.listenPort;
    const advertise = o.advertise ?? `${o.listenHost}:${listenPort}`;
    const listeners = listenersOf(o.security, o.peerListen !== undefined, `start node ${o.name}`);
    const peerListen =
      o.peerListen === undefined
        ? undefined
        : {
            host: o.peerListen.host,
            port: o.peerListen.port === 0 ? await freePort(o.peerListen.host) : o.peerListen.port,
          };
    const peerAdvertise =
      peerListen === undefined
        ? advertise
        : (o.peerAdvertise ?? `${peerListen.host}:${peerListen.port}`);
    let logger = o.logger ?? jsonLogger({ fields: { node: o.name } });
    const storage = await RocksStorage.open(
      join(o.dataDir, "raft"),
      o.signal === undefined ? {} : { signal: o.signal },
    );
    try {
      const files = await SnapshotFiles.open(o.dataDir);
      const tel = o.telemetry ?? noTelemetry;
      const peerTls = o.security?.peerTls;
      const clients = new PeerClients({
        interceptors: tel.clientInterceptors,
        ...(peerTls === undefined ? {} : { tls: peerTls }),
      });
      let identity = await readIdentity(o.dataDir);
      const hasData = identity !== undefined || storage.lastIndex() > 0;
      // Members know each other by their peer address (the one Raft, Join and Relay use).
      const self = { name: o.name, address: peerAdvertise };
      let bootstrap = false;
      let seedMembers: Joined["members"] = [];
      if (identity === undefined) {
        const peers = await discover(o, peerAdvertise);
        const found =
          peers.length > 0 && (await probeForCluster(clients, peers, o.signal)) !== undefined;
        const decision = bootstrapDecision({
          ordinal: ordinalOf(o.name),
          designated: o.join === undefined && o.peersDns === undefined,
          hasData,
          clusterIdRecorded: o.clusterIdRecorded ?? false,
          peersFound: found,
        });
        if (decision.action === "refuse") throw failedPrecondition("REFUSED", decision.reason);
        if (decision.action === "restart") {
          throw failedPrecondition(
            "NO_IDENTITY",
            `start node ${o.name}: ${o.dataDir} holds a Raft log but no node.json; wipe it to join as a new member`,
          );
        }
        if (decision.action === "bootstrap") {
          identity = {
            id: newNodeId(),
            name: o.name,
            clusterId: o.clusterId ?? randomUUID(),
            mode: o.mode ?? "client",
          };
          bootstrap = true;
        } else {
          const joined = await joinCluster(clients, () => discover(o, peerAdvertise), {
            ...self,
            proposedId: newNodeId(),
            clusterId: o.clusterId ?? "",
            manualPromotion: o.manualPromotion ?? false,
            logger,
            ...(o.signal !== undefined ? { signal: o.signal } : {}),
          });
          identity = {
            id: joined.nodeId,
            name: o.name,
            clusterId: joined.clusterId,
            mode: o.mode ?? "client",
          };
          seedMembers = joined.members;
        }
      } else if (o.clusterId !== undefined && o.clusterId !== identity.clusterId) {
        throw failedPrecondition(
          "CLUSTER_MISMATCH",
          `start node ${o.name}: ${o.dataDir} belongs to cluster ${identity.clusterId}, expected ${o.clusterId}; a stale volume must be wiped`,
        );
      }
      logger = o.logger ?? jsonLogger({ fields: { node: o.name, id: identity.id.toString() } });
      const meta = storage.snapshot().metadata;
      let store = new DocumentStore({ mode: identity.mode });
      let members = new MemberBook();
      if (meta.index > 0) {
        ({ store, members } = await decodeSnapshotData(
          fileSnapshotStore(files, meta).load(meta.index),
        ));
      }
      // A joiner must be able to answer the leader before its log tells it who the members are.
      for (const m of seedMembers)
        if (members.get(m.id) === undefined)
          members.set(m.id, { name: m.name, address: m.address });
      const hub = new WatchHub({ startIndex: meta.index });
      const runtime = new RaftRuntime(
        {
          id: identity.id,
          log: rocksLogStore(storage),
          snapshots: fileSnapshotStore(files, meta.index > 0 ? meta : undefined),
          store,
          members,
          sink: hub,
          clock,
          random: (n) => Math.floor(Math.random() * n),
          logger,
          tickMs: o.tickMs ?? 100,
          electionTick: o.electionTick ?? 10,
          snapshotEvery: o.snapshotEvery ?? 100_000,
          snapshotTrailing: o.snapshotTrailing ?? 1_000,
          telemetry: tel.raft,
        },
        meta.index,
      );
      if (bootstrap) {
        runtime.bootstrap(encodeMemberContext(self));
        members.set(identity.id, self);
      }
      const ctx = {
        runtime,
        hub,
        clusterId: identity.clusterId,
        self: { id: identity.id, ...self },
        limits: { ...defaultLimits, ...o.limits },
        clients,
        relay: new RelaySessions(clients),
        clock,
        logger,
        newNodeId,
        telemetry: tel.api,
      };
      tel.metrics?.bindStatus(() => {
        const st = runtime.status();
        const w = hub.stats();
        return {
          term: st.term,
          role: st.role,
          commit: st.commit,
          applied: runtime.applied,
          lastIndex: st.lastIndex,
          snapshotIndex: runtime.snapshotIndex,
          watchers: w.watchers,
          watchQueued: w.queued,
          watchMaxQueued: w.maxQueued,
        };
      });
      let metricsServer: MetricsServer | undefined;
      if (o.metricsListen !== undefined) {
        if (tel.metrics === undefined)
          throw failedPrecondition("NO_METRICS", `start node ${o.name}: metrics are off`);
        metricsServer = await startMetricsServer(tel.metrics.registry, o.metricsListen);
        logger.info(`node ${o.name} serves /metrics on ${metricsServer.address}`);
      }
      const server = await startServer(ctx, {
        host: o.listenHost,
        port: listenPort,
        security: listeners.client,
      });
      const peerServer =
        peerListen === undefined || listeners.peer === undefined
          ? undefined
          : await startServer(ctx, { ...peerListen, security: listeners.peer }).catch(
              async (err: unknown) => {
                await server.close();
                throw err;
              },
            );
      await writeIdentity(o.dataDir, identity);
      const transport = new PeerTransport({
        self: identity.id,
        clusterId: identity.clusterId,
        clients,
        reports: runtime,
        logger,
      });
      runtime.start(transport);
      if (bootstrap) runtime.campaign();
      const stopPromoter = startPromoter(runtime);
      logger.info(
        `node ${o.name} (${identity.id}) serving on ${server.address}${peerServer === undefined ? "" : ` (peers: ${peerServer.address})`}, cluster ${identity.clusterId}`,
      );
      return new JuraftNode({
        identity,
        runtime,
        hub,
        server,
        peerServer,
        storage,
        stopPromoter,
        clients,
        relay: ctx.relay,
        metricsServer,
      });
    } catch (err) {
      await storage.close();
      throw err;
    }
  }

  /** Stops in order: hand off leadership, stop Raft, close the API, close storage. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopPromoter();
      await this.runtime.stop();
      this.hub.close();
      await this.#server.close();
      await this.#peerServer?.close();
      this.#relay.close();
      await this.#metricsServer?.close();
      this.#clients.close();
      await this.#storage.close();
    })();
    return this.#stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => {
        resolve(port);
      });
    });
  });
}

async function discover(o: NodeOptions, self: string): Promise<Endpoint[]> {
  const out: Endpoint[] = [...(o.join ?? [])];
  if (o.peersDns !== undefined) {
    try {
      out.push(
        ...(await resolvePeers(o.peersDns, {
          ...(o.resolver !== undefined ? { resolver: o.resolver } : {}),
          ...(o.peersDnsPort !== undefined ? { port: o.peersDnsPort } : {}),
          ...(o.signal !== undefined ? { signal: o.signal } : {}),
        })),
      );
    } catch (err) {
      // Not resolvable yet (the first pod of a new StatefulSet): no peers.
      if (o.signal?.aborted === true) throw err;
    }
  }
  return out.filter((e) => formatEndpoint(e) !== self);
}
