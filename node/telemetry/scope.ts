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

/**
 * A call that is not sampled. Its carrier (for a relay) is the caller's, or a new unsampled
 * trace made on first use: a call that is never relayed makes no ids at all.
 */
class Unsampled {
  readonly sampled = false;
  #carrier: TraceCarrier | undefined;
  readonly #tracing: Tracing;

  constructor(tracing: Tracing, carrier: TraceCarrier | undefined) {
    this.#tracing = tracing;
    this.#carrier = carrier;
  }

  carrier(): TraceCarrier {
    return (this.#carrier ??= this.#tracing.unsampledCarrier());
  }
}

/**
 * Decides a call arriving with `carrier` the way a parent-based sampler would, but before any
 * span exists: returns the unsampled scope (an unsampled parent, or a root the ratio leaves out:
 * no span, no ids), or the parent context to start the call's span in.
 */
export function decide(tracing: Tracing, carrier: TraceCarrier): TraceScope | Context {
  if (carrier["traceparent"] === undefined) {
    return tracing.rootContext() ?? new Unsampled(tracing, undefined);
  }
  switch (parentOf(carrier)) {
    case "unsampled":
      if (tracing.parentBased) return new Unsampled(tracing, carrier);
      return tracing.extract(carrier);
    case "sampled":
      return tracing.extract(carrier);
    case "none":
      return tracing.rootContext() ?? new Unsampled(tracing, undefined);
  }
}

/** Whether {@link decide} decided: the call is not sampled. */
export function isScope(d: TraceScope | Context): d is TraceScope {
  return d === undefined || d instanceof Unsampled;
}

/** The scope of a call whose `span` started in `parent` (the SDK's sampler had the last word). */
export function scopeOfSpan(tracing: Tracing, parent: Context, span: Span): TraceScope {
  const ctx = trace.setSpan(parent, span);
  if (!span.isRecording()) return new Unsampled(tracing, tracing.inject(ctx));
  return { sampled: true, span, ctx };
}
