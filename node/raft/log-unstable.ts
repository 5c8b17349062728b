import { invariant } from "./errors.js";
import type { Entry, Index, Snapshot, Term } from "./types.js";

/**
 * Entries and a snapshot not yet persisted by the application.
 * Invariant: `entries[i].index === offset + i`; a snapshot, if any, is at `offset - 1`.
 */
export class UnstableLog {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];
  offset: Index;

  /** Creates an empty unstable log whose first entry would be `offset`. */
  constructor(offset: Index) {
    this.offset = offset;
  }

  /** Returns the first index if a snapshot is pending, else undefined. */
  maybeFirstIndex(): Index | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  /** Returns the last index of unstable entries or of the pending snapshot, else undefined. */
  maybeLastIndex(): Index | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.metadata.index;
  }

  /** Returns the term of `index` if the unstable part knows it. */
  maybeTerm(index: Index): Term | undefined {
    if (index < this.offset) {
      if (this.snapshot?.metadata.index === index) return this.snapshot.metadata.term;
      return undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  /**
   * Marks entries up to `index` (of term `term`) as persisted. Returns false, changing nothing,
   * if that entry was replaced meanwhile.
   */
  stableTo(index: Index, term: Term): boolean {
    const t = this.maybeTerm(index);
    if (t === undefined || t !== term || index < this.offset) return false;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    return true;
  }

  /** Marks the snapshot at `index` as persisted. */
  stableSnapTo(index: Index): void {
    if (this.snapshot?.metadata.index === index) this.snapshot = undefined;
  }

  /** Replaces everything with a snapshot. */
  restore(snap: Snapshot): void {
    this.offset = snap.metadata.index + 1;
    this.entries = [];
    this.snapshot = snap;
  }

  /** Appends `ents`, replacing any conflicting suffix (Raft paper §5.3). */
  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // Replace the whole unstable part (the stable log is truncated when it is persisted).
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
    }
  }

  /** Returns unstable entries in [lo, hi). */
  slice(lo: Index, hi: Index): Entry[] {
    invariant(
      lo >= this.offset && hi <= this.offset + this.entries.length && lo <= hi,
      () =>
        `unstable slice [${lo}, ${hi}) out of bounds [${this.offset}, ${this.offset + this.entries.length})`,
    );
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
