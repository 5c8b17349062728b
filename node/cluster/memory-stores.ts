import {
  MemoryStorage,
  type Entry,
  type Index,
  type InitialState,
  type Snapshot,
  type SnapshotMetadata,
  type Term,
} from "../raft/index.js";
import { ClusterError } from "./errors.js";
import type { LogStore, LogUpdate, SnapshotStore } from "./ports.js";
import { Code } from "@connectrpc/connect";

/**
 * A {@link LogStore} in memory: for tests and for `--in-memory` nodes, which lose everything on
 * exit. Writes are "durable" as soon as `save` resolves.
 */
export class MemoryLogStore implements LogStore {
  readonly #m = new MemoryStorage();

  initialState(): InitialState {
    return this.#m.initialState();
  }

  entries(lo: Index, hi: Index, maxSize: number): readonly Entry[] {
    return this.#m.entries(lo, hi, maxSize);
  }

  term(index: Index): Term {
    return this.#m.term(index);
  }

  firstIndex(): Index {
    return this.#m.firstIndex();
  }

  lastIndex(): Index {
    return this.#m.lastIndex();
  }

  snapshot(): Snapshot {
    return this.#m.snapshot();
  }

  /** Applies one Ready's update. */
  save(update: LogUpdate): Promise<void> {
    if (update.snapshot !== undefined) {
      this.#m.applySnapshot({ metadata: update.snapshot, data: new Uint8Array(0) });
    }
    this.#m.append(update.entries);
    if (update.hardState !== undefined) this.#m.setHardState(update.hardState);
    return Promise.resolve();
  }

  /** Records a local snapshot. */
  markSnapshot(meta: SnapshotMetadata): Promise<void> {
    this.#m.createSnapshot(meta.index, meta.confState, new Uint8Array(0));
    return Promise.resolve();
  }

  /** Drops entries up to `index`. */
  compact(index: Index): Promise<void> {
    this.#m.compact(index);
    return Promise.resolve();
  }
}

/** A {@link SnapshotStore} in memory. */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #snaps = new Map<Index, { meta: SnapshotMetadata; data: Uint8Array[] }>();
  #latest: SnapshotMetadata | undefined;

  /** Stores a snapshot's data. */
  async save(
    meta: SnapshotMetadata,
    data: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<void> {
    const chunks: Uint8Array[] = [];
    for await (const c of data) chunks.push(c);
    this.#snaps.set(meta.index, { meta, data: chunks });
    if (this.#latest === undefined || meta.index > this.#latest.index) this.#latest = meta;
    for (const i of [...this.#snaps.keys()])
      if (i < meta.index - 0 && this.#snaps.size > 2) this.#snaps.delete(i);
  }

  /** Streams a stored snapshot. */
  async *load(index: Index): AsyncIterable<Uint8Array> {
    await Promise.resolve();
    const s = this.#snaps.get(index);
    if (s === undefined)
      throw new ClusterError(Code.NotFound, "NO_SNAPSHOT", `load snapshot ${index}: not stored`);
    yield* s.data;
  }

  /** The newest snapshot. */
  latest(): SnapshotMetadata | undefined {
    return this.#latest;
  }
}
