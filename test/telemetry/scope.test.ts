import { context, createContextKey, ROOT_CONTEXT } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import {
  ApiSpans,
  parentOf,
  RaftSpans,
  startNodeTelemetry,
  startTracing,
  type TraceScope,
  type TracingConfig,
  type Tracing,
} from "../../node/telemetry/index.js";

const sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

function config(ratio: number, parentBased = true): TracingConfig {
  return { exporter: "memory", protocol: "http/protobuf", ratio, parentBased, serviceName: "t" };
}

describe("sampling decided once, before any span (unsampled calls record and carry nothing)", () => {
  const started: Tracing[] = [];
  afterAll(async () => {
    for (const t of started) await t.shutdown();
  });
  async function tracer(
    ratio: number,
    parentBased = true,
  ): Promise<{ t: Tracing; e: InMemorySpanExporter }> {
    const e = new InMemorySpanExporter();
    const t = await startTracing(config(ratio, parentBased), {
      instance: "n",
      exporter: e,
      ambient: false,
    });
    started.push(t);
    return { t, e };
  }

  it("reads a traceparent's sampled flag, and treats a malformed one as absent", () => {
    expect(parentOf({ traceparent: sampled })).toBe("sampled");
    expect(parentOf({ traceparent: unsampled })).toBe("unsampled");
    expect(parentOf({})).toBe("none");
    expect(parentOf({ traceparent: "00-xyz-01" })).toBe("none");
    expect(parentOf({ traceparent: sampled.toUpperCase() })).toBe("none");
  });

  it("follows an unsampled caller even at ratio 1: no span, its context passed on as is", async () => {
    const { t, e } = await tracer(1);
    const api = new ApiSpans({ node: "n", tracing: t });
    let seen: TraceScope;
    const onward = await api.serve("S/Apply", { traceparent: unsampled }, false, (scope) => {
      seen = scope;
      api.annotate(scope, () => {
        throw new Error("attributes of an unsampled call must not be computed");
      });
      return api.relay(scope, "leader", (relay) => Promise.resolve(api.carrier(relay, {})));
    });
    expect(seen?.sampled).toBe(false);
    expect(onward).toEqual({ traceparent: unsampled });
    // The leader's propose follows the same decision; the entry carries no context at all.
    const raft = new RaftSpans({ node: "n", tracing: t });
    expect(raft.propose("t1", { traceparent: unsampled })).toEqual({});
    raft.proposed(1, 1, Promise.resolve({ outcome: "applied" }));
    await t.flush();
    expect(e.getFinishedSpans()).toEqual([]);
  });

  it("at ratio 0 a new trace is not sampled, and a relay tells the leader so (flags 00)", async () => {
    const { t, e } = await tracer(0);
    const api = new ApiSpans({ node: "n", tracing: t });
    const carriers = await api.serve("S/Apply", {}, false, (scope) =>
      api.relay(scope, "leader", (relay) => Promise.resolve(api.carrier(relay, {}))),
    );
    expect(parentOf(carriers)).toBe("unsampled");
    // Two unsampled roots are two traces (a downstream ratio sampler sees distinct trace ids).
    const other = await api.serve("S/Apply", {}, false, (scope) =>
      Promise.resolve(api.carrier(scope, {})),
    );
    expect(other["traceparent"]).not.toBe(carriers["traceparent"]);
    const raft = new RaftSpans({ node: "n", tracing: t });
    expect(raft.propose("t1", {})).toEqual({});
    raft.proposeFailed(new Error("not leader"));
    await t.flush();
    expect(e.getFinishedSpans()).toEqual([]);
  });

  it("at ratio 1 a new trace is sampled: server span, child spans, context in the entry", async () => {
    const { t, e } = await tracer(1);
    const api = new ApiSpans({ node: "n", tracing: t });
    const carrier = await api.serve("S/Apply", {}, false, (scope) => {
      api.annotate(scope, () => ({ "juraft.txn.op_count": 2 }));
      return api.span(scope, "juraft.read_index", {}, (inner) =>
        Promise.resolve(api.carrier(inner, {})),
      );
    });
    expect(parentOf(carrier)).toBe("sampled");
    const raft = new RaftSpans({ node: "n", tracing: t });
    const entry = raft.propose("t1", carrier);
    expect(parentOf(entry)).toBe("sampled");
    raft.proposed(1, 1, Promise.resolve({ outcome: "applied" }));
    await new Promise((r) => setImmediate(r));
    await t.flush();
    const spans = e.getFinishedSpans();
    const server = spans.find((s) => s.name === "S/Apply");
    const wait = spans.find((s) => s.name === "juraft.read_index");
    const propose = spans.find((s) => s.name === "juraft.propose");
    expect(server?.attributes["juraft.txn.op_count"]).toBe(2);
    expect(wait?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
    expect(propose?.parentSpanContext?.spanId).toBe(wait?.spanContext().spanId);
    expect(propose?.attributes["juraft.txn.outcome"]).toBe("applied");
  });

  it("a sampler that ignores the parent (traceidratio) still decides for itself", async () => {
    const { t, e } = await tracer(1, false);
    const api = new ApiSpans({ node: "n", tracing: t });
    const scope = await api.serve("S/Apply", { traceparent: unsampled }, false, (s) =>
      Promise.resolve(s),
    );
    expect(scope?.sampled).toBe(true);
    await t.flush();
    expect(e.getFinishedSpans().map((s) => s.spanContext().traceId)).toEqual([
      "4bf92f3577b34da6a3ce929d0e0e4736",
    ]);
  });

  it("nodes install no ambient context manager (no AsyncLocalStorage promise hooks)", async () => {
    const tel = await startNodeTelemetry({
      node: "n",
      tracing: config(1),
      exporter: new InMemorySpanExporter(),
    });
    const key = createContextKey("k");
    // With no manager, the API's no-op one: with() runs the function in the root context.
    expect(context.with(ROOT_CONTEXT.setValue(key, 1), () => context.active().getValue(key))).toBe(
      undefined,
    );
    await tel.close();
  });
});
