import { context, trace, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import {
  clientTelemetry,
  startTracing,
  tracingConfigFromEnv,
  type ClientTelemetry,
  type TracingConfig,
} from "../telemetry/index.js";

/** Drops spans: `--trace` with no OTEL_* exporter still starts a trace the nodes record. */
const discard: SpanExporter = {
  export: (_spans, done) => {
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: () => Promise.resolve(),
};

/**
 * `juraft --trace CMD`: runs `fn` inside a sampled root span `juraft CMD`, printing its trace id
 * on stderr first (to look it up in Jaeger). The CLI's own spans go where the OTEL_* variables
 * say, if anywhere; the nodes export theirs, and the trace is always sampled (ratio ignored).
 */
export async function withTrace<T>(
  command: string,
  fn: (tel: ClientTelemetry) => Promise<T>,
  write: (line: string) => void,
): Promise<T> {
  const fromEnv = tracingConfigFromEnv(process.env);
  const cfg: TracingConfig = {
    ...(fromEnv ?? { exporter: "otlp", protocol: "http/protobuf", serviceName: "juraft-cli" }),
    ratio: 1,
    parentBased: false,
  };
  const tracing = await startTracing(cfg, {
    instance: "cli",
    ...(fromEnv === undefined ? { exporter: discard } : {}),
  });
  try {
    const span = tracing.tracer.startSpan(`juraft ${command}`, { kind: SpanKind.CLIENT });
    write(`trace_id: ${span.spanContext().traceId}`);
    try {
      return await context.with(trace.setSpan(context.active(), span), () =>
        fn(clientTelemetry(tracing)),
      );
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
      throw err;
    } finally {
      span.end();
    }
  } finally {
    await tracing.shutdown();
  }
}
