import { tracingConfigFromEnv, TelemetryConfigError } from "../../node/telemetry/index.js";

describe("tracingConfigFromEnv", () => {
  it("is off with no variables, with OTEL_TRACES_EXPORTER=none, and with OTEL_SDK_DISABLED", () => {
    expect(tracingConfigFromEnv({})).toBeUndefined();
    expect(
      tracingConfigFromEnv({
        OTEL_TRACES_EXPORTER: "none",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4318",
      }),
    ).toBeUndefined();
    expect(
      tracingConfigFromEnv({
        OTEL_SDK_DISABLED: "true",
        OTEL_TRACES_EXPORTER: "otlp",
      }),
    ).toBeUndefined();
  });

  it("turns on with only an endpoint (what the operator sets), appending /v1/traces for HTTP", () => {
    expect(
      tracingConfigFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4318/",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.01",
      }),
    ).toEqual({
      exporter: "otlp",
      protocol: "http/protobuf",
      endpoint: "http://jaeger:4318/v1/traces",
      ratio: 0.01,
      parentBased: true,
      serviceName: "juraft",
    });
  });

  it("keeps a signal endpoint as given, and the base endpoint as is for gRPC", () => {
    expect(
      tracingConfigFromEnv({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:9999/custom",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
      })?.endpoint,
    ).toBe("http://c:9999/custom");
    expect(
      tracingConfigFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4317",
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_SERVICE_NAME: "juraft-prod",
      }),
    ).toMatchObject({
      protocol: "grpc",
      endpoint: "http://jaeger:4317",
      serviceName: "juraft-prod",
    });
  });

  it.each([
    ["always_on", undefined, 1, false],
    ["always_off", undefined, 0, false],
    ["traceidratio", "0.5", 0.5, false],
    ["parentbased_always_on", undefined, 1, true],
    ["parentbased_always_off", undefined, 0, true],
    ["parentbased_traceidratio", undefined, 1, true],
  ])("sampler %s with arg %s: ratio %d, parent-based %s", (sampler, arg, ratio, parentBased) => {
    const c = tracingConfigFromEnv({
      OTEL_TRACES_EXPORTER: "console",
      OTEL_TRACES_SAMPLER: sampler,
      ...(arg !== undefined ? { OTEL_TRACES_SAMPLER_ARG: arg } : {}),
    });
    expect(c).toMatchObject({ exporter: "console", ratio, parentBased });
  });

  it("names the variable and the value it cannot use", () => {
    const bad = (env: NodeJS.ProcessEnv): unknown => {
      try {
        tracingConfigFromEnv(env);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    for (const [env, re] of [
      [{ OTEL_TRACES_EXPORTER: "zipkin" }, /OTEL_TRACES_EXPORTER: "zipkin"/],
      [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "udp" }, /PROTOCOL: "udp"/],
      [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "sometimes" }, /"sometimes"/],
      [
        {
          OTEL_TRACES_EXPORTER: "otlp",
          OTEL_TRACES_SAMPLER: "traceidratio",
          OTEL_TRACES_SAMPLER_ARG: "2",
        },
        /SAMPLER_ARG: "2"/,
      ],
    ] as const) {
      const err = bad(env);
      expect(err).toBeInstanceOf(TelemetryConfigError);
      expect((err as TelemetryConfigError).code).toBe("BAD_TELEMETRY_CONFIG");
      expect((err as Error).message).toMatch(re);
    }
  });
});
