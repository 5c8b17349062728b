/**
 * `mongodump` compatibility (issue 3, DESIGN.md §7), pure part: produce and consume the bytes of
 * `<db>/<coll>.bson` and the text of `<db>/<coll>.metadata.json`. File I/O lives in the caller.
 * Tombstones (client mode) travel as mgo/txn's own `txns.stash` documents
 * (`{_id: {c, id}, txn-revno: <negative>}`), so a Juju controller's stash is imported too.
 */
import { BsonWriter } from "./bson-encode.js";
import { decodeStream } from "./bson-stream.js";
import { STASH, revnoOf } from "./dump-format.js";
import { badInput, q } from "./errors.js";
import { ejsonText } from "./ejson-text.js";
import { idKey } from "./id-key.js";
import type { StoreState } from "./state.js";
import { emptyState } from "./state.js";
import type { StoreOptions } from "./store.js";
import { DocumentStore, resolveOptions } from "./store.js";
import type { Slot } from "./txn-engine.js";
import { REVNO_FIELD } from "./update-compile.js";
import type { Doc, Value } from "./values.js";

/** One file of a dump directory: a path relative to the dump root and its bytes. */
export interface DumpFile {
  readonly path: string;
  readonly chunks: Iterable<Uint8Array>;
}

const QUEUE_FIELD = "txn-queue";
const CHUNK = 64 * 1024;

function* docChunks(docs: Iterable<Doc>): Generator<Uint8Array> {
  const w = new BsonWriter(CHUNK * 2);
  for (const d of docs) {
    w.writeDoc(d);
    if (w.length >= CHUNK) yield w.take();
  }
  if (w.length > 0) yield w.take();
}

/** The `.metadata.json` text mongorestore expects: options, the `_id` index, the name. */
export function metadataJson(collection: string): string {
  return ejsonText(collection);
}

/** The live documents of a collection, read now (a live slot is updated in place). */
function liveDocs(coll: ReadonlyMap<string, Slot> | undefined): Doc[] {
  const out: Doc[] = [];
  for (const s of coll?.values() ?? []) if (s.doc !== null) out.push(s.doc);
  return out;
}

function* stashDocs(state: StoreState): Generator<Doc> {
  for (const [c, coll] of state.collections) {
    for (const s of coll.values()) {
      if (s.doc !== null) continue;
      const id: Doc = new Map<string, Value>([
        ["c", c],
        ["id", s.id],
      ]);
      yield new Map<string, Value>([
        ["_id", id],
        [REVNO_FIELD, BigInt(s.revno)],
        [QUEUE_FIELD, []],
      ]);
    }
  }
}

/** The files of a mongodump of the store under database `db` (default "juju"), collections sorted. */
export function* mongodumpFiles(store: DocumentStore, db = "juju"): Generator<DumpFile> {
  const state = store.state;
  const enc = new TextEncoder();
  for (const name of [...state.collections.keys()].sort()) {
    yield { path: `${db}/${name}.bson`, chunks: docChunks(liveDocs(state.collections.get(name))) };
    yield { path: `${db}/${name}.metadata.json`, chunks: [enc.encode(metadataJson(name))] };
  }
  if (state.tombCount > 0 && !state.collections.has(STASH)) {
    yield { path: `${db}/${STASH}.bson`, chunks: docChunks(stashDocs(state)) };
    yield { path: `${db}/${STASH}.metadata.json`, chunks: [enc.encode(metadataJson(STASH))] };
  }
}

function collectionOf(path: string, db: string): string | null {
  const prefix = `${db}/`;
  if (!path.startsWith(prefix) || !path.endsWith(".bson")) return null;
  const name = path.slice(prefix.length, -".bson".length);
  if (name.includes("/") || name === "") return null;
  return name;
}

/** Collections that only exist for mgo/txn's bookkeeping and are not imported (SPEC §1). */
function isTxnArtefact(name: string): boolean {
  return (
    name === "txns" || name === "txns.log" || name === "txns.prune" || name.startsWith("system.")
  );
}

function importDoc(coll: Map<string, Slot>, raw: Doc, where: string): void {
  const id = raw.get("_id");
  if (id === undefined)
    badInput("BAD_DUMP", `import ${q(where)}: a document has no _id`, { field: where });
  const doc = new Map(raw);
  doc.delete(QUEUE_FIELD); // an mgo/txn artefact (SPEC §1): juraft stores no queue
  const key = idKey(id);
  if (coll.has(key)) badInput("BAD_DUMP", `import ${q(where)}: duplicate _id`, { field: where });
  const slot: Slot = {
    id,
    doc,
    revno: revnoOf(doc),
    removedAt: 0,
    removedAtMs: undefined,
    sizeBound: undefined,
  };
  coll.set(key, slot);
}

function importStash(state: StoreState, raw: Doc): void {
  const key = raw.get("_id");
  const revno = revnoOf(raw);
  if (!(key instanceof Map) || revno >= 0) return;
  const c = key.get("c");
  const id = key.get("id");
  if (typeof c !== "string" || id === undefined) return;
  let coll = state.collections.get(c);
  if (coll === undefined) {
    coll = new Map();
    state.collections.set(c, coll);
  }
  const k = idKey(id);
  if (coll.has(k)) return;
  const slot: Slot = {
    id,
    doc: null,
    revno,
    removedAt: 0,
    removedAtMs: undefined,
    sizeBound: undefined,
  };
  coll.set(k, slot);
  state.tombs.push({ c, key: k, slot });
  state.tombCount++;
}

/**
 * Builds a store from the `.bson` files of a mongodump of database `db`, keeping each
 * document's `txn-revno`; `txns.stash` becomes tombstones in client mode. Throws StoreError.
 */
export function loadMongodump(
  files: Iterable<DumpFile>,
  options: StoreOptions & { readonly db?: string } = {},
): DocumentStore {
  const db = options.db ?? "juju";
  const state = emptyState(resolveOptions(options));
  const stash: Doc[] = [];
  for (const f of files) {
    const name = collectionOf(f.path, db);
    if (name === null || isTxnArtefact(name)) continue;
    if (name === STASH) {
      for (const d of decodeStream(f.chunks)) stash.push(d);
      continue;
    }
    let coll = state.collections.get(name);
    if (coll === undefined) {
      coll = new Map();
      state.collections.set(name, coll);
    }
    for (const d of decodeStream(f.chunks)) importDoc(coll, d, f.path);
  }
  if (state.options.mode === "client") for (const d of stash) importStash(state, d);
  return new DocumentStore({ state });
}
