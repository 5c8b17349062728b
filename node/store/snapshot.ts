/**
 * Snapshots as a stream of BSON documents (DESIGN.md §7, issue 3): a header (format, mode,
 * options, applied index), then per collection a header and its documents with their revnos,
 * then tombstones oldest first, then the idempotency table, then a trailer with counts. No
 * record holds more than one document, so there is no 16 MB limit on the whole.
 */
import { BsonWriter } from "./bson-encode.js";
import { ErrorCode, StoreError } from "./errors.js";
import type { RecordedOutcome, StoreState, TombRef, TxnRecord } from "./state.js";
import type { Doc, Value } from "./values.js";

/** The snapshot format name and version written in the header. */
export const SNAPSHOT_FORMAT = "juraft-store-snapshot";
/** Current snapshot format version. */
export const SNAPSHOT_VERSION = 1;

const CHUNK = 64 * 1024;

function d(entries: [string, Value][]): Doc {
  return new Map(entries);
}

function optional(v: number | undefined): Value {
  return v === undefined ? null : v;
}

function header(state: StoreState): Doc {
  const o = state.options;
  return d([
    ["t", "header"],
    ["format", SNAPSHOT_FORMAT],
    ["version", SNAPSHOT_VERSION],
    ["mode", o.mode],
    ["appliedIndex", BigInt(state.appliedIndex)],
    ["lastTimeMs", optional(state.lastTimeMs)],
    [
      "tombstones",
      d([
        ["maxCount", o.tombstones.maxCount],
        ["maxIndexDistance", o.tombstones.maxIndexDistance],
        ["maxAgeMs", o.tombstones.maxAgeMs],
      ]),
    ],
    [
      "idempotency",
      d([
        ["maxCount", o.idempotency.maxCount],
        ["maxIndexDistance", o.idempotency.maxIndexDistance],
      ]),
    ],
    ["emitSkipped", o.emitSkipped],
  ]);
}

/** Encodes a recorded transaction outcome. */
export function encodeOutcome(r: RecordedOutcome): Doc {
  switch (r.outcome) {
    case "applied":
      return d([
        ["o", "applied"],
        ["rv", r.revnos.map((x) => (x === null ? null : BigInt(x)))],
      ]);
    case "aborted":
      return d([
        ["o", "aborted"],
        ["op", r.op],
        ["why", r.reason],
        ["a", r.assert],
      ]);
    case "rejected": {
      const e = r.error;
      return d([
        ["o", "rejected"],
        ["code", e.code],
        ["reason", e.reason],
        ["msg", e.message],
        ["op", optional(e.op)],
        ["field", e.field ?? null],
        ["mc", optional(e.mongoCode)],
      ]);
    }
  }
}

/** A collection's live documents and their revnos, captured when the snapshot is taken. */
interface FrozenCollection {
  readonly name: string;
  readonly revnos: readonly number[];
  readonly docs: readonly Doc[];
}

/** What a snapshot streams, captured at once: later applies must not change it. */
interface Frozen {
  /** The header record (options, applied index, last timestamp). */
  readonly header: Doc;
  readonly collections: readonly FrozenCollection[];
  /** Current tombstones, oldest first. */
  readonly tombs: readonly TombRef[];
  readonly txns: readonly [string, TxnRecord][];
}

function* records(frozen: Frozen): Generator<Doc> {
  yield frozen.header;
  let docs = 0;
  for (const c of frozen.collections) {
    yield d([
      ["t", "coll"],
      ["name", c.name],
    ]);
    for (let i = 0; i < c.docs.length; i++) {
      docs++;
      yield d([
        ["r", BigInt(c.revnos[i] ?? 0)],
        ["d", c.docs[i] as Doc],
      ]);
    }
  }
  for (const t of frozen.tombs) {
    yield d([
      ["t", "tomb"],
      ["c", t.c],
      ["id", t.slot.id],
      ["r", BigInt(t.slot.revno)],
      ["at", BigInt(t.slot.removedAt)],
      ["ms", optional(t.slot.removedAtMs)],
    ]);
  }
  for (const [id, rec] of frozen.txns) {
    yield d([
      ["t", "txn"],
      ["id", id],
      ["at", BigInt(rec.index)],
      ["res", encodeOutcome(rec.result)],
    ]);
  }
  yield d([
    ["t", "end"],
    ["docs", BigInt(docs)],
    ["tombs", BigInt(frozen.tombs.length)],
    ["txns", BigInt(frozen.txns.length)],
  ]);
}

/** Live documents and revnos of each collection, read now: a live slot is updated in place. */
function freezeCollections(state: StoreState): FrozenCollection[] {
  const out: FrozenCollection[] = [];
  for (const [name, coll] of state.collections) {
    const revnos: number[] = [];
    const docs: Doc[] = [];
    for (const slot of coll.values()) {
      if (slot.doc === null) continue;
      revnos.push(slot.revno);
      docs.push(slot.doc);
    }
    out.push({ name, revnos, docs });
  }
  return out;
}

/**
 * The snapshot of `state` as byte chunks (about 64 KiB each). The view is taken when this is
 * called: each collection's documents and revnos are read now (documents are immutable; a live
 * slot is not, see commit in apply.ts), so later applies do not change what the iterator yields.
 */
export function snapshotChunks(state: StoreState): Iterable<Uint8Array> {
  const tombs: TombRef[] = [];
  for (let i = state.tombHead; i < state.tombs.length; i++) {
    const t = state.tombs[i];
    if (t !== undefined && state.collections.get(t.c)?.get(t.key) === t.slot) tombs.push(t);
  }
  return chunked(
    records({
      header: header(state),
      collections: freezeCollections(state),
      tombs,
      txns: state.txns.entries(),
    }),
  );
}

function* chunked(docs: Iterable<Doc>): Generator<Uint8Array> {
  const w = new BsonWriter(CHUNK * 2);
  for (const doc of docs) {
    w.writeDoc(doc);
    if (w.length >= CHUNK) yield w.take();
  }
  if (w.length > 0) yield w.take();
}

/** Throws the `data_loss` error of a malformed snapshot. */
export function badSnapshot(message: string): never {
  throw new StoreError(ErrorCode.dataLoss, "BAD_SNAPSHOT", `restore snapshot: ${message}`);
}
