import type { SpanContext } from "@opentelemetry/api";
import type {
  IdGenerator,
  Sampler,
  SamplingDecision,
  SamplingResult,
} from "@opentelemetry/sdk-trace-base";

/**
 * Ids for deferred spans (deferred.ts): drawn when a span starts, handed to the SDK when it is
 * made later, so the SDK's span has the ids its children and W3C headers already carry.
 */

/** The SDK's SamplingDecision enum, passed in: this module must not load the SDK itself. */
export type Decisions = typeof SamplingDecision;

/** Byte -> two lower-case hex digits. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * `bytes` random bytes as hex, from Math.random as the SDK's RandomIdGenerator draws them (the
 * trace id ratio sampler reads its decision from these bits), never all zeros (an invalid id).
 * Our own few lines: the SDK's generator goes through a Buffer, ~30 us when cold.
 */
export function randomHexId(bytes: 8 | 16): string {
  let s = "";
  let any = 0;
  for (let i = 0; i < bytes; i += 4) {
    const n = (Math.random() * 4_294_967_296) >>> 0;
    any |= n;
    s +=
      (HEX[n >>> 24] as string) +
      (HEX[(n >>> 16) & 255] as string) +
      (HEX[(n >>> 8) & 255] as string) +
      (HEX[n & 255] as string);
  }
  return any === 0 ? s.slice(0, -2) + "01" : s;
}

/** The ids (and sampling flag) the next span the SDK makes must have. */
export class PresetIds implements IdGenerator {
  /** Set just before the SDK's startSpan, cleared right after. */
  next: SpanContext | undefined;
  readonly #random: IdGenerator;
  readonly #d: Decisions;

  constructor(random: IdGenerator, decisions: Decisions) {
    this.#random = random;
    this.#d = decisions;
  }

  generateTraceId(): string {
    return this.next?.traceId ?? this.#random.generateTraceId();
  }

  generateSpanId(): string {
    return this.next?.spanId ?? this.#random.generateSpanId();
  }

  /**
   * The sampler of the provider that makes deferred spans: the decision was taken when the span
   * started (by the configured sampler), so it returns that decision and that trace state.
   */
  sampler(): Sampler {
    return {
      shouldSample: (): SamplingResult => {
        const sc = this.next;
        if (sc === undefined) return { decision: this.#d.NOT_RECORD };
        const decision = (sc.traceFlags & 1) === 1 ? this.#d.RECORD_AND_SAMPLED : this.#d.RECORD;
        return sc.traceState === undefined ? { decision } : { decision, traceState: sc.traceState };
      },
      toString: () => "PresetDecision",
    };
  }
}
