/**
 * Real `juraft serve` processes exporting OTLP over HTTP (JSON) to a receiver on loopback, and
 * serving Prometheus metrics: one relayed transaction is one trace across all three nodes.
 */
import { MemberRole } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import { Harness, cli, until, type ProcNode } from "../process/harness.js";
import { OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.js";

const T = 120_000;
const saved = { ...process.env };

/** Sets the OTEL_* variables children inherit (the harness copies this process's env). */
function setEnv(vars: Record<string, string>): void {
  for (const k of Object.keys(process.env))
    if (k.startsWith("OTEL_")) Reflect.deleteProperty(process.env, k);
  Object.assign(process.env, vars);
}

afterAll(() => {
  for (const k of Object.keys(process.env))
    if (!(k in saved)) Reflect.deleteProperty(process.env, k);
  Object.assign(process.env, saved);
});

function metricsUrl(n: ProcNode): string {
  const line = n.serving as { metrics?: string } | undefined;
  if (line?.metrics === undefined) throw new Error(`${n.name} serves no metrics`);
  return `http://${line.metrics}/metrics`;
}

/** The value of one sample line `name{labels} value` in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("three serve processes exporting OTLP/HTTP", () => {
  let h: Harness;
  let rx: OtlpReceiver;

  beforeAll(async () => {
    h = await Harness.create("otel");
    rx = await OtlpReceiver.start();
    setEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "1",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
  });
  afterAll(async () => {
    await h.cleanup();
    await rx.close();
  }, 30_000);

  test(
    "juraft --trace txn on a follower: one trace id, spans from all three nodes, rightly parented; metrics",
    async () => {
      const metrics = ["--metrics-listen", "127.0.0.1:0"];
      const n0 = await h.node("n0", metrics);
      await n0.start();
      const n1 = await h.node("n1", [...metrics, "--join", n0.address]);
      const n2 = await h.node("n2", [...metrics, "--join", n0.address]);
      await Promise.all([n1.start(), n2.start()]);
      await until("three voters", async () => {
        const st = await n0.client().status();
        return st.members.filter((m) => m.role === MemberRole.VOTER).length === 3;
      });
      const leader = await h.leader();
      const follower = h.nodes.find((n) => n !== leader) as ProcNode;

      const r = await cli(["--trace", "txn", '[{"c":"m","_id":"0","insert":{"x":1}}]'], {
        endpoints: follower.address,
      });
      expect(r.code).toBe(0);
      const traceId = /trace_id: ([0-9a-f]{32})/.exec(r.stderr)?.[1];
      if (traceId === undefined) throw new Error(`no trace id printed: ${r.stderr}`);

      const of = (name: string, node?: string): ReceivedSpan[] =>
        rx.spans.filter(
          (s) =>
            s.traceId === traceId && s.name === name && (node === undefined || s.instance === node),
        );
      const names = h.nodes.map((n) => n.name);
      await until(
        "apply and append spans from every node",
        () =>
          names.every(
            (n) => of("juraft.apply", n).length === 1 && of("juraft.append", n).length === 1,
          ),
        30_000,
        100,
      );
      const one = (name: string, node?: string): ReceivedSpan => {
        const s = of(name, node);
        if (s.length !== 1) throw new Error(`${s.length} ${name} spans on ${node ?? "any"}`);
        return s[0] as ReceivedSpan;
      };
      const cliRoot = one("juraft txn", "cli");
      const cliApply = one("juraft.client.apply", "cli");
      expect(cliApply.parentSpanId).toBe(cliRoot.spanId);
      const fServer = one("juraft.store.v1.StoreService/Apply", follower.name);
      expect(fServer.parentSpanId).toBe(cliApply.spanId);
      const relay = one("juraft.relay", follower.name);
      expect(relay.parentSpanId).toBe(fServer.spanId);
      const lRelay = one("juraft.store.v1.StoreService/Apply", leader.name);
      expect(lRelay.parentSpanId).toBe(relay.spanId);
      const propose = one("juraft.propose", leader.name);
      expect(propose.parentSpanId).toBe(lRelay.spanId);
      const commit = one("juraft.commit", leader.name);
      expect(commit.parentSpanId).toBe(propose.spanId);
      // Replication: an event per follower the append went to, on the commit span.
      const sent = commit.events.filter((e) => e.name === "juraft.replicate.sent");
      expect(sent).toHaveLength(2);
      for (const n of names) {
        expect(one("juraft.append", n).parentSpanId).toBe(propose.spanId);
        expect(one("juraft.apply", n).parentSpanId).toBe(propose.spanId);
        expect(one("juraft.apply", n).attributes["juraft.txn.outcome"]).toBe("applied");
      }
      expect(new Set(rx.spans.filter((s) => s.traceId === traceId).map((s) => s.instance))).toEqual(
        new Set([...names, "cli"]),
      );

      // Metrics: Raft state, proposals on the leader, the relay on the follower, process.
      const lm = await (await fetch(metricsUrl(leader))).text();
      const fm = await (await fetch(metricsUrl(follower))).text();
      expect(sample(lm, 'juraft_raft_role{role="leader"}')).toBe(1);
      expect(sample(fm, 'juraft_raft_role{role="follower"}')).toBe(1);
      expect(sample(lm, "juraft_raft_term")).toBeGreaterThanOrEqual(1);
      expect(sample(lm, 'juraft_proposals_total{outcome="applied"}')).toBeGreaterThanOrEqual(1);
      expect(sample(fm, 'juraft_relays_total{result="ok"}')).toBe(1);
      expect(sample(fm, "juraft_relay_duration_seconds_count")).toBe(1);
      expect(sample(lm, "juraft_commit_duration_seconds_count")).toBeGreaterThanOrEqual(1);
      expect(sample(fm, "juraft_raft_applied_index")).toBeGreaterThanOrEqual(
        Number(one("juraft.apply", follower.name).attributes["juraft.raft.index"]),
      );
      expect(sample(fm, 'juraft_log_write_duration_seconds_count{sync="true"}')).toBeGreaterThan(0);
      expect(sample(lm, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    },
    T,
  );
});

describe("tracing off", () => {
  test(
    "OTEL_TRACES_EXPORTER=none with an endpoint set: a node and juraft --trace send nothing",
    async () => {
      await using rx = await OtlpReceiver.start();
      setEnv({
        OTEL_TRACES_EXPORTER: "none",
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_BSP_SCHEDULE_DELAY: "100",
      });
      const h = await Harness.create("otel-off");
      try {
        const n = await h.node("solo");
        await n.start();
        await until("solo leads", async () => (await n.client().status()).role === "leader");
        const r = await cli(["--trace", "txn", '[{"c":"m","_id":"0","insert":{"x":1}}]'], {
          endpoints: n.address,
        });
        expect(r.code).toBe(0);
        expect(r.stderr).toMatch(/trace_id: [0-9a-f]{32}/);
        await n.stop();
        expect(rx.requests).toBe(0);
      } finally {
        await h.cleanup();
      }
    },
    T,
  );
});
