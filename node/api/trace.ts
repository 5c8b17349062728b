import type { HandlerContext } from "@connectrpc/connect";

const traceHeaders = ["traceparent", "tracestate"];

/** Returns the W3C trace context headers of a request (carried into the log entry). */
export function traceContextOf(hc: HandlerContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of traceHeaders) {
    const v = hc.requestHeader.get(h);
    if (v !== null) out[h] = v;
  }
  return out;
}
