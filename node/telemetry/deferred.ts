import { performance } from "node:perf_hooks";
import {
  context as contextApi,
  ROOT_CONTEXT,
  SpanKind,
  TraceFlags,
  trace,
  type Attributes,
  type Context,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
} from "@opentelemetry/api";
import type { Sampler } from "@opentelemetry/sdk-trace-base";
import { randomHexId, type Decisions, type PresetIds } from "./preset-ids.js";

/**
 * Spans recorded as plain data where they happen and made into SDK spans later, many at once.
 *
 * Why: at a low sampling ratio a node makes a span every few milliseconds, between thousands of
 * transactions that run other code. Measured here (Node 20, SDK 2.x, the OTLP exporter's batch
 * processor): one span made alone, 10-20 ms after the previous one, costs ~100-140 us (its code
 * and data are cold in the CPU's caches and never optimised); made 16 back to back, ~11 us each;
 * in a tight loop ~3 us. And a span made inside the Raft Ready loop delays the whole batch of
 * transactions it handles. So the hot path only notes names, ids, times and attributes (small
 * code of our own), and {@link SpanBatcher} hands them to the SDK's tracer in batches, outside
 * the loop, with their recorded `startTime`/`endTime` (OpenTelemetry API: SpanOptions.startTime,
 * Span.end(endTime)). Ids are chosen when the span starts (children and W3C headers need them at
 * once); the SDK is given the same ids through {@link PresetIds}. The result is the same span the
 * SDK would have made: same ids, parent, times, attributes, events, status, resource and scope.
 */

/** Times are `performance.now()` readings: the SDK converts them (Span#_getTime). */
type Time = number;

/** What the SDK span is given, in order, when it is made. */
type Note =
  | { readonly k: "event"; readonly name: string; readonly attrs?: Attributes; readonly t: Time }
  | { readonly k: "exception"; readonly exception: Exception; readonly t: Time }
  | { readonly k: "link"; readonly link: Link }
  | { readonly k: "status"; readonly status: SpanStatus }
  | { readonly k: "name"; readonly name: string };

/** A span being recorded: the API's Span over plain fields; ended, it waits in a batch. */
class DeferredSpan implements Span {
  readonly #batcher: SpanBatcher;
  readonly #sc: SpanContext;
  readonly parent: SpanContext | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  readonly start: Time;
  /** The caller's object until the first change (then a copy): most spans never change it. */
  attributes: Attributes;
  #ownAttributes = false;
  readonly links: readonly Link[];
  notes: Note[] | undefined;
  end_: Time = 0;
  #ended = false;

  constructor(
    batcher: SpanBatcher,
    sc: SpanContext,
    parent: SpanContext | undefined,
    name: string,
    o: SpanOptions,
  ) {
    this.#batcher = batcher;
    this.#sc = sc;
    this.parent = parent;
    this.name = name;
    this.kind = o.kind ?? SpanKind.INTERNAL;
    this.start = timeOf(o.startTime);
    this.attributes = o.attributes ?? {};
    this.links = o.links ?? [];
  }

  #note(n: Note): this {
    if (!this.#ended) (this.notes ??= []).push(n);
    return this;
  }

  spanContext(): SpanContext {
    return this.#sc;
  }

