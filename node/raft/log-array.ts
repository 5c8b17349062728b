import { limitSize } from "./entry.js";
import { RaftError, RaftErrorCode } from "./errors.js";
import type { Entry, Index, Term } from "./types.js";

/**
 * Reads of a stored log kept as an array whose element 0 is a dummy entry at the snapshot's
 * index and term (the layout of MemoryStorage and of RocksStorage's in-memory mirror).
 */

/** Returns entries [lo, hi) limited to `maxSize` bytes; throws COMPACTED or UNAVAILABLE. */
export function sliceLogArray(
  ents: readonly Entry[],
  lo: Index,
  hi: Index,
  maxSize: number,
): readonly Entry[] {
  const offset = (ents[0] as Entry).index;
  if (lo <= offset) {
    throw new RaftError(
      RaftErrorCode.Compacted,
      `cannot read entry ${lo}: compacted up to ${offset}`,
    );
  }
  const last = offset + ents.length - 1;
  if (hi > last + 1) {
    throw new RaftError(
      RaftErrorCode.Unavailable,
      `cannot read entries up to ${hi - 1}: last index is ${last}`,
    );
  }
  return limitSize(ents.slice(lo - offset, hi - offset), maxSize);
}

/** Returns the term of entry `index` (the dummy's included); throws COMPACTED or UNAVAILABLE. */
export function termInLogArray(ents: readonly Entry[], index: Index): Term {
  const offset = (ents[0] as Entry).index;
  if (index < offset) {
    throw new RaftError(
      RaftErrorCode.Compacted,
      `cannot read term ${index}: compacted up to ${offset}`,
    );
  }
  const e = ents[index - offset];
  if (e === undefined) {
    throw new RaftError(
      RaftErrorCode.Unavailable,
      `cannot read term ${index}: last index is ${offset + ents.length - 1}`,
    );
  }
  return e.term;
}
