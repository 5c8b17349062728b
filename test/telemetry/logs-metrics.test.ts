import { context, trace } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import {
  jsonLogger,
  NodeMetrics,
  startMetricsServer,
  startTracing,
} from "../../node/telemetry/index.js";

describe("jsonLogger", () => {
  it("writes one JSON line per event at or above the level, with trace and span ids inside a span", async () => {
    const lines: string[] = [];
    const log = jsonLogger({
      level: "info",
      fields: { node: "n1" },
      write: (l) => lines.push(l),
      now: () => 0,
    });
    log.debug("hidden");
    log.info("outside", { index: 5n });
    const tracing = await startTracing(
      {
        exporter: "memory",
        protocol: "http/protobuf",
        ratio: 1,
        parentBased: true,
        serviceName: "t",
      },
      { instance: "t", exporter: new InMemorySpanExporter() },
    );
    const span = tracing.tracer.startSpan("work");
    context.with(trace.setSpan(context.active(), span), () => {
      log.warn("inside");
    });
    span.end();
    await tracing.shutdown();
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toEqual([
      { time: "1970-01-01T00:00:00.000Z", level: "info", msg: "outside", node: "n1", index: "5" },
      {
        time: "1970-01-01T00:00:00.000Z",
        level: "warn",
        msg: "inside",
        node: "n1",
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
      },
    ]);
  });
});

describe("NodeMetrics and the /metrics server", () => {
  it("serves gauges read at scrape time, counters, histograms and process metrics", async () => {
    const m = new NodeMetrics();
    let applied = 7;
    m.bindStatus(() => ({
      term: 3,
      role: "leader",
      commit: 9,
      applied,
      lastIndex: 9,
      snapshotIndex: 0,
      watchers: 2,
      watchQueued: 5,
      watchMaxQueued: 4,
    }));
    m.proposals.inc({ outcome: "aborted" });
    m.relayLatency.observe(0.003);
    await using server = await startMetricsServer(m.registry, { host: "127.0.0.1", port: 0 });
    const scrape = async (): Promise<string> => {
      const res = await fetch(`http://${server.address}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      return res.text();
    };
    let text = await scrape();
    expect(text).toMatch(/^juraft_raft_term 3$/m);
    expect(text).toMatch(/^juraft_raft_applied_index 7$/m);
    expect(text).toMatch(/^juraft_raft_role\{role="leader"\} 1$/m);
    expect(text).toMatch(/^juraft_raft_role\{role="follower"\} 0$/m);
    expect(text).toMatch(/^juraft_watch_max_queue_depth 4$/m);
    expect(text).toMatch(/^juraft_proposals_total\{outcome="aborted"\} 1$/m);
    expect(text).toMatch(/^juraft_relay_duration_seconds_bucket\{le="0.005"\} 1$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    applied = 8;
    text = await scrape();
    expect(text).toMatch(/^juraft_raft_applied_index 8$/m);
    const other = await fetch(`http://${server.address}/other`);
    expect(other.status).toBe(404);
    await other.text();
  });
});