  #writable(): Attributes {
    if (!this.#ownAttributes) {
      this.attributes = { ...this.attributes };
      this.#ownAttributes = true;
    }
    return this.attributes;
  }

  setAttribute(key: string, value: Attributes[string]): this {
    if (!this.#ended) this.#writable()[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (!this.#ended) Object.assign(this.#writable(), attributes);
    return this;
  }

  addEvent(name: string, attrsOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (isTimeInput(attrsOrTime)) return this.#note({ k: "event", name, t: timeOf(attrsOrTime) });
    return attrsOrTime === undefined
      ? this.#note({ k: "event", name, t: timeOf(time) })
      : this.#note({ k: "event", name, attrs: { ...attrsOrTime }, t: timeOf(time) });
  }

  addLink(link: Link): this {
    return this.#note({ k: "link", link });
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.#note({ k: "link", link });
    return this;
  }

  setStatus(status: SpanStatus): this {
    return this.#note({ k: "status", status });
  }

  updateName(name: string): this {
    return this.#note({ k: "name", name });
  }

  recordException(exception: Exception, time?: TimeInput): void {
    this.#note({ k: "exception", exception, t: timeOf(time) });
  }

  end(endTime?: TimeInput): void {
    if (this.#ended) return;
    this.#ended = true;
    this.end_ = timeOf(endTime);
    this.#batcher.ended(this);
  }

  isRecording(): boolean {
    return !this.#ended;
  }
}

/** Whether the API's `attributesOrStartTime` argument is a time. */
function isTimeInput(v: Attributes | TimeInput | undefined): v is TimeInput {
  return typeof v === "number" || v instanceof Date || Array.isArray(v);
}

/** A TimeInput as a `performance.now()` reading (what the SDK would have read itself). */
function timeOf(t: TimeInput | undefined): Time {
  if (t === undefined) return performance.now();
  if (typeof t === "number") return t < performance.timeOrigin / 2 ? t : t - performance.timeOrigin;
  if (t instanceof Date) return t.getTime() - performance.timeOrigin;
  return t[0] * 1000 + t[1] / 1e6 - performance.timeOrigin;
}

/** Spans ended but not yet handed to the SDK, at most (older ones are kept, newer dropped). */
const MAX_QUEUED = 8192;
/** Hand them over when this many wait... */
const BATCH = 64;
/** ...or this long after the first one ended (ms). */
const DELAY_MS = 200;

/**
 * The tracer of a node: samples with the configured sampler when a span starts, records it as a
 * {@link DeferredSpan}, and makes the SDK spans in batches (on a timer, on {@link drain}).
 */
export class SpanBatcher implements Tracer {
  readonly #sdk: Tracer;
  readonly #ids: PresetIds;
  readonly #sampler: Sampler;
  readonly #parentBased: boolean;
  readonly #d: Decisions;
  #queue: DeferredSpan[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Whether #timer is the immediate one (a full batch): later spans need not re-arm it. */
  #due = false;

  /**
   * `sdk` is a tracer of a provider built with `ids` and `ids.sampler()`; `sampler` is the
   * configured one, `parentBased` whether it is ParentBasedSampler with its default delegates.
   */
  constructor(o: {
    sdk: Tracer;
    ids: PresetIds;
    sampler: Sampler;
    parentBased: boolean;
    decisions: Decisions;
  }) {
    this.#d = o.decisions;
    this.#sdk = o.sdk;
    this.#ids = o.ids;
    this.#sampler = o.sampler;
    this.#parentBased = o.parentBased;
  }

  /** Starts a span in `ctx` (the API's contract; a NonRecordingSpan when not sampled). */
  startSpan(name: string, options: SpanOptions = {}, ctx: Context = contextApi.active()): Span {
    const parentCtx = options.root === true ? trace.deleteSpan(ctx) : ctx;
    const p = trace.getSpanContext(parentCtx);
    const parent = p !== undefined && trace.isSpanContextValid(p) ? p : undefined;
    const spanId = randomHexId(8);
    if (parent !== undefined && this.#parentBased) {
      // A parent-based sampler with its default delegates follows the parent's sampled flag
      // (ParentBasedSampler: remote/local parent sampled -> AlwaysOn, else AlwaysOff): the
      // decision needs no call into the SDK, whose code is cold at a low ratio.
      const sampled = (parent.traceFlags & 1) === 1;
      const sc: SpanContext = {
        traceId: parent.traceId,
        spanId,
        traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        ...(parent.traceState !== undefined ? { traceState: parent.traceState } : {}),
      };
      if (!sampled) return trace.wrapSpanContext(sc);
      return new DeferredSpan(this, sc, parent, name, options);
    }
    const traceId = parent?.traceId ?? randomHexId(16);
    const kind = options.kind ?? SpanKind.INTERNAL;
    const r = this.#sampler.shouldSample(
      parentCtx,
      traceId,
      name,
      kind,
      options.attributes ?? {},
      options.links ?? [],
    );
    const traceState = r.traceState ?? parent?.traceState;
    const traceFlags =
      r.decision === this.#d.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE;
    const sc: SpanContext =
      traceState === undefined
        ? { traceId, spanId, traceFlags }
        : { traceId, spanId, traceFlags, traceState };
    if (r.decision === this.#d.NOT_RECORD) return trace.wrapSpanContext(sc);
    const o = r.attributes === undefined ? options : withAttributes(options, r.attributes);
    return new DeferredSpan(this, sc, parent, name, o);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    ctx: Context,
    fn: F,
  ): ReturnType<F>;
  /** Starts a span and runs `fn` with it active (the API's contract). */
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a: SpanOptions | F,
    b?: Context | F,
    c?: F,
  ): ReturnType<F> {
    const fn = (c ?? (typeof b === "function" ? b : a)) as F;
    const options = typeof a === "function" ? {} : a;
    const ctx = b !== undefined && typeof b !== "function" ? b : contextApi.active();
    const span = this.startSpan(name, options, ctx);
    const run = fn as (span: Span) => ReturnType<F>;
    return contextApi.with(trace.setSpan(ctx, span), run, undefined, span);
  }

  /** A span ended: queue it for the SDK. */
  ended(s: DeferredSpan): void {
    if (this.#queue.length >= MAX_QUEUED) {
      return; // full: dropped, as the SDK's batch processor drops when its queue is full
    }
    this.#queue.push(s);
    if (this.#queue.length >= BATCH) {
      // Not in the caller's stack (it may be the Ready loop): soon, in one go.
      this.#schedule(0);
    } else this.#schedule(DELAY_MS);
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined) {
      if (ms > 0 || this.#due) return;
      clearTimeout(this.#timer);
    }
    this.#due = ms === 0;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#due = false;
      this.drain();
    }, ms);
    this.#timer.unref();
  }

  /** Makes the SDK span of every ended span now (before a flush or shutdown). */
  drain(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#due = false;
    }
    const q = this.#queue;
    this.#queue = [];
    for (const s of q) this.#make(s);
  }

  #make(s: DeferredSpan): void {
    const parentCtx =
      s.parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, s.parent);
    this.#ids.next = s.spanContext();
    let span: Span;
    try {
      span = this.#sdk.startSpan(
        s.name,
        { kind: s.kind, attributes: s.attributes, links: [...s.links], startTime: s.start },
        parentCtx,
      );
    } finally {
      this.#ids.next = undefined;
    }
    for (const n of s.notes ?? []) {
      switch (n.k) {
        case "event":
          span.addEvent(n.name, n.attrs, n.t);
          break;
        case "exception":
          span.recordException(n.exception, n.t);
          break;
        case "link":
          span.addLink(n.link);
          break;
        case "status":
          span.setStatus(n.status);
          break;
        case "name":
          span.updateName(n.name);
          break;
        default:
          n satisfies never;
      }
    }
    span.end(s.end_);
  }
}

function withAttributes(o: SpanOptions, extra: Attributes): SpanOptions {
  return { ...o, attributes: { ...o.attributes, ...extra } };
}
