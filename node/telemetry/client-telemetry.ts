import type { Interceptor } from "@connectrpc/connect";
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from "@opentelemetry/api";
import { clientTraceInterceptor } from "./interceptors.js";
import type { Tracing } from "./tracing.js";

/** What the client library reports (its CLIENT spans); {@link noClientTelemetry} does nothing. */
export interface ClientTelemetry {
  readonly interceptors: readonly Interceptor[];
  /** Runs a call in a CLIENT span `name`; `fn` reports each retry through `retried`. */
  call<T>(name: string, attrs: Attributes, fn: (retried: () => void) => Promise<T>): Promise<T>;
  /** The W3C context of the active span, for calls that carry it in the body (sessions). */
  carrier(): Record<string, string>;
}

const ignore = (): void => undefined;

/** Client telemetry when tracing is off. */
export const noClientTelemetry: ClientTelemetry = {
  interceptors: [],
  call: (_n, _a, fn) => fn(ignore),
  carrier: () => none,
};

const none: Record<string, string> = {};

/** Client telemetry over `tracing`: one CLIENT span per call, its context in the headers. */
export function clientTelemetry(tracing: Tracing): ClientTelemetry {
  return {
    interceptors: [clientTraceInterceptor(tracing)],
    carrier() {
      const active = context.active();
      return trace.getSpan(active) === undefined ? none : tracing.inject(active);
    },
    async call(name, attrs, fn) {
      const parent = context.active();
      const span: Span = tracing.tracer.startSpan(
        name,
        { kind: SpanKind.CLIENT, attributes: attrs },
        parent,
      );
      let retries = 0;
      try {
        return await context.with(trace.setSpan(parent, span), () =>
          fn(() => {
            retries++;
          }),
        );
      } catch (err) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
        throw err;
      } finally {
        span.setAttribute("juraft.client.retry_count", retries);
        span.end();
      }
    },
  };
}
