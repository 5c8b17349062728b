/**
 * The watch hub (DESIGN.md §5): keeps a bounded history of committed change events and fans
 * them out to watchers, which resume by log index and are cut off when they fall behind.
 */
import type { ChangeEvent, Value } from "../store/index.js";
import { InvariantError, StoreError, toValue, valuesEqual } from "../store/index.js";
import { DEFAULT_HISTORY_BOUNDS, History } from "./history.js";
import type { HistoryBounds } from "./history.js";
import type { EventFilter, WatchSource } from "./watcher.js";
import { Watcher } from "./watcher.js";
import { badOptionError, compactedError, hubClosedError } from "./errors.js";

/** Default per-watcher queue limit (events); a watcher may ask for less or more. */
export const DEFAULT_QUEUE_LIMIT = 10_000;
/** Default ceiling on the queue limit a watcher may ask for. */
export const DEFAULT_MAX_QUEUE_LIMIT = 100_000;

/** Hub options; every bound is in events or log indexes. */
export interface WatchHubOptions {
  /** History starts after this index (the snapshot index a node restored from); default 0. */
  readonly startIndex?: number;
  /** Most events retained for resumption (default 100,000). */
  readonly maxEvents?: number;
  /** Widest span of log indexes retained for resumption (default 1,000,000). */
  readonly maxEntries?: number;
  /** Queue limit of a watcher that names none (default 10,000 events, at most maxQueueLimit). */
  readonly defaultQueueLimit?: number;
  /** Largest queue limit a watcher may ask for (default 100,000 events). */
  readonly maxQueueLimit?: number;
}

/** What to watch and from where. */
export interface WatchOptions {
  /** Collections to watch; omitted or empty = all collections. */
  readonly collections?: readonly string[];
  /** Document ids to watch (within `collections`), any BSON value; omitted or empty = all ids. */
  readonly ids?: readonly unknown[];
  /**
   * Deliver events with `index > fromIndex` (the last index the client has seen, e.g. the applied
   * index a LOCAL read reported; etcd's `start_revision` is `fromIndex + 1`). Omitted = only events
   * published after this call. Older than `compactedIndex` (0 included) = COMPACTED error.
   */
  readonly fromIndex?: number;
  /** Aborting ends the iterator with the abort reason. */
  readonly signal?: AbortSignal;
  /** Most events queued for this watcher before it is cut off (SLOW_CONSUMER). */
  readonly queueLimit?: number;
}

/** Counters for `/metrics` and status. */
export interface WatchHubStats {
  readonly watchers: number;
  readonly historyEvents: number;
  readonly compactedIndex: number;
  readonly lastIndex: number;
  /** Events queued in every watcher, and in the fullest one (a slow consumer shows here). */
  readonly queued: number;
  readonly maxQueued: number;
}

interface Registration {
  readonly after: number;
  readonly collections: readonly string[] | undefined;
}

/**
 * Fans committed change events out to watchers. `publish` never blocks and never throws because
 * of a watcher: a watcher that falls behind is cut off. Not thread-safe (one event loop).
 */
export class WatchHub implements AsyncDisposable {
  readonly #history: History;
  readonly #defaultLimit: number;
  readonly #maxLimit: number;
  readonly #registered = new Map<Watcher, Registration>();
  /** Live watchers of every collection. */
  readonly #all = new Set<Watcher>();
  /** Live watchers by collection. */
  readonly #byCollection = new Map<string, Set<Watcher>>();
  /** Watchers still reading the history through a cursor. */
  readonly #replaying = new Set<Watcher>();
  #closed = false;
  readonly #source: WatchSource;

