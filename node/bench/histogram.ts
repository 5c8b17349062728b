/**
 * A small HDR-style latency histogram: values (microseconds, integers) fall into log buckets with
 * 64 sub-buckets per power of two, so a reported percentile is within 1/64 (1.6 %) of the exact
 * nearest-rank value and never below it. Constant memory, O(1) record, mergeable.
 */

const SUB = 64;
const SUB_BITS = 6;
const MAX_VALUE = 2 ** 32 - 1;

/** The bucket index of a non-negative integer value. */
export function bucketOf(v: number): number {
  if (v < 2 * SUB) return v;
  const e = 31 - Math.clz32(v) - SUB_BITS;
  return SUB * e + (v >>> e);
}

/** The largest value that falls into bucket `i`. */
export function bucketUpper(i: number): number {
  if (i < 2 * SUB) return i;
  const e = Math.floor(i / SUB) - 1;
  const m = i - SUB * e;
  return (m + 1) * 2 ** e - 1;
}

/** A latency histogram in microseconds. */
export class Histogram {
  #counts: number[] = [];
  #count = 0;
  #max = 0;
  #min = Number.POSITIVE_INFINITY;
  #sum = 0;

  /** Records one value in microseconds (rounded, clamped to 0 .. 2^32-1). */
  record(us: number): void {
    const v = Math.min(MAX_VALUE, Math.max(0, Math.round(us)));
    const i = bucketOf(v);
    for (let j = this.#counts.length; j <= i; j++) this.#counts.push(0);
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#count++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
    if (v < this.#min) this.#min = v;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.#count;
  }

  /** Largest recorded value (0 when empty). */
  get max(): number {
    return this.#max;
  }

  /** Mean of the recorded values (0 when empty). */
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /** The nearest-rank percentile `q` in [0, 1] (bucket upper bound, capped at the max). */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return Math.max(this.#min, Math.min(this.#max, bucketUpper(i)));
    }
    return this.#max;
  }

  /** Adds every value of `other` to this histogram. */
  merge(other: Histogram): void {
    const oc = other.#counts;
    for (let j = this.#counts.length; j < oc.length; j++) this.#counts.push(0);
    for (let i = 0; i < oc.length; i++) this.#counts[i] = (this.#counts[i] ?? 0) + (oc[i] ?? 0);
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#max = Math.max(this.#max, other.#max);
    this.#min = Math.min(this.#min, other.#min);
  }

  /** Non-empty buckets as [upper bound µs, count] pairs, for charts and JSON. */
  buckets(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.#counts.length; i++) {
      const c = this.#counts[i] ?? 0;
      if (c > 0) out.push([bucketUpper(i), c]);
    }
    return out;
  }
}
