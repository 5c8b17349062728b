import type { HandlerContext } from "@connectrpc/connect";
import { telemetryOf, type ApiContext } from "./context.js";

const traceHeaders = ["traceparent", "tracestate"];

/**
 * Returns the W3C trace context to carry into the log entry: the active span's when this node
 * traces (its server span, a child of the caller's), else the request's own headers.
 */
export function traceContextOf(ctx: ApiContext, hc: HandlerContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of traceHeaders) {
    const v = hc.requestHeader.get(h);
    if (v !== null) out[h] = v;
  }
  return { ...telemetryOf(ctx).carrier(out) };
}
