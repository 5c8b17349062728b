/**
 * The document store: the state machine every node runs (issue 3). Pure and synchronous: the
 * caller feeds committed entries in log order and reads in between.
 */
import type { ChangeEvent, EncodedTxnEntry, TxnEntry, TxnResult } from "./apply.js";
import { applyEntry } from "./apply.js";
import { idKey } from "./id-key.js";
import { toValue } from "./normalize.js";
import type { FindOptions } from "./reads.js";
import { filterOf, findIn } from "./reads.js";
import type { IdempotencyBounds, ResolvedOptions, StoreState, TombstoneBounds } from "./state.js";
import { DEFAULT_IDEMPOTENCY, DEFAULT_TOMBSTONES, emptyState } from "./state.js";
import type { TxnMode } from "./txn-engine.js";
import type { Doc } from "./values.js";
import { badInput } from "./errors.js";
import { snapshotChunks } from "./snapshot.js";
import { applyImport, type ImportEntry, type ImportResult } from "./import.js";

/** Construction options (all replicas of a cluster must use the same ones; they are in the snapshot). */
export interface StoreOptions {
  /** `client` (mgo/txn, default) or `server` (sstxn) semantics, fixed for the cluster's life. */
  readonly mode?: TxnMode;
  /** Tombstone retention (defaults: {@link DEFAULT_TOMBSTONES}). */
  readonly tombstones?: Partial<TombstoneBounds>;
  /** Idempotency-table bounds (defaults: {@link DEFAULT_IDEMPOTENCY}). */
  readonly idempotency?: Partial<IdempotencyBounds>;
  /** Emit change events for skipped ops (default true, as Juju 2.x's txns.log, SPEC §9.4). */
  readonly emitSkipped?: boolean;
}

/** Counts of what the store holds. */
export interface StoreStats {
  readonly collections: number;
  readonly documents: number;
  readonly tombstones: number;
  readonly txnIds: number;
}

function bound(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!(v >= 0) || !(Number.isSafeInteger(v) || v === Number.POSITIVE_INFINITY)) {
    badInput("BAD_OPTION", `create store: ${name} must be a non-negative integer`, { field: name });
  }
  return v;
}

/** Fills in defaults and checks options. */
export function resolveOptions(o: StoreOptions): ResolvedOptions {
  const mode = o.mode ?? "client";
  if ((mode as string) !== "client" && (mode as string) !== "server")
    badInput("BAD_OPTION", "create store: mode must be client or server", { field: "mode" });
  const t = o.tombstones ?? {};
  const i = o.idempotency ?? {};
  return {
    mode,
    tombstones: {
      maxCount: bound(t.maxCount, DEFAULT_TOMBSTONES.maxCount, "tombstones.maxCount"),
      maxIndexDistance: bound(
        t.maxIndexDistance,
        DEFAULT_TOMBSTONES.maxIndexDistance,
        "tombstones.maxIndexDistance",
      ),
      maxAgeMs: bound(t.maxAgeMs, DEFAULT_TOMBSTONES.maxAgeMs, "tombstones.maxAgeMs"),
    },
    idempotency: {
      maxCount: bound(i.maxCount, DEFAULT_IDEMPOTENCY.maxCount, "idempotency.maxCount"),
      maxIndexDistance: bound(
        i.maxIndexDistance,
        DEFAULT_IDEMPOTENCY.maxIndexDistance,
        "idempotency.maxIndexDistance",
      ),
    },
    emitSkipped: o.emitSkipped ?? true,
  };
}

/**
 * An in-memory collection of BSON documents with Juju mgo/txn transactions.
 *
 * @example
 * const store = new DocumentStore();
 * const r = store.applyTxn({ index: 1, txnId: "t1", ops: [{ c: "units", _id: "u/0", assert: "d-", insert: { life: 0 } }] });
 * // r.outcome === "applied", r.revnos[0] === 2
 */
