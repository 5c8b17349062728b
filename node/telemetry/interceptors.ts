import { ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { context, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type { TraceScope } from "./hooks.js";
import { decide, isScope, scopeOfSpan } from "./scope.js";
import type { TraceCarrier, Tracing } from "./tracing.js";

/**
 * Connect interceptors carrying W3C trace context in headers (Connect, gRPC and gRPC-Web all
 * use plain `traceparent`/`tracestate` headers). OpenTelemetry's HTTP instrumentation does not
 * see HTTP/2, so these are the only spans juraft's RPCs get (MATRIX.md, OpenTelemetry details).
 */

/** Raft traffic is not traced per RPC: a batch mixes many transactions (entries carry theirs). */
const untraced = new Set(["juraft.raft.v1.RaftService", "grpc.health.v1.Health"]);

function failSpan(span: Span, err: unknown): void {
  const ce = ConnectError.from(err);
  span.setAttribute("rpc.connect_rpc.error_code", ce.code);
  span.recordException(ce);
  span.setStatus({ code: SpanStatusCode.ERROR, message: ce.rawMessage });
}

/** Wraps a response stream so that the call's span ends with it (failed if it throws). */
function endingWith<T>(span: Span, it: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const inner = it[Symbol.asyncIterator]();
      let ended = false;
      const end = (err?: unknown): void => {
        if (ended) return;
        ended = true;
        if (err !== undefined) failSpan(span, err);
        span.end();
      };
      return {
        async next() {
          try {
            const r = await inner.next();
            if (r.done === true) end();
            return r;
          } catch (err) {
            end(err);
            throw err;
          }
        },
        async return(value?: unknown) {
          end();
          const r = await inner.return?.(value);
          return r ?? { done: true, value: undefined };
        },
      };
    },
  };
}

/** Where the server interceptor leaves an RPC's scope for its handler (`HandlerContext.values`). */
export const traceScopeKey = createContextKey<TraceScope>(undefined, {
  description: "juraft trace scope",
});

/** The W3C headers of a request, as a carrier (empty when it has none). */
function carrierOf(header: Headers): TraceCarrier {
  const traceparent = header.get("traceparent");
  if (traceparent === null) return {};
  const tracestate = header.get("tracestate");
  return tracestate === null ? { traceparent } : { traceparent, tracestate };
}

/**
 * Server side: decides the RPC's scope from the caller's headers (see enterScope) and, when
 * sampled, runs the handler in a SERVER span `<service>/<method>`. The handler reads the scope
 * from its context values and passes it on explicitly (child spans, the relay, the log entry).
 */
export function serverTraceInterceptor(tracing: Tracing, node: string): Interceptor {
  return (next) => async (req) => {
    const service = req.method.parent.typeName;
    if (untraced.has(service)) return next(req);
    const parent = decide(tracing, carrierOf(req.header));
    if (isScope(parent)) {
      req.contextValues.set(traceScopeKey, parent);
      return next(req);
    }
    const span = tracing.tracer.startSpan(
      `${service}/${req.method.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": "connect_rpc",
          "rpc.service": service,
          "rpc.method": req.method.name,
          "juraft.node": node,
        },
      },
      parent,
    );
    const scope = scopeOfSpan(tracing, parent, span);
    req.contextValues.set(traceScopeKey, scope);
    if (scope?.sampled !== true) return next(req);
    try {
      const res = await next(req);
      if (!res.stream) {
        span.end();
        return res;
      }
      return { ...res, message: endingWith(span, res.message) };
    } catch (err) {
      failSpan(span, err);
      span.end();
      throw err;
    }
  };
}

/**
 * Client side: puts the active context into the request headers (the caller starts the span:
 * the relay, or the client library's transaction span).
 */
export function clientTraceInterceptor(tracing: Tracing): Interceptor {
  return (next) => (req) => {
    if (untraced.has(req.method.parent.typeName)) return next(req);
    const span = trace.getSpan(context.active());
    if (span !== undefined) {
      for (const [k, v] of Object.entries(tracing.inject(context.active()))) req.header.set(k, v);
    }
    return next(req);
  };
}
