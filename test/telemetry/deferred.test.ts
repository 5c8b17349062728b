import { performance } from "node:perf_hooks";
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  isValidSpanId,
  isValidTraceId,
  trace,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { randomHexId } from "../../node/telemetry/preset-ids.js";
import { startTracing, type Tracing, type TracingConfig } from "../../node/telemetry/index.js";
import { until } from "../server/helpers.js";

const cfg = (ratio: number): TracingConfig => ({
  exporter: "memory",
  protocol: "http/protobuf",
  ratio,
  parentBased: true,
  serviceName: "deferred-test",
});

/** A node's tracing (deferred spans) and a plain SDK tracing (spans made at once), side by side. */
async function pair(ratio = 1): Promise<
  {
    node: Tracing;
    nodeSpans: InMemorySpanExporter;
    plain: Tracing;
    plainSpans: InMemorySpanExporter;
  } & AsyncDisposable
> {
  const nodeSpans = new InMemorySpanExporter();
  const plainSpans = new InMemorySpanExporter();
  const node = await startTracing(cfg(ratio), {
    instance: "n1",
    exporter: nodeSpans,
    ambient: false,
  });
  // The client library's kind: spans made by the SDK at once.
  const plain = await startTracing(cfg(ratio), { instance: "n1", exporter: plainSpans });
  const dispose = async (): Promise<void> => {
    await node.shutdown();
    await plain.shutdown();
  };
  return { node, nodeSpans, plain, plainSpans, [Symbol.asyncDispose]: dispose };
}

/** The same calls on any tracer: a parent with a child, events, a link, an exception, a rename. */
function script(tracer: Tracer, t0: number, err: Error): Span[] {
  const parent = tracer.startSpan(
    "juraft.propose",
    { kind: SpanKind.INTERNAL, attributes: { "juraft.txn.id": "t1" }, startTime: t0 },
    ROOT_CONTEXT,
  );
  const ctx = trace.setSpan(ROOT_CONTEXT, parent);
  const child = tracer.startSpan(
    "juraft.commit",
    { kind: SpanKind.CLIENT, attributes: { "juraft.raft.index": 7 }, startTime: t0 + 1 },
    ctx,
  );
  child.addEvent("juraft.replicate.sent", { "juraft.raft.peer": "2" }, t0 + 2);
  child.addEvent("plain", t0 + 2.5);
  child.addLink({ context: parent.spanContext(), attributes: { why: "test" } });
  child.setAttribute("juraft.raft.batch_size", 3);
  child.end(t0 + 3);
  child.setAttribute("after.end", true); // ignored, as the SDK ignores it
  parent.setAttributes({ "juraft.txn.outcome": "aborted" });
  parent.recordException(err, t0 + 4);
  parent.setStatus({ code: SpanStatusCode.ERROR, message: "assert failed" });
  parent.updateName("juraft.propose.renamed");
  parent.end(t0 + 5);
  return [parent, child];
}

const ms = (t: readonly [number, number]): number => t[0] * 1000 + t[1] / 1e6;

/**
 * What must agree between two exports of the same spans. Times as offsets from the span's start,
 * rounded to 1 us: the SDK turns performance.now() readings into wall time with an offset taken
 * from Date.now() (whole milliseconds) when the span is made, so absolute times may differ by one.
 */
function shape(s: ReadableSpan): unknown {
  const rel = (t: readonly [number, number]): number =>
    Math.round((ms(t) - ms(s.startTime)) * 1000);
  return {
    name: s.name,
    kind: s.kind,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    flags: s.spanContext().traceFlags,
    parent: s.parentSpanContext?.spanId,
    attributes: s.attributes,
    events: s.events.map((e) => ({ name: e.name, attributes: e.attributes, at: rel(e.time) })),
    links: s.links.map((l) => ({ spanId: l.context.spanId, attributes: l.attributes })),
    status: s.status,
    duration: rel(s.endTime),
    resource: s.resource.attributes,
    scope: s.instrumentationScope.name,
  };
}