export class DocumentStore {
  readonly #state: StoreState;

  /** Creates an empty store, or wraps a restored state (see `restoreSnapshot`). */
  constructor(options: StoreOptions | { readonly state: StoreState } = {}) {
    this.#state = "state" in options ? options.state : emptyState(resolveOptions(options));
  }

  /** The transaction mode chosen at construction. */
  get mode(): TxnMode {
    return this.#state.options.mode;
  }

  /** The resolved options (recorded in snapshots). */
  get options(): ResolvedOptions {
    return this.#state.options;
  }

  /** Index of the last applied entry (0 before any). */
  get appliedIndex(): number {
    return this.#state.appliedIndex;
  }

  /** Applies a committed entry; bad input yields `outcome: "rejected"`, never a throw. Throws InvariantError if `index` does not increase. */
  applyTxn(entry: TxnEntry): TxnResult {
    return applyEntry(this.#state, entry);
  }

  /**
   * Applies a committed entry whose ops are the BSON bytes of `{ops: [...]}` (as a node's log
   * holds them): the same outcome as `applyTxn` with the decoded ops, without decoding them into
   * Maps first. Undecodable bytes yield `outcome: "rejected"`. Throws InvariantError as `applyTxn`.
   */
  applyEncodedTxn(entry: EncodedTxnEntry): TxnResult {
    return applyEntry(this.#state, entry);
  }

  /**
   * Applies a committed import entry (`juraft import`): documents keep their txn-revno; the
   * whole entry is rejected with a coded error if any document is malformed.
   */
  importDocuments(entry: ImportEntry): ImportResult {
    return applyImport(this.#state, entry);
  }

  /** The document with this `_id`, or undefined. The returned document must not be mutated. */
  get(collection: string, id: unknown): Doc | undefined {
    return this.#slot(collection, id)?.doc ?? undefined;
  }

  /** The SPEC §3 revno of a document: its txn-revno, a tombstone's negative revno, or -1. */
  revno(collection: string, id: unknown): number {
    return this.#slot(collection, id)?.revno ?? -1;
  }

  #slot(collection: string, id: unknown): { doc: Doc | null; revno: number } | undefined {
    return this.#state.collections.get(collection)?.get(idKey(toValue(id, "_id", 2)));
  }

  /** Documents of a collection matching a filter, projected, sorted, skipped and limited. Throws StoreError on a bad query. */
  find(collection: string, options: FindOptions = {}): Doc[] {
    const coll = this.#state.collections.get(collection);
    const docs = findIn(coll?.values() ?? [], options);
    return coll === undefined ? [] : docs;
  }

  /** Number of documents matching a filter. Throws StoreError on a bad filter. */
  count(collection: string, filter?: unknown): number {
    const match = filterOf(filter);
    let n = 0;
    for (const s of this.#state.collections.get(collection)?.values() ?? [])
      if (s.doc !== null && match(s.doc)) n++;
    return n;
  }

  /** Names of the collections that have ever held a document, sorted. */
  listCollections(): string[] {
    return [...this.#state.collections.keys()].sort();
  }

  /** Counts of collections, documents, tombstones and remembered transaction ids. */
  stats(): StoreStats {
    let documents = 0;
    for (const c of this.#state.collections.values()) documents += c.size;
    return {
      collections: this.#state.collections.size,
      documents: documents - this.#state.tombCount,
      tombstones: this.#state.tombCount,
      txnIds: this.#state.txns.size,
    };
  }

  /** The snapshot as BSON byte chunks: equal states give identical bytes (see snapshot.ts). */
  snapshot(): Iterable<Uint8Array> {
    return snapshotChunks(this.#state);
  }

  /** @internal The replicated state, for the snapshot and mongodump codecs. */
  get state(): StoreState {
    return this.#state;
  }
}

export type { ChangeEvent, EncodedTxnEntry, TxnEntry, TxnResult };
