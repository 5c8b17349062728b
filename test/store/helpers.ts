/** Test helpers for the document store suite. */
import type { Doc, StoreOptions, TxnResult, Value } from "../../node/store/index.js";
import { DocumentStore } from "../../node/store/index.js";

/** A store plus an auto-incrementing log index. */
export interface Harness {
  readonly store: DocumentStore;
  /** Applies ops as the next entry. */
  run(ops: unknown, extra?: { txnId?: string; timeMs?: number }): TxnResult;
}

/** Creates a harness around a fresh store. */
export function harness(options: StoreOptions = {}): Harness {
  const store = new DocumentStore(options);
  let index = 0;
  return {
    store,
    run(ops, extra = {}) {
      index++;
      return store.applyTxn({ index, ops, ...extra });
    },
  };
}

/** Converts a stored value to plain JS for `toEqual` (documents become objects; bigints stay). */
export function plain(v: Value | undefined): unknown {
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[k] = plain(x);
    return o;
  }
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object" && "_bsontype" in v && v._bsontype === "Double")
    return v.value;
  return v;
}

/** The document as plain JS, without `_id` and `txn-revno`. */
export function body(d: Doc | undefined): unknown {
  if (d === undefined) return undefined;
  const copy = new Map(d);
  copy.delete("_id");
  copy.delete("txn-revno");
  return plain(copy);
}

/** Inserts `doc` as `_id` `id` in collection `c` and returns the harness's store doc. */
export function seed(h: Harness, c: string, id: unknown, doc: object): void {
  const r = h.run([{ c, _id: id, assert: "d-", insert: doc }]);
  if (r.outcome !== "applied") throw new Error(`seed failed: ${JSON.stringify(r.outcome)}`);
}

/** The chunks of a snapshot stream joined into one buffer (to compare snapshots byte for byte). */
export function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  const list = [...chunks];
  const out = new Uint8Array(list.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of list) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
