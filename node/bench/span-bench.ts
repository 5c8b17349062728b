/**
 * `npm run bench:spans`: what one span costs the thread that makes it, as a node makes them at a
 * low sampling ratio (one every GAP ms, other work in between) and in bursts. Compares spans made
 * by the SDK at once (the client library's way, and nodes' until session 5) with a node's
 * deferred spans (node/telemetry/deferred.ts: recorded on the spot, made by the SDK later in
 * batches of up to 64, which costs about what the "SDK at once, 16 at a time" row shows). Spans
 * go through the SDK's batch processor to an in-memory exporter. Env: BENCH_SPANS (spans per
 * setting, default 400), BENCH_GAP_MS (10).
 */
import { performance } from "node:perf_hooks";
import { ROOT_CONTEXT, SpanKind, trace, type Tracer } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { startTracing, type Tracing } from "../telemetry/index.js";

const spans = Number(process.env["BENCH_SPANS"] ?? 400);
const gapMs = Number(process.env["BENCH_GAP_MS"] ?? 10);

/** Work between spans that touches other code and data, as a node's transactions do. */
function other(): number {
  const a: number[] = [];
  let s = 0;
  for (let i = 0; i < 20_000; i++) {
    a.push(i * 3);
    s += (a[i] ?? 0) % 7;
  }
  return s;
}

const parent = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: 1,
  isRemote: true,
});

/** Starts and ends one span shaped like a node's `juraft.append`. */
function oneSpan(tracer: Tracer, i: number): void {
  const s = tracer.startSpan(
    "juraft.append",
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        "juraft.node": "node-1",
        "juraft.raft.role": "follower",
        "juraft.raft.term": 3,
        "juraft.raft.index": i,
        "juraft.raft.batch_size": 12,
        "juraft.raft.bytes": 1200,
        "juraft.raft.sync": true,
      },
    },
    parent,
  );
  s.setAttributes({ "juraft.txn.outcome": "applied" });
  s.end();
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** Median µs per span when spans come `burst` at a time every `gapMs` ms. */
async function measure(tracing: Tracing, burst: number, gap: number): Promise<number> {
  const per: number[] = [];
  for (let r = 0; r < spans / burst; r++) {
    other();
    const t0 = performance.now();
    for (let j = 0; j < burst; j++) oneSpan(tracing.tracer, r * burst + j);
    per.push(((performance.now() - t0) * 1000) / burst);
    if (gap > 0) await new Promise((res) => setTimeout(res, gap));
  }
  return median(per.slice(Math.floor(per.length / 4))); // past the first quarter: warmed up
}

const cfg = {
  exporter: "memory",
  protocol: "http/protobuf",
  ratio: 1,
  parentBased: true,
  serviceName: "bench",
} as const;

/** A node's tracing (deferred) or the client library's (SDK at once), batch processor both. */
function tracingOf(deferred: boolean): Promise<Tracing> {
  return startTracing(cfg, {
    instance: "bench",
    exporter: new InMemorySpanExporter(),
    batch: true,
    ambient: !deferred,
  });
}

const rows: string[] = [];
for (const deferred of [false, true]) {
  const t = await tracingOf(deferred);
  const label = deferred ? "deferred (node)" : "SDK at once";
  rows.push(
    `${label.padEnd(16)} alone every ${String(gapMs)} ms: ${(await measure(t, 1, gapMs)).toFixed(1)} µs`,
  );
  rows.push(
    `${label.padEnd(16)} 16 at a time:         ${(await measure(t, 16, gapMs)).toFixed(1)} µs`,
  );
  rows.push(`${label.padEnd(16)} tight loop:           ${(await measure(t, 16, 0)).toFixed(1)} µs`);
  await t.shutdown();
}
process.stdout.write(`µs per span on the thread that makes it (median):\n${rows.join("\n")}\n`);
