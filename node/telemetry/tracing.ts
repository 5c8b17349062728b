import {
  context,
  createContextKey,
  ROOT_CONTEXT,
  type Context,
  type Tracer,
} from "@opentelemetry/api";
import type { Sampler, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { TracingConfig } from "./config.js";
import { SpanBatcher } from "./deferred.js";
import { PresetIds, randomHexId } from "./preset-ids.js";
import { extractW3C, injectW3C, type W3C } from "./w3c.js";

/** W3C trace context as it travels in headers and in Raft entries. */
export type TraceCarrier = Readonly<Record<string, string>>;

/** A started tracer provider of one node. */
export interface Tracing extends AsyncDisposable {
  readonly tracer: Tracer;
  /** Returns the context `carrier` names (the root context when it names none). */
  extract(carrier: TraceCarrier): Context;
  /** Returns the W3C headers of `ctx`'s span (empty when it has none). */
  inject(ctx: Context): Record<string, string>;
  /** Whether a span's sampling follows its parent's (parent-based samplers). */
  readonly parentBased: boolean;
  /**
   * Decides whether a new trace (a root span) is sampled, before any span exists: returns the
   * parent context to start the root span in, or undefined when the trace is not sampled. With a
   * parent-based sampler the decision is the ratio's and an unsampled root costs nothing (no ids,
   * no span); otherwise the SDK's sampler decides when the span starts (check isRecording()).
   */
  rootContext(): Context | undefined;
  /** A W3C carrier naming a new, unsampled trace (for a decision made by rootContext()). */
  unsampledCarrier(): Record<string, string>;
  /** Exports every finished span now. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let contextManagerSet = false;

/**
 * Installs the AsyncLocalStorage context manager once per process: spans started inside an
 * async call find their parent through it. Providers are not registered globally, so several
 * nodes in one process (tests) each keep their own resource and exporter.
 */
async function ensureContextManager(): Promise<void> {
  if (contextManagerSet) return;
  const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  contextManagerSet = true;
}

async function exporterOf(cfg: TracingConfig): Promise<SpanExporter> {
  const url = cfg.endpoint === undefined ? {} : { url: cfg.endpoint };
  switch (cfg.exporter) {
    case "console": {
      const { ConsoleSpanExporter } = await import("@opentelemetry/sdk-trace-base");
      return new ConsoleSpanExporter();
    }
    case "memory":
      throw new Error("start tracing: the memory exporter must be passed in by the caller");
    case "otlp":
      switch (cfg.protocol) {
        case "http/json": {
          const m = await import("@opentelemetry/exporter-trace-otlp-http");
          return new m.OTLPTraceExporter(url);
        }
        case "http/protobuf": {
          const m = await import("@opentelemetry/exporter-trace-otlp-proto");
          return new m.OTLPTraceExporter(url);
        }
        case "grpc": {
          const m = await import("@opentelemetry/exporter-trace-otlp-grpc");
          return new m.OTLPTraceExporter(url);
        }
      }
  }
}

/** Marks a root span that {@link Tracing.rootContext} already decided to sample. */
const DECIDED = createContextKey("juraft.sampled-root");

/** The root sampler of a parent-based provider: roots were decided (and sampled) up front. */
const decidedRoot = (inner: Sampler, on: Sampler): Sampler => ({
  shouldSample: (ctx, ...rest) =>
    ctx.getValue(DECIDED) === true
      ? on.shouldSample(ctx, ...rest)
      : inner.shouldSample(ctx, ...rest),
  toString: () => `DecidedRoot{${inner.toString()}}`,
});

/**
 * Starts a tracer provider for one node: exporter from `cfg` (or `exporter`, exported span by
 * span unless `batch`: tests, benchmarks), sampler parent-based ratio, resource service.name and
 * service.instance.id.
 * The SDK is imported here, so a node with tracing off never loads it.
 */
export async function startTracing(
  cfg: TracingConfig,
  opts: { instance: string; exporter?: SpanExporter; ambient?: boolean; batch?: boolean },
): Promise<Tracing> {
  // Nodes pass spans explicitly (no AsyncLocalStorage, whose promise hooks tax every await in
  // the process); the client library and the CLI follow the ambient context.
  if (opts.ambient !== false) await ensureContextManager();
  const sdk = await import("@opentelemetry/sdk-trace-node");
  const { resourceFromAttributes } = await import("@opentelemetry/resources");
  const { W3CTraceContextPropagator, isTracingSuppressed } = await import("@opentelemetry/core");
  const ratio = new sdk.TraceIdRatioBasedSampler(cfg.ratio);
  const sampler = cfg.parentBased
    ? new sdk.ParentBasedSampler({ root: decidedRoot(ratio, new sdk.AlwaysOnSampler()) })
    : ratio;
  const ids = new sdk.RandomIdGenerator();
  const decided = ROOT_CONTEXT.setValue(DECIDED, true);
  // Nodes record spans as data and make them in batches (deferred.ts says why); the client
  // library and the CLI make theirs directly (a few per call, not in a hot loop).
  const preset = opts.ambient === false ? new PresetIds(ids, sdk.SamplingDecision) : undefined;
  const processor: SpanProcessor =
    opts.exporter !== undefined && opts.batch !== true
      ? new sdk.SimpleSpanProcessor(opts.exporter)
      : new sdk.BatchSpanProcessor(opts.exporter ?? (await exporterOf(cfg)));
  const provider = new sdk.NodeTracerProvider({
    resource: resourceFromAttributes({
      "service.name": cfg.serviceName,
      "service.instance.id": opts.instance,
    }),
    ...(preset === undefined ? { sampler } : { sampler: preset.sampler(), idGenerator: preset }),
    spanProcessors: [processor],
  });
  const sdkTracer = provider.getTracer("juraft");
  const batcher =
    preset === undefined
      ? undefined
      : new SpanBatcher({
          sdk: sdkTracer,
          ids: preset,
          sampler,
          parentBased: cfg.parentBased,
          decisions: sdk.SamplingDecision,
        });
  const w3c: W3C = {
    propagator: new W3CTraceContextPropagator(),
    isSuppressed: isTracingSuppressed,
  };
  const shutdown = (): Promise<void> => {
    batcher?.drain();
    return provider.shutdown();
  };
  return {
    tracer: batcher ?? sdkTracer,
    extract: (carrier) => extractW3C(w3c, carrier),
    inject: (ctx) => injectW3C(w3c, ctx),
    parentBased: cfg.parentBased,
    rootContext: () => {
      if (!cfg.parentBased) return ROOT_CONTEXT;
      // Math.random, as the SDK's id generator: the same distribution as its trace id ratio.
      return cfg.ratio >= 1 || Math.random() < cfg.ratio ? decided : undefined;
    },
    unsampledCarrier: () => ({
      traceparent: `00-${randomHexId(16)}-${randomHexId(8)}-00`,
    }),
    flush: () => {
      batcher?.drain();
      return provider.forceFlush();
    },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