  /** A hub with an empty history after `startIndex`. Throws InvariantError on bad bounds. */
  constructor(options: WatchHubOptions = {}) {
    const bounds: HistoryBounds = {
      maxEvents: options.maxEvents ?? DEFAULT_HISTORY_BOUNDS.maxEvents,
      maxEntries: options.maxEntries ?? DEFAULT_HISTORY_BOUNDS.maxEntries,
    };
    this.#maxLimit = options.maxQueueLimit ?? DEFAULT_MAX_QUEUE_LIMIT;
    this.#defaultLimit = options.defaultQueueLimit ?? Math.min(DEFAULT_QUEUE_LIMIT, this.#maxLimit);
    const start = options.startIndex ?? 0;
    for (const [name, v] of Object.entries({ ...bounds, start, max: this.#maxLimit })) {
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new InvariantError(`create watch hub: ${name} must be a non-negative integer: ${v}`);
      }
    }
    if (this.#defaultLimit < 1 || this.#defaultLimit > this.#maxLimit) {
      throw new InvariantError(
        `create watch hub: defaultQueueLimit ${this.#defaultLimit} outside [1, ${this.#maxLimit}]`,
      );
    }
    this.#history = new History(start, bounds);
    this.#source = {
      history: this.#history,
      goLive: (w) => {
        this.#goLive(w);
      },
      detach: (w) => {
        this.#detach(w);
      },
    };
  }

  /** Every event at or below this index is gone: the smallest `fromIndex` accepted. */
  get compactedIndex(): number {
    return this.#history.compactedIndex;
  }

  /** The last published index. */
  get lastIndex(): number {
    return this.#history.lastIndex;
  }

  /** Number of open watchers. */
  get watcherCount(): number {
    return this.#registered.size;
  }

  /** Counters for metrics. */
  stats(): WatchHubStats {
    let queued = 0;
    let maxQueued = 0;
    for (const w of this.#registered.keys()) {
      queued += w.queued;
      maxQueued = Math.max(maxQueued, w.queued);
    }
    return {
      queued,
      maxQueued,
      watchers: this.#registered.size,
      historyEvents: this.#history.size,
      compactedIndex: this.#history.compactedIndex,
      lastIndex: this.#history.lastIndex,
    };
  }

