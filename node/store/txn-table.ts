/**
 * The idempotency table (issue 3): transaction ids oldest first, with a hash index. It replaced
 * a `Map` of 100,000 ids that every transaction probed, extended and pruned: V8's table for that
 * churn grew to ~7 MB and each of the three operations missed the cache (~1.4 µs a transaction).
 * Here the index is a typed array (a probe compares 32-bit hashes and touches a string only on
 * a hash match), records sit in a queue, and pruning drops the queue's front.
 */
import type { RecordedOutcome, TxnRecord } from "./state.js";

/**
 * What the queue holds per id: an applied outcome as its revnos array alone (a one-op
 * transaction's revno as the number itself: no array to keep), anything else as the outcome.
 * With the log index in a number array, recording an applied transaction keeps no object of
 * its own (fewer objects per transaction to promote and later collect).
 */
type Stored = number | readonly (number | null)[] | RecordedOutcome;

function outcomeOf(s: Stored): RecordedOutcome {
  if (typeof s === "number") return { outcome: "applied", revnos: [s] };
  return isRevnos(s) ? { outcome: "applied", revnos: s } : s;
}

function storedRevnos(revnos: readonly (number | null)[]): Stored {
  const only = revnos.length === 1 ? revnos[0] : null;
  return typeof only === "number" ? only : revnos;
}

function isRevnos(s: Stored): s is readonly (number | null)[] {
  return Array.isArray(s);
}

/** Probe runs longer than this mean crafted colliding ids: switch to V8's seeded `Map`. */
const MAX_PROBE = 64;
const MIN_CAPACITY = 1024;

/** FNV-1a over UTF-16 code units, with a final avalanche so low bits (the slot) mix well. */
export function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 13)) | 0;
}

/** Slots hold sequence numbers modulo this, plus one: unambiguous while fewer ids are live. */
const SEQ_MOD = 2 ** 30;

/** Transaction ids and their recorded outcomes, oldest first. */
export class TxnTable {
  #ids: string[] = [];
  #outs: Stored[] = [];
  #indexes: number[] = [];
  #hashes: number[] = [];
  #head = 0;
  /** Sequence number of `#ids[0]` (sequence numbers never repeat). */
  #base = 0;
  /**
   * Per slot, two adjacent int32s (one cache line serves a probe): the entry (0 empty, else 1 +
   * its sequence number modulo SEQ_MOD; a forgotten entry's slot counts as deleted), then the
   * id's hash.
   */
  #table = new Int32Array(2 * MIN_CAPACITY);
  /** Slots not empty (live or forgotten). */
  #used = 0;
  /** Set once probing degenerated (see MAX_PROBE); then it is the whole index. */
  #map: Map<string, number> | null = null;
  /** The last id hashed: `get` then `add` of a new id hash it once. */
  #lastId = "";
  #lastHash = hashOf("");

  /** Number of ids remembered. */
  get size(): number {
    return this.#ids.length - this.#head;
  }

  /** The record of `id`, or undefined. */
  get(id: string): TxnRecord | undefined {
    const pos = this.#find(id);
    return pos < 0 ? undefined : this.#record(pos);
  }

  /** True when `id` is remembered. */
  has(id: string): boolean {
    return this.#find(id) >= 0;
  }

  /** Remembers a new id (the caller checked it is absent) as the newest entry. */
  add(id: string, rec: TxnRecord): void {
    const r = rec.result;
    this.#push(id, rec.index, r.outcome === "applied" ? storedRevnos(r.revnos) : r);
  }

  /** {@link add} of an applied outcome, without building its record. */
  addApplied(id: string, index: number, revnos: readonly (number | null)[]): void {
    this.#push(id, index, storedRevnos(revnos));
  }

  #record(pos: number): TxnRecord {
    return { index: this.#indexes[pos] ?? 0, result: outcomeOf(this.#outs[pos] as Stored) };
  }

