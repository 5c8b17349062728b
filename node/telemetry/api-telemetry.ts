import { performance } from "node:perf_hooks";
import type { Interceptor } from "@connectrpc/connect";
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from "@opentelemetry/api";
import type { ApiTelemetry } from "./hooks.js";
import { serverTraceInterceptor } from "./interceptors.js";
import type { NodeMetrics } from "./metrics.js";
import type { TraceCarrier, Tracing } from "./tracing.js";

function fail(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
}

/** Spans and metrics of the API layer (relay, reads, watch deliveries). */
export class ApiSpans implements ApiTelemetry {
  readonly interceptors: readonly Interceptor[];
  readonly #tracing: Tracing | undefined;
  readonly #metrics: NodeMetrics | undefined;
  readonly #node: string;

  /** Either part may be absent (tracing off, metrics off). */
  constructor(o: { node: string; tracing?: Tracing; metrics?: NodeMetrics }) {
    this.#tracing = o.tracing;
    this.#metrics = o.metrics;
    this.#node = o.node;
    this.interceptors = o.tracing === undefined ? [] : [serverTraceInterceptor(o.tracing, o.node)];
  }

  carrier(fallback: TraceCarrier): TraceCarrier {
    const t = this.#tracing;
    if (t === undefined) return fallback;
    const active = context.active();
    return trace.getSpan(active) === undefined ? fallback : t.inject(active);
  }

  annotate(attrs: Attributes): void {
    trace.getSpan(context.active())?.setAttributes(attrs);
  }

  async #in<T>(name: string, kind: SpanKind, attrs: Attributes, fn: () => Promise<T>): Promise<T> {
    const t = this.#tracing;
    if (t === undefined) return fn();
    const parent = context.active();
    const span = t.tracer.startSpan(
      name,
      { kind, attributes: { "juraft.node": this.#node, ...attrs } },
      parent,
    );
    try {
      return await context.with(trace.setSpan(parent, span), fn);
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  async serve<T>(
    method: string,
    carrier: TraceCarrier,
    relayed: boolean,
    fn: () => Promise<T>,
  ): Promise<T> {
    const t = this.#tracing;
    if (t === undefined) return fn();
    const parent = t.extract(carrier);
    const span = t.tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": "connect_rpc",
          "rpc.method": method,
          "juraft.node": this.#node,
          "juraft.session": true,
          "juraft.relayed": relayed,
        },
      },
      parent,
    );
    try {
      return await context.with(trace.setSpan(parent, span), fn);
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  span<T>(name: string, attrs: Attributes, fn: () => Promise<T>): Promise<T> {
    return this.#in(name, SpanKind.INTERNAL, attrs, fn);
  }

  async relay<T>(leader: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let result = "error";
    try {
      const r = await this.#in("juraft.relay", SpanKind.CLIENT, { "juraft.leader": leader }, fn);
      result = "ok";
      return r;
    } finally {
      this.#metrics?.relays.inc({ result });
      this.#metrics?.relayLatency.observe((performance.now() - started) / 1000);
    }
  }

  watchDelivered(index: number, collection: string): void {
    this.#metrics?.watchDeliveries.inc();
    const t = this.#tracing;
    if (t === undefined) return;
    t.tracer
      .startSpan(
        "juraft.watch.deliver",
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            "juraft.node": this.#node,
            "juraft.raft.index": index,
            "juraft.watch.collection": collection,
          },
        },
        context.active(),
      )
      .end();
  }
}
