import { entrySize, emptyConfState, emptyHardState } from "./entry.js";
import { sliceLogArray, termInLogArray } from "./log-array.js";
import { RaftError, RaftErrorCode, invariant } from "./errors.js";
import type { ConfState, Entry, HardState, Index, Snapshot, Term } from "./types.js";

/** What a node recovers at startup. */
export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

/**
 * The stable log as the core sees it: read-only (the application writes through its own API
 * while handling a Ready). Expected failures throw {@link RaftError} with `COMPACTED`,
 * `UNAVAILABLE` or `SNAPSHOT_TEMPORARILY_UNAVAILABLE`; any other error is fatal for the node.
 */
export interface Storage {
  /** Returns the persisted hard state and configuration. */
  initialState(): InitialState;
  /**
   * Returns entries in [lo, hi), limited to `maxSize` bytes but at least one entry.
   * Throws COMPACTED if lo <= the snapshot index, UNAVAILABLE if hi > lastIndex + 1.
   */
  entries(lo: Index, hi: Index, maxSize: number): readonly Entry[];
  /** Returns the term of entry `index`; valid for [firstIndex - 1, lastIndex]. */
  term(index: Index): Term;
  /** Returns the index of the first entry that may be read (snapshot index + 1). */
  firstIndex(): Index;
  /** Returns the index of the last stored entry (the snapshot index if there is none). */
  lastIndex(): Index;
  /** Returns the latest snapshot (SNAPSHOT_TEMPORARILY_UNAVAILABLE while one is being made). */
  snapshot(): Snapshot;
}

const emptySnapshot: Snapshot = {
  metadata: { index: 0, term: 0, confState: emptyConfState },
  data: new Uint8Array(0),
};

/**
 * An in-memory {@link Storage}: the reference implementation and the test fixture.
 * Invariant: `#ents[0]` is a dummy entry at the snapshot's index and term.
 */
export class MemoryStorage implements Storage {
  #hardState: HardState = emptyHardState;
  #snapshot: Snapshot = emptySnapshot;
  #ents: Entry[] = [{ type: "normal", term: 0, index: 0, data: new Uint8Array(0) }];

  /** Creates a storage; `confState` seeds the configuration of a brand-new node. */
  constructor(confState: ConfState = emptyConfState) {
    this.#snapshot = { ...emptySnapshot, metadata: { ...emptySnapshot.metadata, confState } };
  }

  initialState(): InitialState {
    return { hardState: this.#hardState, confState: this.#snapshot.metadata.confState };
  }

  /** Persists the hard state. */
  setHardState(hs: HardState): void {
    this.#hardState = hs;
  }

  /** Returns the persisted hard state. */
  hardState(): HardState {
    return this.#hardState;
  }

  entries(lo: Index, hi: Index, maxSize: number): readonly Entry[] {
    return sliceLogArray(this.#ents, lo, hi, maxSize);
  }

  term(index: Index): Term {
    return termInLogArray(this.#ents, index);
  }

  firstIndex(): Index {
    return this.#offset() + 1;
  }

  lastIndex(): Index {
    return this.#offset() + this.#ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Replaces the whole contents with `snap`; an older snapshot throws SNAP_OUT_OF_DATE. */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index <= this.#snapshot.metadata.index && this.#snapshot.metadata.index > 0) {
      throw new RaftError(
        RaftErrorCode.SnapOutOfDate,
        `cannot apply snapshot at ${snap.metadata.index}: have one at ${this.#snapshot.metadata.index}`,
      );
    }
    this.#snapshot = snap;
    this.#ents = [
      {
        type: "normal",
        term: snap.metadata.term,
        index: snap.metadata.index,
        data: new Uint8Array(0),
      },
    ];
  }

  /**
   * Records a snapshot of the state machine at `index` (which must be applied) and returns it.
   * The log is not compacted; call {@link compact} for that.
   */
  createSnapshot(index: Index, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.#snapshot.metadata.index) {
      throw new RaftError(
        RaftErrorCode.SnapOutOfDate,
        `cannot create snapshot at ${index}: have one at ${this.#snapshot.metadata.index}`,
      );
    }
    invariant(
      index <= this.lastIndex(),
      () => `snapshot ${index} is beyond last index ${this.lastIndex()}`,
    );
    const term = this.term(index);
    this.#snapshot = { metadata: { index, term, confState }, data };
    return this.#snapshot;
  }

  /** Discards entries up to and including `index` (which must be covered by a snapshot). */
  compact(index: Index): void {
    const offset = this.#offset();
    if (index <= offset) return;
    invariant(
      index <= this.lastIndex(),
      () => `compact ${index} is beyond last index ${this.lastIndex()}`,
    );
    const dummy = this.#ents[index - offset] as Entry;
    this.#ents = [
      { type: "normal", term: dummy.term, index, data: new Uint8Array(0) },
      ...this.#ents.slice(index - offset + 1),
    ];
  }

  /**
   * Appends `entries`, truncating any conflicting tail first. Entries at or below the snapshot
   * index are ignored. The entries must be contiguous and must not leave a gap.
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const offset = this.#offset();
    const lastNew = first.index + entries.length - 1;
    if (lastNew <= offset) return;
    const kept = first.index <= offset ? entries.slice(offset + 1 - first.index) : entries;
    const start = (kept[0] as Entry).index;
    invariant(
      start <= this.lastIndex() + 1,
      () => `missing log entries: last index ${this.lastIndex()}, appended at ${start}`,
    );
    if (start === this.lastIndex() + 1) {
      // The common case: a plain append, no conflicting tail to truncate.
      for (const e of kept) this.#ents.push(e);
    } else {
      this.#ents = this.#ents.slice(0, start - offset).concat(kept);
    }
  }

  /** Returns the total size in bytes of the stored entries (for tests and metrics). */
  sizeBytes(): number {
    let size = 0;
    for (const e of this.#ents) size += entrySize(e);
    return size;
  }

  #offset(): Index {
    return (this.#ents[0] as Entry).index;
  }
}
