/**
 * The retained change history: a bounded ring of events in log order, addressed by a sequence
 * number so that cursors stay valid while the oldest events are dropped.
 */
import type { ChangeEvent } from "../store/index.js";
import { InvariantError } from "../store/index.js";

/** Retention bounds of the history (whichever is hit first drops the oldest entries). */
export interface HistoryBounds {
  /** Most events retained. */
  readonly maxEvents: number;
  /** Widest span of log indexes retained (`lastIndex - compactedIndex`). */
  readonly maxEntries: number;
}

/** Default bounds: 100,000 events (a few tens of MB) and 1,000,000 log indexes. */
export const DEFAULT_HISTORY_BOUNDS: HistoryBounds = { maxEvents: 100_000, maxEntries: 1_000_000 };

/** The events of log indexes `(compactedIndex, lastIndex]`, oldest first. */
export class History {
  #buf: ChangeEvent[] = [];
  /** Position in `#buf` of the event whose sequence number is `#firstSeq`. */
  #head = 0;
  #firstSeq = 0;
  /** Invariant: every event with index <= #compacted is gone; #compacted <= #last. */
  #compacted: number;
  /** Invariant: the index of the last published entry; events are sorted by index. */
  #last: number;
  readonly #bounds: HistoryBounds;

  /** An empty history after `startIndex` (e.g. the snapshot a node restored from). */
  constructor(startIndex: number, bounds: HistoryBounds) {
    this.#compacted = startIndex;
    this.#last = startIndex;
    this.#bounds = bounds;
  }

  /** Every event with an index at or below this is gone. */
  get compactedIndex(): number {
    return this.#compacted;
  }

  /** The last published index. */
  get lastIndex(): number {
    return this.#last;
  }

  /** Sequence number of the oldest retained event. */
  get firstSeq(): number {
    return this.#firstSeq;
  }

  /** Sequence number the next appended event will get. */
  get nextSeq(): number {
    return this.#firstSeq + this.#buf.length - this.#head;
  }

  /** Number of retained events. */
  get size(): number {
    return this.#buf.length - this.#head;
  }

  /** The event with sequence number `seq`; callers keep `firstSeq <= seq < nextSeq`. */
  at(seq: number): ChangeEvent {
    const e = this.#buf[this.#head + seq - this.#firstSeq];
    if (e === undefined || seq < this.#firstSeq) {
      throw new InvariantError(
        `read history at seq ${seq}: outside [${this.#firstSeq}, ${this.nextSeq})`,
      );
    }
    return e;
  }

  /** Records entry `index` and its events; indexes must increase (the runtime applies in order). */
  append(index: number, events: readonly ChangeEvent[]): void {
    if (!Number.isSafeInteger(index) || index <= this.#last) {
      throw new InvariantError(`publish index ${index}: not after the last index ${this.#last}`);
    }
    for (const e of events) {
      if (e.index !== index) {
        throw new InvariantError(`publish index ${index}: carries an event of index ${e.index}`);
      }
      this.#buf.push(e);
    }
    this.#last = index;
  }

  /** The first sequence number whose event index is above `index` (binary search). */
  seqAfter(index: number): number {
    let lo = this.#head;
    let hi = this.#buf.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.#buf[mid];
      if (e !== undefined && e.index <= index) lo = mid + 1;
      else hi = mid;
    }
    return this.#firstSeq + lo - this.#head;
  }

  /** The index the bounds require compacting to, or `compactedIndex` when within bounds. */
  boundTarget(): number {
    let target = Math.max(this.#compacted, this.#last - this.#bounds.maxEntries);
    const excess = this.size - this.#bounds.maxEvents;
    if (excess > 0) {
      // Whole entries go: the newest event that must be dropped takes its entry with it.
      const e = this.at(this.#firstSeq + excess - 1);
      target = Math.max(target, e.index);
    }
    return target;
  }

  /**
   * Drops every event with index <= `index` and returns the first sequence number kept. An
   * index beyond `lastIndex` (a snapshot was installed) moves `lastIndex` there too.
   */
  compactTo(index: number): number {
    if (index <= this.#compacted) return this.#firstSeq;
    const keep = this.seqAfter(index);
    this.#head += keep - this.#firstSeq;
    this.#firstSeq = keep;
    this.#compacted = index;
    if (index > this.#last) this.#last = index;
    // Reclaim the dropped prefix once it dominates the array (amortised O(1) per event).
    if (this.#head > 1024 && this.#head * 2 > this.#buf.length) {
      this.#buf = this.#buf.slice(this.#head);
      this.#head = 0;
    }
    return keep;
  }
}
