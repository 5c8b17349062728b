/**
 * Telemetry settings read from the standard OpenTelemetry environment variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).
 * Tracing is off unless asked for: `OTEL_TRACES_EXPORTER=otlp|console`, or an OTLP endpoint is
 * set and `OTEL_TRACES_EXPORTER` is not (the operator sets only the endpoint and the sampler).
 */

/** How spans leave the process. */
export type TraceExporterKind = "otlp" | "console" | "memory";

/** OTLP transports (OTEL_EXPORTER_OTLP_PROTOCOL). */
export type OtlpProtocol = "http/protobuf" | "http/json" | "grpc";

/** Tracing settings; `undefined` means tracing is off. */
export interface TracingConfig {
  readonly exporter: TraceExporterKind;
  readonly protocol: OtlpProtocol;
  /** The full traces URL for HTTP (…/v1/traces) or the host:port URL for gRPC; unset: default. */
  readonly endpoint?: string;
  /** Head sampling ratio of root spans (parentbased_traceidratio); children follow the parent. */
  readonly ratio: number;
  /** Whether sampling ignores the parent's decision (traceidratio, always_on, always_off). */
  readonly parentBased: boolean;
  readonly serviceName: string;
}

/** A configuration error: the message names the variable and the value. */
export class TelemetryConfigError extends Error {
  readonly code = "BAD_TELEMETRY_CONFIG";
}

const protocols: readonly OtlpProtocol[] = ["http/protobuf", "http/json", "grpc"];

function samplerOf(env: NodeJS.ProcessEnv): { ratio: number; parentBased: boolean } {
  const name = env["OTEL_TRACES_SAMPLER"] ?? "parentbased_always_on";
  const arg = env["OTEL_TRACES_SAMPLER_ARG"];
  const ratio = (): number => {
    if (arg === undefined || arg === "") return 1;
    const r = Number(arg);
    if (!Number.isFinite(r) || r < 0 || r > 1)
      throw new TelemetryConfigError(
        `read OTEL_TRACES_SAMPLER_ARG: ${JSON.stringify(arg)} is not a ratio between 0 and 1`,
      );
    return r;
  };
  switch (name) {
    case "always_on":
      return { ratio: 1, parentBased: false };
    case "always_off":
      return { ratio: 0, parentBased: false };
    case "traceidratio":
      return { ratio: ratio(), parentBased: false };
    case "parentbased_always_on":
      return { ratio: 1, parentBased: true };
    case "parentbased_always_off":
      return { ratio: 0, parentBased: true };
    case "parentbased_traceidratio":
      return { ratio: ratio(), parentBased: true };
    default:
      throw new TelemetryConfigError(
        `read OTEL_TRACES_SAMPLER: ${JSON.stringify(name)} is not a supported sampler`,
      );
  }
}

/** Returns the tracing settings `env` asks for, or undefined when tracing is off. */
export function tracingConfigFromEnv(env: NodeJS.ProcessEnv): TracingConfig | undefined {
  if (env["OTEL_SDK_DISABLED"]?.toLowerCase() === "true") return undefined;
  const tracesEndpoint = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];
  const baseEndpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"];
  const named = env["OTEL_TRACES_EXPORTER"]?.trim();
  let exporter: TraceExporterKind;
  if (named === undefined || named === "") {
    if ((tracesEndpoint ?? baseEndpoint ?? "") === "") return undefined;
    exporter = "otlp";
  } else if (named === "none") {
    return undefined;
  } else if (named === "otlp" || named === "console") {
    exporter = named;
  } else {
    throw new TelemetryConfigError(
      `read OTEL_TRACES_EXPORTER: ${JSON.stringify(named)} is not otlp, console or none`,
    );
  }
  const p =
    env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] ??
    env["OTEL_EXPORTER_OTLP_PROTOCOL"] ??
    "http/protobuf";
  if (!protocols.includes(p as OtlpProtocol))
    throw new TelemetryConfigError(
      `read OTEL_EXPORTER_OTLP_PROTOCOL: ${JSON.stringify(p)} is not http/protobuf, http/json or grpc`,
    );
  const protocol = p as OtlpProtocol;
  let endpoint: string | undefined;
  if (tracesEndpoint !== undefined && tracesEndpoint !== "") endpoint = tracesEndpoint;
  else if (baseEndpoint !== undefined && baseEndpoint !== "")
    // The spec: the signal path is appended to the base endpoint for HTTP, not for gRPC.
    endpoint = protocol === "grpc" ? baseEndpoint : baseEndpoint.replace(/\/*$/, "") + "/v1/traces";
  return {
    exporter,
    protocol,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...samplerOf(env),
    serviceName: env["OTEL_SERVICE_NAME"] ?? "juraft",
  };
}