  #push(id: string, index: number, out: Stored): void {
    const h = this.#hash(id);
    if (this.#map === null && (this.#used + 1) * 2 > this.#table.length >> 1) this.#rehash();
    const seq = this.#base + this.#ids.length;
    this.#ids.push(id);
    this.#outs.push(out);
    this.#indexes.push(index);
    this.#hashes.push(h);
    if (this.#map !== null) {
      this.#map.set(id, seq);
      return;
    }
    const mask = (this.#table.length >> 1) - 1;
    let i = h & mask;
    for (let n = 0; ; n++) {
      const s = this.#table[2 * i] ?? 0;
      if (s === 0 || !this.#live(s)) break; // empty, or a forgotten id's slot: reused
      if (n > MAX_PROBE) {
        this.#degrade();
        return;
      }
      i = (i + 1) & mask;
    }
    if (this.#table[2 * i] === 0) this.#used++;
    this.#table[2 * i] = (seq % SEQ_MOD) + 1;
    this.#table[2 * i + 1] = h;
  }

  /** The log index of the oldest entry, or undefined when empty. */
  oldestIndex(): number | undefined {
    return this.#indexes[this.#head];
  }

  /** Forgets the oldest entry. */
  dropOldest(): void {
    if (this.size === 0) return;
    // The index keeps the slot: an entry before the head reads as deleted (see #live), so
    // forgetting an id costs no probe (a cache miss per transaction); #rehash drops such slots.
    if (this.#map !== null) this.#map.delete(this.#ids[this.#head] ?? "");
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#ids.length) {
      this.#ids = this.#ids.slice(this.#head);
      this.#outs = this.#outs.slice(this.#head);
      this.#indexes = this.#indexes.slice(this.#head);
      this.#hashes = this.#hashes.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
  }

  /** The entries oldest first, copied (a snapshot's view must not see later applies). */
  entries(): [string, TxnRecord][] {
    const out: [string, TxnRecord][] = [];
    for (let i = this.#head; i < this.#ids.length; i++)
      out.push([this.#ids[i] ?? "", this.#record(i)]);
    return out;
  }

  #hash(id: string): number {
    if (id !== this.#lastId) {
      this.#lastId = id;
      this.#lastHash = hashOf(id);
    }
    return this.#lastHash;
  }

  /**
   * True when the entry a slot holds (`s`: 1 + its sequence number modulo SEQ_MOD) is still
   * remembered. A forgotten entry's slot is at most a rehash interval old (fewer than SEQ_MOD
   * pushes), so its position never wraps into the live range.
   */
  #live(s: number): boolean {
    const pos = (s - 1 - (this.#base % SEQ_MOD) + SEQ_MOD) % SEQ_MOD;
    return pos >= this.#head && pos < this.#ids.length;
  }

  /** Position of `id` in the queue arrays, or -1. */
  #find(id: string): number {
    if (this.#map !== null) {
      const seq = this.#map.get(id);
      return seq === undefined ? -1 : seq - this.#base;
    }
    const h = this.#hash(id);
    const mask = (this.#table.length >> 1) - 1;
    const base = this.#base % SEQ_MOD;
    let i = h & mask;
    for (let n = 0; ; n++) {
      const s = this.#table[2 * i] ?? 0;
      if (s === 0) return -1;
      if (this.#table[2 * i + 1] === h) {
        const pos = (s - 1 - base + SEQ_MOD) % SEQ_MOD;
        if (pos >= this.#head && pos < this.#ids.length && this.#ids[pos] === id) return pos;
      }
      if (n > MAX_PROBE) {
        this.#degrade();
        return this.#find(id);
      }
      i = (i + 1) & mask;
    }
  }

  /** Rebuilds the index at most a quarter full (forgotten entries' slots are dropped). */
  #rehash(): void {
    let cap = MIN_CAPACITY;
    while (cap < (this.size + 1) * 4) cap *= 2;
    this.#table = new Int32Array(2 * cap);
    this.#used = 0;
    const mask = cap - 1;
    for (let k = this.#head; k < this.#ids.length; k++) {
      const h = this.#hashes[k] ?? 0;
      let i = h & mask;
      while (this.#table[2 * i] !== 0) i = (i + 1) & mask;
      this.#table[2 * i] = ((this.#base + k) % SEQ_MOD) + 1;
      this.#table[2 * i + 1] = h;
      this.#used++;
    }
  }

  /** Moves the index to a `Map` (V8's hash is seeded per process, so it cannot be flooded). */
  #degrade(): void {
    const map = new Map<string, number>();
    for (let k = this.#head; k < this.#ids.length; k++) map.set(this.#ids[k] ?? "", this.#base + k);
    this.#map = map;
    this.#table = new Int32Array(0);
  }
}
