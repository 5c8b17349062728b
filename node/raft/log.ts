import { limitSize } from "./entry.js";
import { InvariantError, RaftError, RaftErrorCode, invariant, isRaftError } from "./errors.js";
import { UnstableLog } from "./log-unstable.js";
import type { Storage } from "./storage.js";
import type { Entry, Index, Snapshot, Term } from "./types.js";

/**
 * The log as one node sees it: the persisted `storage` plus an `unstable` tail.
 * Invariants: applied <= committed <= lastIndex(); firstIndex() - 1 <= applied.
 */
export class RaftLog {
  readonly storage: Storage;
  readonly unstable: UnstableLog;
  /** The highest index known to be committed (Raft paper Figure 2, commitIndex). */
  committed: Index;
  /** The highest index handed to the application to apply (Figure 2, lastApplied). */
  applied: Index;

  /** Creates a log over `storage`, recovering its bounds. */
  constructor(storage: Storage) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new UnstableLog(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  /** Returns the first index still in the log. */
  firstIndex(): Index {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  /** Returns the last index in the log. */
  lastIndex(): Index {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Returns the term of the last entry. */
  lastTerm(): Term {
    return this.term(this.lastIndex());
  }

  /**
   * Returns the term of entry `index`. Throws COMPACTED below the log or UNAVAILABLE past its
   * end; the dummy entry at firstIndex() - 1 has a term.
   */
  term(index: Index): Term {
    const dummy = this.firstIndex() - 1;
    if (index < dummy) {
      throw new RaftError(
        RaftErrorCode.Compacted,
        `cannot read term ${index}: log starts at ${dummy + 1}`,
      );
    }
    if (index > this.lastIndex()) {
      throw new RaftError(
        RaftErrorCode.Unavailable,
        `cannot read term ${index}: last index is ${this.lastIndex()}`,
      );
    }
    return this.unstable.maybeTerm(index) ?? this.storage.term(index);
  }

  /** Returns the term of `index`, or 0 if it was compacted or is beyond the log. */
  zeroTermOnOutOfBounds(index: Index): Term {
    try {
      return this.term(index);
    } catch (err) {
      if (isRaftError(err, RaftErrorCode.Compacted) || isRaftError(err, RaftErrorCode.Unavailable))
        return 0;
      throw err;
    }
  }

  /** Returns whether entry `index` exists with term `term`. */
  matchTerm(index: Index, term: Term): boolean {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return false;
    return this.zeroTermOnOutOfBounds(index) === term;
  }

  /**
   * Appends `ents` following the entry (index, logTerm) if it matches, and advances commit to
   * min(committed, last new index). Returns the last new index, or undefined on mismatch
   * (Raft paper §5.3, AppendEntries receiver rules 2–5).
   */
  maybeAppend(
    index: Index,
    logTerm: Term,
    committed: Index,
    ents: readonly Entry[],
  ): Index | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new InvariantError(
          `entry ${conflict} conflicts with committed entry (committed ${this.committed})`,
        );
      }
      this.append(ents.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Appends entries (possibly overwriting an uncommitted suffix); returns the last index. */
  append(ents: readonly Entry[]): Index {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    invariant(
      first.index - 1 >= this.committed,
      () => `cannot overwrite committed entry ${first.index}`,
    );
    invariant(
      first.index <= this.lastIndex() + 1,
      () => `append at ${first.index} leaves a gap after ${this.lastIndex()}`,
    );
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Returns the index of the first entry of `ents` that conflicts with (or extends) the log,
   * or 0 if all of them are already present.
   */
  findConflict(ents: readonly Entry[]): Index {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Returns the last index <= `index` whose term is <= `term`, and that term (thesis §5.3 fast
   * log backtracking, etcd's findConflictByTerm). Entries below the log answer (index, 0).
   */
  findConflictByTerm(index: Index, term: Term): [Index, Term] {
    let i = index;
    for (; i >= this.firstIndex() - 1; i--) {
      let t: Term;
      try {
        t = this.term(i);
      } catch (err) {
        if (isRaftError(err)) return [i, 0];
        throw err;
      }
      if (t <= term) return [i, t];
    }
    return [i, 0];
  }

  /** Returns entries not yet persisted. */
  unstableEntries(): readonly Entry[] {
    return this.unstable.entries;
  }

  /** Returns whether committed entries are waiting to be applied. */
  hasNextCommittedEntries(): boolean {
    return this.committed > this.applied && this.unstable.snapshot === undefined;
  }

  /** Returns the committed entries after `applied`, up to `maxSize` bytes (at least one). */
  nextCommittedEntries(maxSize: number): readonly Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    return this.slice(Math.max(this.applied + 1, this.firstIndex()), this.committed + 1, maxSize);
  }

  /** Returns entries from `lo` to the end, up to `maxSize` bytes. Throws COMPACTED below the log. */
  entries(lo: Index, maxSize: number): readonly Entry[] {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, maxSize);
  }

  /** Returns entries in [lo, hi) limited to `maxSize` bytes (at least one). */
  slice(lo: Index, hi: Index, maxSize: number): readonly Entry[] {
    invariant(lo <= hi, () => `invalid slice ${lo} > ${hi}`);
    if (lo === hi) return [];
    const first = this.firstIndex();
    if (lo < first) {
      throw new RaftError(
        RaftErrorCode.Compacted,
        `cannot read entry ${lo}: log starts at ${first}`,
      );
    }
    invariant(
      hi <= this.lastIndex() + 1,
      () => `slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`,
    );
    const uOffset = this.unstable.offset;
    let out: readonly Entry[] = [];
    if (lo < uOffset) {
      out = this.storage.entries(lo, Math.min(hi, uOffset), maxSize);
      // Storage returned fewer entries than asked: the size limit was hit.
      if (out.length < Math.min(hi, uOffset) - lo) return out;
    }
    if (hi > uOffset) {
      const u = this.unstable.slice(Math.max(lo, uOffset), hi);
      out = out.length > 0 ? out.concat(u) : u;
    }
    return limitSize(out, maxSize);
  }

  /** Returns the snapshot to send or restore from: the pending one or the storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /**
   * Commits up to `maxIndex` if that entry is from `term` (Raft paper §5.4.2: only entries of
   * the leader's current term are committed by counting). Returns whether commit advanced.
   */
  maybeCommit(maxIndex: Index, term: Term): boolean {
    if (maxIndex > this.committed && this.zeroTermOnOutOfBounds(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Advances commit to `index` (never backwards). */
  commitTo(index: Index): void {
    if (index <= this.committed) return;
    invariant(
      index <= this.lastIndex(),
      () =>
        `commit ${index} is out of range [last index ${this.lastIndex()}]; was the log corrupted, truncated or lost?`,
    );
    this.committed = index;
  }

  /** Records that entries up to `index` were handed to the application. */
  appliedTo(index: Index): void {
    if (index === 0) return;
    invariant(
      index <= this.committed && index >= this.applied,
      () =>
        `applied ${index} is out of range [prev applied ${this.applied}, committed ${this.committed}]`,
    );
    this.applied = index;
  }

  /** Records that entries up to (index, term) are persisted; false if they were replaced. */
  stableTo(index: Index, term: Term): boolean {
    return this.unstable.stableTo(index, term);
  }

  /** Records that the snapshot at `index` is persisted. */
  stableSnapTo(index: Index): void {
    this.unstable.stableSnapTo(index);
  }

  /**
   * Returns the last index that is both persisted and part of this log (the leader counts its
   * own acknowledgment only up to here).
   */
  persistedLastIndex(): Index {
    if (this.unstable.snapshot !== undefined) return 0;
    return Math.min(this.storage.lastIndex(), this.unstable.offset - 1);
  }

  /** Returns whether a log ending at (lastIndex, lastTerm) is at least as up-to-date (§5.4.1). */
  isUpToDate(lastIndex: Index, lastTerm: Term): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Replaces the log with a snapshot; commit jumps to its index. */
  restore(snap: Snapshot): void {
    this.committed = snap.metadata.index;
    this.unstable.restore(snap);
  }
}
