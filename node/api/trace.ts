import type { HandlerContext } from "@connectrpc/connect";
import type { TraceScope } from "../telemetry/index.js";
import { telemetryOf, type ApiContext } from "./context.js";

const traceHeaders = ["traceparent", "tracestate"];

/** The RPC's trace scope, as the server interceptor decided it (undefined when not tracing). */
export function scopeOf(ctx: ApiContext, hc: HandlerContext): TraceScope {
  return telemetryOf(ctx).scopeOf(hc.values);
}

/**
 * Returns the W3C trace context to carry into the log entry: the RPC's span's when this node
 * traces and samples the call (its server span, a child of the caller's), none when it does not
 * sample it, else (not tracing) the request's own headers.
 */
export function traceContextOf(ctx: ApiContext, hc: HandlerContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of traceHeaders) {
    const v = hc.requestHeader.get(h);
    if (v !== null) out[h] = v;
  }
  return { ...telemetryOf(ctx).entryContext(scopeOf(ctx, hc), out) };
}
