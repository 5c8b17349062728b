/**
 * Snapshots as a stream of BSON documents (DESIGN.md §7, issue 3): a header (format, mode,
 * options, applied index), then per collection a header and its documents with their revnos,
 * then tombstones oldest first, then the idempotency table, then a trailer with counts. No
 * record holds more than one document, so there is no 16 MB limit on the whole.
 */
import { BsonWriter } from "./bson-encode.js";
import { ErrorCode, StoreError } from "./errors.js";
import type { RecordedOutcome, StoreState, TxnRecord } from "./state.js";
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

function* records(state: StoreState, txns: readonly [string, TxnRecord][]): Generator<Doc> {
  yield header(state);
  let docs = 0;
  for (const [name, coll] of state.collections) {
    yield d([
      ["t", "coll"],
      ["name", name],
    ]);
    for (const slot of coll.values()) {
      if (slot.doc === null) continue;
      docs++;
      yield d([
        ["r", BigInt(slot.revno)],
        ["d", slot.doc],
      ]);
    }
  }
  let tombs = 0;
  for (let i = state.tombHead; i < state.tombs.length; i++) {
    const t = state.tombs[i];
    if (t === undefined || state.collections.get(t.c)?.get(t.key) !== t.slot) continue;
    tombs++;
    yield d([
      ["t", "tomb"],
      ["c", t.c],
      ["id", t.slot.id],
      ["r", BigInt(t.slot.revno)],
      ["at", BigInt(t.slot.removedAt)],
      ["ms", optional(t.slot.removedAtMs)],
    ]);
  }
  for (const [id, rec] of txns) {
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
    ["tombs", BigInt(tombs)],
    ["txns", BigInt(txns.length)],
  ]);
}

/**
 * The snapshot of `state` as byte chunks (about 64 KiB each). The view is taken when this is
 * called: the collection maps are copied (documents are immutable), so later applies do not
 * change what the iterator yields.
 */
export function snapshotChunks(state: StoreState): Iterable<Uint8Array> {
  const frozen: StoreState = {
    ...state,
    collections: new Map([...state.collections].map(([k, v]) => [k, new Map(v)])),
    tombs: state.tombs.slice(state.tombHead),
    tombHead: 0,
  };
  return chunked(records(frozen, state.txns.entries()));
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
