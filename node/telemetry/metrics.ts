import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type CounterConfiguration,
} from "prom-client";

/** What gauges read at scrape time (never pushed: a scrape costs nothing between scrapes). */
export type NodeStatusSource = () => NodeStatus;

/** The node's state as gauges show it. */
export interface NodeStatus {
  readonly term: number;
  readonly role: string;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly watchers: number;
  readonly watchQueued: number;
  readonly watchMaxQueued: number;
}

const roles = ["follower", "candidate", "preCandidate", "leader"] as const;
/** Latency buckets in seconds: 100 µs to 10 s. */
const latencyBuckets = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];
const sizeBuckets = [1 << 10, 1 << 14, 1 << 17, 1 << 20, 1 << 23, 1 << 26, 1 << 29];

/** The Prometheus metrics of one node, in their own registry (tests run several nodes). */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly leaderChanges: Counter;
  readonly proposals: Counter<"outcome">;
  readonly applied: Counter<"outcome">;
  readonly applyLatency: Histogram;
  readonly commitLatency: Histogram;
  readonly relays: Counter<"result">;
  readonly relayLatency: Histogram;
  readonly logWriteLatency: Histogram<"sync">;
  readonly snapshotBytes: Histogram<"kind">;
  readonly snapshotDuration: Histogram<"kind">;
  readonly watchDeliveries: Counter;

  #status: NodeStatusSource | undefined;

  /** Registers every metric; gauges read the source given to {@link bindStatus} when scraped. */
  constructor(opts: { processMetrics?: boolean } = {}) {
    const r = [this.registry];
    const counter = <L extends string>(c: CounterConfiguration<L>): Counter<L> =>
      new Counter<L>({ ...c, registers: r });
    const hist = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      buckets = latencyBuckets,
    ): Histogram<L> => new Histogram<L>({ name, help, labelNames, buckets, registers: r });
    const status = (): NodeStatus | undefined => this.#status?.();
    const gauge = (name: string, help: string, read: (s: NodeStatus) => number): void => {
      new Gauge({
        name,
        help,
        registers: r,
        collect() {
          const s = status();
          if (s !== undefined) this.set(read(s));
        },
      });
    };
    gauge("juraft_raft_term", "Current Raft term", (s) => s.term);
    gauge("juraft_raft_commit_index", "Highest log index known committed", (s) => s.commit);
    gauge("juraft_raft_applied_index", "Highest log index applied", (s) => s.applied);
    gauge("juraft_raft_last_index", "Last index in the local log", (s) => s.lastIndex);
    gauge("juraft_snapshot_index", "Index of the newest local snapshot", (s) => s.snapshotIndex);
    gauge("juraft_watchers", "Open watchers", (s) => s.watchers);
    gauge("juraft_watch_queued_events", "Events queued in all watchers", (s) => s.watchQueued);
    gauge("juraft_watch_max_queue_depth", "Events queued in the fullest watcher", (s) => {
      return s.watchMaxQueued;
    });
    new Gauge({
      name: "juraft_raft_role",
      help: "1 for this node's current Raft role",
      labelNames: ["role"],
      registers: r,
      collect() {
        const s = status();
        if (s !== undefined) for (const x of roles) this.set({ role: x }, x === s.role ? 1 : 0);
      },
    });
    this.leaderChanges = counter({
      name: "juraft_raft_leader_changes_total",
      help: "Times this node saw the leader change",
    });
    this.proposals = counter({
      name: "juraft_proposals_total",
      help: "Transactions proposed here, by outcome (applied, aborted, failed)",
      labelNames: ["outcome"],
    });
    this.applied = counter({
      name: "juraft_applied_entries_total",
      help: "Entries applied here, by outcome",
      labelNames: ["outcome"],
    });
    this.applyLatency = hist("juraft_apply_duration_seconds", "Time to apply one entry", []);
    this.commitLatency = hist(
      "juraft_commit_duration_seconds",
      "Leader: time from proposal to commit (quorum durable)",
      [],
    );
    this.relays = counter({
      name: "juraft_relays_total",
      help: "Transactions relayed to the leader, by result (ok, error)",
      labelNames: ["result"],
    });
    this.relayLatency = hist("juraft_relay_duration_seconds", "Relay round trip to the leader", []);
    this.logWriteLatency = hist(
      "juraft_log_write_duration_seconds",
      "RocksDB log write per Ready, by whether it was synced",
      ["sync"],
    );
    this.snapshotBytes = hist(
      "juraft_snapshot_bytes",
      "Snapshot sizes, by kind (taken, sent)",
      ["kind"],
      sizeBuckets,
    );
    this.snapshotDuration = hist(
      "juraft_snapshot_duration_seconds",
      "Time to take or install a snapshot",
      ["kind"],
    );
    this.watchDeliveries = counter({
      name: "juraft_watch_deliveries_total",
      help: "Change events delivered to watch streams",
    });
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Gauges read `source` from now on (the runtime exists only after the hooks are made). */
  bindStatus(source: NodeStatusSource): void {
    this.#status = source;
  }
}

/** A listening /metrics endpoint. */
export interface MetricsServer extends AsyncDisposable {
  readonly address: string;
  close(): Promise<void>;
}

/** Serves `registry` as Prometheus text on `GET /metrics` at host:port (0: any port). */
export async function startMetricsServer(
  registry: Registry,
  opts: { host: string; port: number; signal?: AbortSignal },
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": registry.contentType }).end(text);
      },
      (err: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" }).end(`collect metrics: ${String(err)}`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: opts.port, host: opts.host, signal: opts.signal }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeAllConnections();
    });
    return closed;
  };
  const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return { address: `${host}:${a.port}`, close, [Symbol.asyncDispose]: close };
}
