import { trace, type Context, type Span } from "@opentelemetry/api";
import type { TraceScope } from "./hooks.js";
import type { TraceCarrier, Tracing } from "./tracing.js";

/** W3C traceparent: version, trace id, parent id, flags (Trace Context §3.2). */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * What a carrier's traceparent says: `sampled` (flags bit 0 set), `unsampled`, or `none` (absent
 * or malformed: W3C then starts a new trace).
 */
export function parentOf(carrier: TraceCarrier): "sampled" | "unsampled" | "none" {
  const tp = carrier["traceparent"];
  if (tp === undefined || !TRACEPARENT.test(tp)) return "none";
  return (parseInt(tp.slice(53, 55), 16) & 1) === 1 ? "sampled" : "unsampled";
}

/** An unsampled scope whose carrier is `carrier`, or a new unsampled trace made on demand. */
function unsampled(tracing: Tracing, carrier: TraceCarrier | undefined): TraceScope {
  let c = carrier;
  return {
    sampled: false,
    carrier: () => (c ??= tracing.unsampledCarrier()),
  };
}

/**
 * Decides the scope of a call arriving with `carrier`, the way a parent-based sampler would but
 * before any span exists: an unsampled parent, or a root the ratio leaves out, costs no span and
 * no ids. Otherwise `start(parent)` starts the call's span (the SDK's sampler has the last word
 * when it is not parent-based).
 */
export function enterScope(
  tracing: Tracing,
  carrier: TraceCarrier,
  start: (parent: Context) => Span,
): TraceScope {
  let parent: Context | undefined;
  switch (parentOf(carrier)) {
    case "unsampled":
      if (tracing.parentBased) return unsampled(tracing, carrier);
      parent = tracing.extract(carrier);
      break;
    case "sampled":
      parent = tracing.extract(carrier);
      break;
    case "none":
      parent = tracing.rootContext();
      if (parent === undefined) return unsampled(tracing, undefined);
      break;
  }
  const span = start(parent);
  const ctx = trace.setSpan(parent, span);
  if (!span.isRecording()) return unsampled(tracing, tracing.inject(ctx));
  return { sampled: true, span, ctx };
}

/** Starts a child span of a sampled `scope` (undefined when it is not sampled). */
export function childScope(scope: TraceScope, start: (parent: Context) => Span): TraceScope {
  if (scope?.sampled !== true) return scope;
  const span = start(scope.ctx);
  return { sampled: true, span, ctx: trace.setSpan(scope.ctx, span) };
}
