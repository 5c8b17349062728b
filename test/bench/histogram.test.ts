import fc from "fast-check";
import { Histogram, bucketOf, bucketUpper } from "../../node/bench/histogram.js";

/** Nearest-rank percentile of a sorted array. */
function naive(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] ?? 0;
}

const QS = [0, 0.01, 0.5, 0.9, 0.99, 0.999, 1];

describe("Histogram", () => {
  test("each value lies in its bucket, and buckets tile the integers", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => {
        const i = bucketOf(v);
        expect(bucketUpper(i)).toBeGreaterThanOrEqual(v);
        expect(i === 0 || bucketUpper(i - 1) < v).toBe(true);
      }),
    );
  });

  test("percentiles are within 1/64 above the naive nearest-rank value", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50_000_000 }), { minLength: 1, maxLength: 500 }),
        (values) => {
          const h = new Histogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          for (const q of QS) {
            const exact = naive(sorted, q);
            const got = h.percentile(q);
            expect(got).toBeGreaterThanOrEqual(exact);
            expect(got).toBeLessThanOrEqual(exact + exact / 64 + 1);
          }
          expect(h.max).toBe(sorted[sorted.length - 1]);
          expect(h.count).toBe(values.length);
        },
      ),
    );
  });

  test("merge equals recording everything into one histogram", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000_000 })),
        fc.array(fc.integer({ min: 0, max: 1_000_000 })),
        (a, b) => {
          const ha = new Histogram();
          const hb = new Histogram();
          const all = new Histogram();
          for (const v of a) {
            ha.record(v);
            all.record(v);
          }
          for (const v of b) {
            hb.record(v);
            all.record(v);
          }
          ha.merge(hb);
          expect(ha.buckets()).toEqual(all.buckets());
          for (const q of QS) expect(ha.percentile(q)).toBe(all.percentile(q));
          expect(ha.max).toBe(all.max);
        },
      ),
    );
  });

  test("an empty histogram reports zeros", () => {
    const h = new Histogram();
    expect(h.percentile(0.99)).toBe(0);
    expect(h.max).toBe(0);
    expect(h.mean).toBe(0);
  });
});
