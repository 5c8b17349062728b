import type { ConfState, Entry, HardState } from "./types.js";

/** Fixed per-entry overhead counted by size limits (index, term, type tag). */
const entryOverhead = 24;

/** Returns the approximate encoded size of `entry` in bytes, used by every size limit. */
export function entrySize(entry: Entry): number {
  if (entry.type === "normal") return entryOverhead + entry.data.length;
  return entryOverhead + entry.change.context.length + 16 * entry.change.changes.length;
}

/** Returns the total size of `entries` in bytes (see {@link entrySize}). */
export function entriesSize(entries: readonly Entry[]): number {
  let size = 0;
  for (const e of entries) size += entrySize(e);
  return size;
}

/**
 * Returns the longest prefix of `entries` whose size stays within `maxSize`, always keeping at
 * least one entry so that progress is possible (etcd's limitSize).
 */
export function limitSize(entries: readonly Entry[], maxSize: number): readonly Entry[] {
  if (entries.length === 0) return entries;
  let size = entrySize(entries[0] as Entry);
  let n = 1;
  for (; n < entries.length; n++) {
    size += entrySize(entries[n] as Entry);
    if (size > maxSize) break;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}

/** The hard state of a node that has never voted or learned a term. */
export const emptyHardState: HardState = { term: 0, vote: 0n, commit: 0 };

/** Returns whether `hs` is the empty hard state. */
export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === 0n && hs.commit === 0;
}

/** Returns whether two hard states are equal. */
export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** The configuration of a node that knows no members yet. */
export const emptyConfState: ConfState = {
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

/** Returns a short human description of an entry for logs and test output. */
export function describeEntry(e: Entry): string {
  if (e.type === "normal") return `${e.term}/${e.index} normal(${e.data.length}B)`;
  const changes = e.change.changes.map((c) => `${c.type}:${c.nodeId}`).join(",");
  return `${e.term}/${e.index} confChange[${e.change.transition}](${changes || "leave"})`;
}
