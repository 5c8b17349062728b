export { tracingConfigFromEnv, TelemetryConfigError } from "./config.js";
export type { OtlpProtocol, TraceExporterKind, TracingConfig } from "./config.js";
export { traceContextOfCommand } from "./entry-context.js";
export { noopApiTelemetry, noopRaftTelemetry } from "./hooks.js";
export type {
  ApiTelemetry,
  AppliedOutcome,
  HookToken,
  RaftTelemetry,
  TraceScope,
} from "./hooks.js";
export { clientTraceInterceptor, serverTraceInterceptor, traceScopeKey } from "./interceptors.js";
export { parentOf } from "./scope.js";
export { isLogLevel, jsonLogger, type LogLevel } from "./logger.js";
export { NodeMetrics, startMetricsServer } from "./metrics.js";
export type { MetricsServer, NodeStatus, NodeStatusSource } from "./metrics.js";
export { attr, outcomeAttributes, RaftSpans } from "./raft-telemetry.js";
export { ApiSpans } from "./api-telemetry.js";
export { noTelemetry, startNodeTelemetry, type NodeTelemetry } from "./telemetry.js";
export { clientTelemetry, noClientTelemetry, type ClientTelemetry } from "./client-telemetry.js";
export { startTracing, type TraceCarrier, type Tracing } from "./tracing.js";
