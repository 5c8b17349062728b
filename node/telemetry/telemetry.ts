import type { Interceptor } from "@connectrpc/connect";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { ApiSpans } from "./api-telemetry.js";
import { tracingConfigFromEnv, type TracingConfig } from "./config.js";
import {
  noopApiTelemetry,
  noopRaftTelemetry,
  type ApiTelemetry,
  type RaftTelemetry,
} from "./hooks.js";
import { clientTraceInterceptor } from "./interceptors.js";
import { NodeMetrics } from "./metrics.js";
import { RaftSpans } from "./raft-telemetry.js";
import { startTracing, type Tracing } from "./tracing.js";

/** Everything one node reports: runtime hooks, API hooks, peer-client interceptors, metrics. */
export interface NodeTelemetry extends AsyncDisposable {
  readonly raft: RaftTelemetry;
  readonly api: ApiTelemetry;
  /** Interceptors of clients to other members (they put the active context in headers). */
  readonly clientInterceptors: readonly Interceptor[];
  readonly metrics: NodeMetrics | undefined;
  readonly tracing: Tracing | undefined;
  /** Exports what is left and stops. */
  close(): Promise<void>;
}

/** Telemetry that does nothing: the default, and what a node gets with everything off. */
export const noTelemetry: NodeTelemetry = {
  raft: noopRaftTelemetry,
  api: noopApiTelemetry,
  clientInterceptors: [],
  metrics: undefined,
  tracing: undefined,
  close: () => Promise.resolve(),
  [Symbol.asyncDispose]: () => Promise.resolve(),
};

/**
 * Starts a node's telemetry: tracing as the OTEL_* variables of `env` say (or `tracing`, or an
 * in-memory `exporter` in tests), Prometheus metrics when `metrics`. With both off it returns
 * {@link noTelemetry} and loads no OpenTelemetry SDK.
 */
export async function startNodeTelemetry(o: {
  node: string;
  env?: NodeJS.ProcessEnv;
  tracing?: TracingConfig;
  exporter?: SpanExporter;
  metrics?: boolean;
}): Promise<NodeTelemetry> {
  const cfg = o.tracing ?? tracingConfigFromEnv(o.env ?? process.env);
  if (cfg === undefined && o.metrics !== true) return noTelemetry;
  const tracing =
    cfg === undefined
      ? undefined
      : await startTracing(cfg, {
          instance: o.node,
          ambient: false,
          ...(o.exporter !== undefined ? { exporter: o.exporter } : {}),
        });
  const metrics = o.metrics === true ? new NodeMetrics() : undefined;
  const parts = {
    node: o.node,
    ...(tracing !== undefined ? { tracing } : {}),
    ...(metrics !== undefined ? { metrics } : {}),
  };
  const close = async (): Promise<void> => {
    await tracing?.shutdown();
  };
  return {
    raft: new RaftSpans(parts),
    api: new ApiSpans(parts),
    clientInterceptors: tracing === undefined ? [] : [clientTraceInterceptor(tracing)],
    metrics,
    tracing,
    close,
    [Symbol.asyncDispose]: close,
  };
}
