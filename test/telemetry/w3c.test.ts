import {
  ROOT_CONTEXT,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type Context,
  type SpanContext,
} from "@opentelemetry/api";
import {
  TraceState,
  W3CTraceContextPropagator,
  isTracingSuppressed,
  suppressTracing,
} from "@opentelemetry/core";
import fc from "fast-check";
import { extractW3C, injectW3C, type W3C } from "../../node/telemetry/w3c.js";

const propagator = new W3CTraceContextPropagator();
const w3c: W3C = { propagator, isSuppressed: isTracingSuppressed };

const hex = (n: number): fc.Arbitrary<string> =>
  fc
    .array(
      fc.constantFrom(
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "a",
        "b",
        "c",
        "d",
        "e",
        "f",
      ),
      { minLength: n, maxLength: n },
    )
    .map((a) => a.join(""));
/** Ids: mostly random, sometimes all zeros (invalid). */
const id = (n: number): fc.Arbitrary<string> =>
  fc.oneof({ arbitrary: hex(n), weight: 5 }, { arbitrary: fc.constant("0".repeat(n)), weight: 1 });

/** traceparent headers: well-formed version 00, other versions, junk, near misses. */
const traceparent = fc.oneof(
  fc.tuple(id(32), id(16), hex(2)).map(([t, s, f]) => `00-${t}-${s}-${f}`),
  fc.tuple(hex(2), id(32), id(16), hex(2)).map(([v, t, s, f]) => `${v}-${t}-${s}-${f}`),
  fc.tuple(id(32), id(16), hex(2)).map(([t, s, f]) => `00-${t.toUpperCase()}-${s}-${f}`),
  fc.tuple(id(32), id(16), hex(2)).map(([t, s, f]) => ` 00-${t}-${s}-${f}-extra`),
  fc.tuple(hex(2), id(32), id(16), hex(2)).map(([v, t, s, f]) => `${v}-${t}-${s}-${f}-future`),
  fc.string(),
);
const carrier = fc.record(
  { traceparent, tracestate: fc.constantFrom("vendor=abc", "a=1,b=2", "", "bad key=") },
  { requiredKeys: [] },
);

const viaPropagator = (c: Record<string, string>): Context =>
  propagator.extract(ROOT_CONTEXT, c, defaultTextMapGetter);

function spanContextOf(ctx: Context): unknown {
  const sc = trace.getSpanContext(ctx);
  return sc === undefined ? undefined : { ...sc, traceState: sc.traceState?.serialize() };
}

describe("W3C trace context fast path (node/telemetry/w3c.ts)", () => {
  test("extract gives exactly the propagator's context for any carrier", () => {
    fc.assert(
      fc.property(carrier, (c) => {
        expect(spanContextOf(extractW3C(w3c, c))).toEqual(spanContextOf(viaPropagator(c)));
      }),
      { numRuns: 2000 },
    );
  });

  test("inject writes exactly the propagator's headers for any span context", () => {
    const spanContext: fc.Arbitrary<SpanContext> = fc
      .record({
        traceId: id(32),
        spanId: id(16),
        traceFlags: fc.integer({ min: 0, max: 255 }),
        isRemote: fc.boolean(),
        traceState: fc.option(fc.constantFrom("vendor=abc", "a=1,b=2"), { nil: undefined }),
      })
      .map(({ traceState, ...sc }) =>
        traceState === undefined ? sc : { ...sc, traceState: new TraceState(traceState) },
      );
    fc.assert(
      fc.property(spanContext, fc.boolean(), (sc, suppressed) => {
        let ctx = trace.setSpanContext(ROOT_CONTEXT, sc);
        if (suppressed) ctx = suppressTracing(ctx);
        const want: Record<string, string> = {};
        propagator.inject(ctx, want, defaultTextMapSetter);
        expect(injectW3C(w3c, ctx)).toEqual(want);
      }),
      { numRuns: 2000 },
    );
    expect(injectW3C(w3c, ROOT_CONTEXT)).toEqual({});
  });

  test("a header written by inject reads back as the same span context", () => {
    const sc = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
    };
    const headers = injectW3C(w3c, trace.setSpanContext(ROOT_CONTEXT, sc));
    expect(headers).toEqual({
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    });
    expect(trace.getSpanContext(extractW3C(w3c, headers))).toEqual({ ...sc, isRemote: true });
  });
});