describe("deferred spans (node/telemetry/deferred.ts)", () => {
  test("a node's span reaches the exporter only when handed over, identical to the SDK's own", async () => {
    await using p = await pair();
    const { node, nodeSpans, plain, plainSpans } = p;
    const t0 = performance.now() - 100;
    const err = new Error("assert failed");
    const made = script(node.tracer, t0, err);
    // Recorded, not yet made: the exporter has nothing (the hand-over is batched).
    expect(nodeSpans.getFinishedSpans()).toEqual([]);
    await node.flush();
    const got = nodeSpans.getFinishedSpans();
    expect(got.map((s) => s.spanContext().spanId)).toEqual(
      made.map((s) => s.spanContext().spanId).reverse(), // child ended first
    );
    // The same calls on the plain SDK tracer with the same ids give the same spans.
    script(plain.tracer, t0, err);
    await plain.flush();
    const want = plainSpans.getFinishedSpans();
    const ids = (s: ReadableSpan): string => s.spanContext().spanId;
    const norm = (xs: readonly ReadableSpan[]): unknown[] => {
      // Ids are random on each side: compare with ids renamed by order of appearance.
      const names = new Map<string, string>();
      for (const s of xs) names.set(ids(s), `s${String(names.size)}`);
      const text = JSON.stringify(xs.map(shape), (_k, v: unknown) =>
        typeof v === "string" && names.has(v) ? names.get(v) : v,
      );
      return JSON.parse(text.replace(/"traceId":"[0-9a-f]{32}"/g, '"traceId":"T"')) as unknown[];
    };
    expect(norm(got)).toEqual(norm(want));
    const [child, parent] = got as [ReadableSpan, ReadableSpan];
    expect(parent.name).toBe("juraft.propose.renamed");
    expect(parent.events.map((e) => e.name)).toEqual(["exception"]);
    expect(parent.events[0]?.attributes?.["exception.message"]).toBe("assert failed");
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(child.attributes["after.end"]).toBeUndefined();
  });

  test("spans are handed over on their own within a bounded delay", async () => {
    await using p = await pair();
    const { node, nodeSpans } = p;
    node.tracer.startSpan("one", {}, ROOT_CONTEXT).end();
    await until(
      "the batch timer hands the span over",
      () => nodeSpans.getFinishedSpans().length === 1,
    );
    // A full batch is handed over without waiting for the timer's delay.
    for (let i = 0; i < 64; i++) node.tracer.startSpan(`s${String(i)}`, {}, ROOT_CONTEXT).end();
    await until("a full batch", () => nodeSpans.getFinishedSpans().length === 65);
  });

  test("an unsampled root is a non-recording span with ids, and nothing is exported", async () => {
    await using p = await pair(0);
    const { node, nodeSpans } = p;
    const s = node.tracer.startSpan("root", {}, ROOT_CONTEXT);
    expect(s.isRecording()).toBe(false);
    expect(s.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0);
    expect(trace.isSpanContextValid(s.spanContext())).toBe(true);
    s.end();
    // A sampled remote parent is followed (parent-based), whatever the ratio.
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    // An unsampled remote parent is followed too: a non-recording child in the parent's trace.
    const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    const u = node.tracer.startSpan("unsampled child", {}, unsampledParent);
    expect(u.isRecording()).toBe(false);
    expect(u.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(u.spanContext().spanId).not.toBe("b7ad6b7169203331");
    expect(u.spanContext().traceFlags).toBe(TraceFlags.NONE);
    u.end();
    const c = node.tracer.startSpan("child", {}, parent);
    expect(c.isRecording()).toBe(true);
    expect(c.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    c.end();
    await node.flush();
    const got = nodeSpans.getFinishedSpans();
    expect(got.map((x) => x.name)).toEqual(["child"]);
    expect(got[0]?.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
  });

  test("times given as epoch milliseconds, Date or HrTime are kept", async () => {
    await using p = await pair();
    const { node, nodeSpans } = p;
    const epoch = Date.now() - 1000;
    node.tracer.startSpan("ms", { startTime: epoch }, ROOT_CONTEXT).end(new Date(epoch + 10));
    node.tracer
      .startSpan("hr", { startTime: [Math.floor(epoch / 1000), (epoch % 1000) * 1e6] })
      .end(epoch + 20);
    await node.flush();
    for (const s of nodeSpans.getFinishedSpans()) {
      // performance.now() and Date.now() may disagree by a little; well under a millisecond.
      expect(Math.abs(ms(s.startTime) - epoch)).toBeLessThan(2);
      expect(ms(s.endTime) - ms(s.startTime)).toBeCloseTo(s.name === "ms" ? 10 : 20, 0);
    }
    expect(nodeSpans.getFinishedSpans()).toHaveLength(2);
  });

  test("startActiveSpan runs the function with the span and returns its result", async () => {
    await using p = await pair();
    const { node, nodeSpans } = p;
    const got = node.tracer.startActiveSpan("active", { attributes: { a: 1 } }, (span) => {
      span.end();
      return span.spanContext().spanId;
    });
    const viaCtx = node.tracer.startActiveSpan("in ctx", {}, ROOT_CONTEXT, (span) => {
      span.end();
      return 7;
    });
    expect(viaCtx).toBe(7);
    await node.flush();
    const spans = nodeSpans.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(["active", "in ctx"]);
    expect(spans[0]?.spanContext().spanId).toBe(got);
    expect(spans[0]?.attributes["a"]).toBe(1);
  });

  test("ids are random lower-case hex of the right length, valid, and distinct", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const span = randomHexId(8);
      const traceId = randomHexId(16);
      expect(span).toMatch(/^[0-9a-f]{16}$/);
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(isValidSpanId(span) && isValidTraceId(traceId)).toBe(true);
      seen.add(traceId);
    }
    expect(seen.size).toBe(2000);
  });

  test("shutdown hands over what is still recorded", async () => {
    // InMemorySpanExporter forgets its spans on shutdown: keep them here.
    const kept: ReadableSpan[] = [];
    const exporter: SpanExporter = {
      export: (spans, done) => {
        kept.push(...spans);
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: () => Promise.resolve(),
    };
    const node = await startTracing(cfg(1), { instance: "n1", exporter, ambient: false });
    node.tracer.startSpan("last", {}, ROOT_CONTEXT).end();
    expect(kept).toEqual([]);
    await node.shutdown();
    expect(kept.map((s) => s.name)).toEqual(["last"]);
  });
});
