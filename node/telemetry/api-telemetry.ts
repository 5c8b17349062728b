import { performance } from "node:perf_hooks";
import type { ContextValues, Interceptor } from "@connectrpc/connect";
import { SpanKind, SpanStatusCode, type Attributes, type Span } from "@opentelemetry/api";
import type { ApiTelemetry, TraceScope } from "./hooks.js";
import { serverTraceInterceptor, traceScopeKey } from "./interceptors.js";
import type { NodeMetrics } from "./metrics.js";
import { decide, isScope, scopeOfSpan } from "./scope.js";
import type { TraceCarrier, Tracing } from "./tracing.js";

/** The trace context of an entry that is not traced. */
const untraced: TraceCarrier = Object.freeze({});

function fail(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
}

/**
 * Runs `fn` in `scope`, ending its span (when sampled) when `fn` settles. Not `async` itself: an
 * unsampled call gets `fn`'s own promise back, without a wrapping promise and its extra ticks.
 */
function within<T>(scope: TraceScope, fn: (scope: TraceScope) => Promise<T>): Promise<T> {
  return scope?.sampled === true ? withinSpan(scope, fn) : fn(scope);
}

async function withinSpan<T>(
  scope: TraceScope & { readonly sampled: true },
  fn: (scope: TraceScope) => Promise<T>,
): Promise<T> {
  try {
    return await fn(scope);
  } catch (err) {
    fail(scope.span, err);
    throw err;
  } finally {
    scope.span.end();
  }
}

/**
 * Spans and metrics of the API layer (relay, reads, watch deliveries). Scopes are passed
 * explicitly (no ambient context on nodes); an unsampled call costs a flag test per hook.
 */
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

  scopeOf(values: ContextValues): TraceScope {
    return this.#tracing === undefined ? undefined : values.get(traceScopeKey);
  }

  carrier(scope: TraceScope, fallback: TraceCarrier): TraceCarrier {
    const t = this.#tracing;
    if (t === undefined || scope === undefined) return fallback;
    return scope.sampled ? t.inject(scope.ctx) : scope.carrier();
  }

  entryContext(scope: TraceScope, fallback: TraceCarrier): TraceCarrier {
    if (this.#tracing === undefined || scope === undefined) return fallback;
    return scope.sampled ? this.#tracing.inject(scope.ctx) : untraced;
  }

  annotate(scope: TraceScope, attrs: () => Attributes): void {
    if (scope?.sampled === true) scope.span.setAttributes(attrs());
  }

  #child(scope: TraceScope, name: string, kind: SpanKind, attrs: Attributes): TraceScope {
    const t = this.#tracing;
    if (t === undefined || scope?.sampled !== true) return scope;
    const span = t.tracer.startSpan(
      name,
      { kind, attributes: { "juraft.node": this.#node, ...attrs } },
      scope.ctx,
    );
    return scopeOfSpan(t, scope.ctx, span);
  }

  serve<T>(
    method: string,
    carrier: TraceCarrier,
    relayed: boolean,
    fn: (scope: TraceScope) => Promise<T>,
  ): Promise<T> {
    const t = this.#tracing;
    if (t === undefined) return fn(undefined);
    const parent = decide(t, carrier);
    if (isScope(parent)) return fn(parent);
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
    const scope = scopeOfSpan(t, parent, span);
    return within(scope, fn);
  }

  span<T>(
    scope: TraceScope,
    name: string,
    attrs: Attributes,
    fn: (scope: TraceScope) => Promise<T>,
  ): Promise<T> {
    return within(this.#child(scope, name, SpanKind.INTERNAL, attrs), fn);
  }

  async relay<T>(
    scope: TraceScope,
    leader: string,
    fn: (scope: TraceScope) => Promise<T>,
  ): Promise<T> {
    const m = this.#metrics;
    if (m === undefined)
      return within(
        this.#child(scope, "juraft.relay", SpanKind.CLIENT, { "juraft.leader": leader }),
        fn,
      );
    const started = performance.now();
    let result = "error";
    try {
      const r = await within(
        this.#child(scope, "juraft.relay", SpanKind.CLIENT, { "juraft.leader": leader }),
        fn,
      );
      result = "ok";
      return r;
    } finally {
      m.relays.inc({ result });
      m.relayLatency.observe((performance.now() - started) / 1000);
    }
  }

  watchDelivered(scope: TraceScope, index: number, collection: string): void {
    this.#metrics?.watchDeliveries.inc();
    if (scope?.sampled !== true || this.#tracing === undefined) return;
    this.#tracing.tracer
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
        scope.ctx,
      )
      .end();
  }
}