  /**
   * Records applied entry `index` (call once per entry, in log order, even with no events) and
   * delivers its events. Throws InvariantError only for a caller bug (index not increasing).
   */
  publish(index: number, events: readonly ChangeEvent[]): void {
    if (this.#closed) return;
    this.#history.append(index, events);
    for (const e of events) {
      for (const w of this.#all) w.offer(e);
      const set = this.#byCollection.get(e.collection);
      if (set !== undefined) for (const w of set) w.offer(e);
    }
    this.#compact(this.#history.boundTarget());
  }

  /**
   * Drops the history at or below `index`. Watchers still replaying it keep what they need in
   * their queues. An index beyond `lastIndex` means a snapshot was installed: watchers that
   * would miss the skipped entries end with COMPACTED.
   */
  compactTo(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new InvariantError(`compact watch history to ${index}: not a non-negative integer`);
    }
    if (!this.#closed) this.#compact(index);
  }

  /**
   * Opens a watcher. Never throws: a bad option, a compacted `fromIndex` or a closed hub make the
   * iterator throw a WatchError on its first `next()`.
   * @example
   * for await (const e of hub.watch({ collections: ["units"], fromIndex: 41 })) console.log(e);
   */
  watch(options: WatchOptions = {}): Watcher {
    const parsed = this.#parse(options);
    const signal = options.signal;
    const h = this.#history;
    if (parsed instanceof Error || this.#closed) {
      const w = new Watcher({
        source: this.#source,
        filter: () => false,
        after: 0,
        queueLimit: 1,
        cursor: undefined,
        signal,
      });
      w.fail(parsed instanceof Error ? parsed : hubClosedError("watch"));
      return w;
    }
    const from = options.fromIndex;
    const after = from === undefined ? h.lastIndex : from;
    const replay = after < h.lastIndex;
    const w = new Watcher({
      source: this.#source,
      filter: parsed.filter,
      after,
      queueLimit: parsed.queueLimit,
      cursor: replay ? h.seqAfter(after) : undefined,
      signal,
    });
    if (from !== undefined && from < h.compactedIndex) {
      w.fail(compactedError(from, h.compactedIndex));
      return w;
    }
    this.#registered.set(w, { after, collections: parsed.collections });
    if (replay) this.#replaying.add(w);
    else this.#goLive(w);
    if (signal?.aborted === true) w.fail(signal.reason);
    return w;
  }

  /** Ends every watcher cleanly (each hands out what it has queued, then ends); idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of [...this.#registered.keys()]) w.drain();
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #parse(
    o: WatchOptions,
  ): { filter: EventFilter; queueLimit: number; collections: string[] | undefined } | Error {
    if (o.fromIndex !== undefined && (!Number.isSafeInteger(o.fromIndex) || o.fromIndex < 0)) {
      return badOptionError(`watch: fromIndex must be a non-negative integer: ${o.fromIndex}`);
    }
    const queueLimit = o.queueLimit ?? this.#defaultLimit;
    if (!Number.isSafeInteger(queueLimit) || queueLimit < 1 || queueLimit > this.#maxLimit) {
      return badOptionError(`watch: queueLimit ${queueLimit} outside [1, ${this.#maxLimit}]`);
    }
    const collections =
      o.collections === undefined || o.collections.length === 0
        ? undefined
        : [...new Set(o.collections)];
    for (const c of collections ?? []) {
      if (typeof c !== "string" || c === "") {
        return badOptionError(
          `watch: collection names must be non-empty strings: ${JSON.stringify(c)}`,
        );
      }
    }
    let ids: Value[] | undefined;
    try {
      ids =
        o.ids === undefined || o.ids.length === 0
          ? undefined
          : o.ids.map((v, i) => toValue(v, `ids[${i}]`, 0));
    } catch (e) {
      if (e instanceof StoreError) return badOptionError(`watch: ${e.message}`);
      throw e;
    }
    return { filter: makeFilter(collections, ids), queueLimit, collections };
  }

  #goLive(w: Watcher): void {
    const reg = this.#registered.get(w);
    if (reg === undefined) return;
    this.#replaying.delete(w);
    if (reg.collections === undefined) {
      this.#all.add(w);
      return;
    }
    for (const c of reg.collections) {
      let set = this.#byCollection.get(c);
      if (set === undefined) this.#byCollection.set(c, (set = new Set()));
      set.add(w);
    }
  }

  #detach(w: Watcher): void {
    const reg = this.#registered.get(w);
    if (reg === undefined) return;
    this.#registered.delete(w);
    this.#replaying.delete(w);
    this.#all.delete(w);
    for (const c of reg.collections ?? []) {
      const set = this.#byCollection.get(c);
      set?.delete(w);
      if (set?.size === 0) this.#byCollection.delete(c);
    }
  }

  #compact(target: number): void {
    const h = this.#history;
    if (target <= h.compactedIndex) return;
    const keep = h.seqAfter(target);
    for (const w of this.#replaying) w.rescue(keep);
    const oldLast = h.lastIndex;
    h.compactTo(target);
    if (target <= oldLast) return;
    // A snapshot jumped the log: entries (oldLast, target] were never published here.
    for (const [w, reg] of [...this.#registered]) {
      if (reg.after < target) w.fail(compactedError(w.resumeIndex, target));
    }
  }
}

/** The predicate for a collection set and an id list (ids compared as BSON values). */
function makeFilter(
  collections: readonly string[] | undefined,
  ids: readonly Value[] | undefined,
): EventFilter {
  const colls = collections === undefined ? undefined : new Set(collections);
  return (e) => {
    if (colls !== undefined && !colls.has(e.collection)) return false;
    return ids === undefined || ids.some((id) => valuesEqual(id, e.id));
  };
}
