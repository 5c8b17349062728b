/**
 * Importing documents into a running store through the log (`juraft import --mongodump`): each
 * document keeps its `txn-revno` (SPEC §6), so Juju code that asserts revnos keeps working after
 * a controller's database moves to juraft. All-or-nothing per entry, deterministic.
 */
import type { ChangeEvent } from "./apply.js";
import { StoreError, badInput, invariant, q } from "./errors.js";
import { idKey } from "./id-key.js";
import { STASH, revnoOf } from "./dump-format.js";
import { toDoc } from "./normalize.js";
import type { StoreState } from "./state.js";
import type { Slot } from "./txn-engine.js";
import type { Doc, Value } from "./values.js";

/** One chunk of documents of one collection, as a committed log entry. */
export interface ImportEntry {
  readonly index: number;
  readonly collection: string;
  /** Documents (BSON-decoded or plain); `txn-queue` is dropped, `txn-revno` kept. */
  readonly documents: readonly unknown[];
}

/** What an import entry did. */
export type ImportResult =
  | {
      readonly outcome: "imported";
      readonly index: number;
      readonly count: number;
      readonly changes: readonly ChangeEvent[];
    }
  | { readonly outcome: "rejected"; readonly index: number; readonly error: StoreError };

function checkCollection(c: string): void {
  if (
    c === "" ||
    c.startsWith("$") ||
    c.includes("\0") ||
    c === "txns" ||
    c === "txns.log" ||
    c.startsWith("system.")
  ) {
    badInput("BAD_COLLECTION", `import into ${q(c)}: not a collection juraft stores`, {
      field: "collection",
    });
  }
}

/** Applies an import entry: validates every document first, then replaces or inserts them all. */
export function applyImport(state: StoreState, entry: ImportEntry): ImportResult {
  const { index } = entry;
  invariant(
    Number.isSafeInteger(index) && index > state.appliedIndex,
    `apply import ${index}: already applied up to ${state.appliedIndex}`,
  );
  state.appliedIndex = index;
  let docs: Doc[];
  try {
    checkCollection(entry.collection);
    docs = entry.documents.map((d, i) => {
      const doc = toDoc(d, `documents[${i}]`);
      if (!doc.has("_id"))
        badInput("BAD_DUMP", `import into ${q(entry.collection)}: document ${i} has no _id`, {
          field: `documents[${i}]`,
        });
      doc.delete("txn-queue"); // an mgo/txn artefact (SPEC §1): juraft stores no queue
      return doc;
    });
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    return { outcome: "rejected", index, error: e };
  }
  if (entry.collection === STASH) return importTombstones(state, index, docs);
  let coll = state.collections.get(entry.collection);
  if (coll === undefined) {
    coll = new Map();
    state.collections.set(entry.collection, coll);
  }
  const changes: ChangeEvent[] = [];
  for (const doc of docs) {
    const id = doc.get("_id") as Value;
    const key = idKey(id);
    const old = coll.get(key);
    if (old !== undefined && old.doc === null) state.tombCount--;
    const revno = revnoOf(doc);
    const slot: Slot = {
      id,
      doc,
      revno,
      removedAt: 0,
      removedAtMs: undefined,
      sizeBound: undefined,
    };
    coll.set(key, slot);
    changes.push({
      index,
      collection: entry.collection,
      id,
      revno,
      kind: old !== undefined && old.doc !== null ? "update" : "insert",
      skipped: false,
    });
  }
  return { outcome: "imported", index, count: docs.length, changes };
}

/** mgo/txn's stash (`{_id: {c, id}, txn-revno: -n}`) becomes tombstones in client mode. */
function importTombstones(state: StoreState, index: number, docs: readonly Doc[]): ImportResult {
  if (state.options.mode !== "client") return { outcome: "imported", index, count: 0, changes: [] };
  let count = 0;
  for (const raw of docs) {
    const key = raw.get("_id");
    const revno = revnoOf(raw);
    if (!(key instanceof Map) || revno >= 0) continue;
    const c = key.get("c");
    const id = key.get("id");
    if (typeof c !== "string" || id === undefined) continue;
    let coll = state.collections.get(c);
    if (coll === undefined) {
      coll = new Map();
      state.collections.set(c, coll);
    }
    const k = idKey(id);
    if (coll.has(k)) continue; // a live document wins over an old stash entry
    const slot: Slot = {
      id,
      doc: null,
      revno,
      removedAt: index,
      removedAtMs: undefined,
      sizeBound: undefined,
    };
    coll.set(k, slot);
    state.tombs.push({ c, key: k, slot });
    state.tombCount++;
    count++;
  }
  return { outcome: "imported", index, count, changes: [] };
}
