import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  trace,
  type Context,
  type SpanContext,
  type TextMapPropagator,
} from "@opentelemetry/api";
import type { TraceCarrier } from "./tracing.js";

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/ §3.2) for the common case, in a few
 * lines of our own: a version-00 `traceparent` and no `tracestate`. Nodes read and write it for
 * every sampled entry inside the Raft Ready loop, where the SDK propagator's code is cold (see
 * deferred.ts); anything else (a trace state, another version, a suppressed context) goes to the
 * propagator, so the result is always the propagator's.
 */

/** version 00 - trace id - parent id - flags, lower-case hex (§3.2.2). */
const V00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";

/** A propagator and the test for a context the SDK must not trace (its exports). */
export interface W3C {
  readonly propagator: TextMapPropagator;
  isSuppressed(ctx: Context): boolean;
}

/** Returns the context `carrier` names as a remote parent (ROOT_CONTEXT when it names none). */
export function extractW3C(w: W3C, carrier: TraceCarrier): Context {
  const tp = carrier["traceparent"];
  if (tp !== undefined && carrier["tracestate"] === undefined) {
    const m = V00.exec(tp);
    if (m !== null) {
      const [, traceId = "", spanId = "", flags = ""] = m;
      // All-zero ids are invalid (§3.2.2.3, §3.2.2.4): no parent, as the propagator decides.
      if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return ROOT_CONTEXT;
      return trace.setSpanContext(ROOT_CONTEXT, {
        traceId,
        spanId,
        traceFlags: parseInt(flags, 16),
        isRemote: true,
      });
    }
  }
  return w.propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

/** Returns the W3C headers of `ctx`'s span (empty when it has none or tracing is suppressed). */
export function injectW3C(w: W3C, ctx: Context): Record<string, string> {
  const sc: SpanContext | undefined = trace.getSpanContext(ctx);
  if (sc === undefined || !trace.isSpanContextValid(sc) || w.isSuppressed(ctx)) return {};
  if (sc.traceState === undefined) {
    // Flags written as the propagator writes them (`0` then hex).
    return { traceparent: `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags.toString(16)}` };
  }
  const out: Record<string, string> = {};
  w.propagator.inject(ctx, out, defaultTextMapSetter);
  return out;
}
