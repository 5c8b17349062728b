/**
 * Restoring a store from snapshot chunks (the inverse of `snapshotChunks`). Incremental, so the
 * caller may feed chunks as they arrive (e.g. from a Raft snapshot install) without buffering
 * the whole snapshot. Anything malformed raises `data_loss` / `BAD_SNAPSHOT`.
 */
import { BsonStreamDecoder } from "./bson-stream.js";
import type { ErrorCode } from "./errors.js";
import { StoreError } from "./errors.js";
import { idKey } from "./id-key.js";
import { badSnapshot, SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from "./snapshot.js";
import type { RecordedOutcome, ResolvedOptions, StoreState } from "./state.js";
import { emptyState } from "./state.js";
import { DocumentStore, resolveOptions } from "./store.js";
import type { Slot } from "./txn-engine.js";
import type { Doc, Value } from "./values.js";

function num(v: Value | undefined, what: string): number {
  if (typeof v === "number") return v;
  if (
    typeof v === "bigint" &&
    v >= BigInt(Number.MIN_SAFE_INTEGER) &&
    v <= BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    return Number(v);
  }
  if (
    v instanceof Object &&
    !(v instanceof Map) &&
    !Array.isArray(v) &&
    "_bsontype" in v &&
    v._bsontype === "Double"
  ) {
    return v.value;
  }
  return badSnapshot(`${what} is not a number`);
}

function optNum(v: Value | undefined, what: string): number | undefined {
  return v === null || v === undefined ? undefined : num(v, what);
}

function str(v: Value | undefined, what: string): string {
  return typeof v === "string" ? v : badSnapshot(`${what} is not a string`);
}

function doc(v: Value | undefined, what: string): Doc {
  return v instanceof Map ? v : badSnapshot(`${what} is not a document`);
}

function optionsOf(h: Doc): ResolvedOptions {
  if (h.get("t") !== "header" || h.get("format") !== SNAPSHOT_FORMAT) badSnapshot("missing header");
  if (num(h.get("version"), "version") !== SNAPSHOT_VERSION) badSnapshot("unsupported version");
  const t = doc(h.get("tombstones"), "tombstones");
  const i = doc(h.get("idempotency"), "idempotency");
  const mode = h.get("mode");
  if (mode !== "client" && mode !== "server") return badSnapshot("bad mode");
  return resolveOptions({
    mode,
    tombstones: {
      maxCount: num(t.get("maxCount"), "maxCount"),
      maxIndexDistance: num(t.get("maxIndexDistance"), "maxIndexDistance"),
      maxAgeMs: num(t.get("maxAgeMs"), "maxAgeMs"),
    },
    idempotency: {
      maxCount: num(i.get("maxCount"), "maxCount"),
      maxIndexDistance: num(i.get("maxIndexDistance"), "maxIndexDistance"),
    },
    emitSkipped: h.get("emitSkipped") === true,
  });
}

/** Decodes a recorded transaction outcome. */
export function decodeOutcome(r: Doc): RecordedOutcome {
  const o = r.get("o");
  switch (typeof o === "string" ? o : "") {
    case "applied": {
      const rv = r.get("rv");
      if (!Array.isArray(rv)) return badSnapshot("bad revnos");
      return { outcome: "applied", revnos: rv.map((x) => (x === null ? null : num(x, "revno"))) };
    }
    case "aborted": {
      const why = r.get("why");
      if (why !== "assert_failed" && why !== "duplicate_key")
        return badSnapshot("bad abort reason");
      return {
        outcome: "aborted",
        op: num(r.get("op"), "op"),
        reason: why,
        assert: r.get("a") ?? null,
      };
    }
    case "rejected": {
      const op = optNum(r.get("op"), "op");
      const mc = optNum(r.get("mc"), "mc");
      const field = r.get("field");
      const site = {
        ...(op === undefined ? {} : { op }),
        ...(typeof field === "string" ? { field } : {}),
        ...(mc === undefined ? {} : { mongoCode: mc }),
      };
      const code = str(r.get("code"), "code") as ErrorCode;
      return {
        outcome: "rejected",
        error: new StoreError(code, str(r.get("reason"), "reason"), str(r.get("msg"), "msg"), site),
      };
    }
    default:
      return badSnapshot("bad outcome");
  }
}

/** Rebuilds a store from snapshot chunks pushed in order. */
export class SnapshotReader {
  readonly #decoder = new BsonStreamDecoder();
  #state: StoreState | null = null;
  #coll: Map<string, Slot> | null = null;
  #done = false;

  /** Feeds the next chunk. Throws StoreError (`data_loss`) on malformed data. */
  push(chunk: Uint8Array): void {
    let docs: Doc[];
    try {
      docs = this.#decoder.push(chunk);
    } catch (e) {
      if (e instanceof StoreError) badSnapshot(e.message);
      throw e;
    }
    for (const d of docs) this.#record(d);
  }

  #record(d: Doc): void {
    if (this.#done) badSnapshot("data after the trailer");
    const state = this.#state;
    if (state === null) {
      const s = emptyState(optionsOf(d));
      s.appliedIndex = num(d.get("appliedIndex"), "appliedIndex");
      s.lastTimeMs = optNum(d.get("lastTimeMs"), "lastTimeMs");
      this.#state = s;
      return;
    }
    const t = d.get("t");
    if (t === undefined) {
      this.#document(d);
      return;
    }
    switch (typeof t === "string" ? t : "") {
      case "coll": {
        const coll = new Map<string, Slot>();
        state.collections.set(str(d.get("name"), "name"), coll);
        this.#coll = coll;
        return;
      }
      case "tomb": {
        this.#tomb(state, d);
        return;
      }
      case "txn": {
        const id = str(d.get("id"), "txn id");
        const index = num(d.get("at"), "txn index");
        if (state.txns.has(id)) badSnapshot("transaction id recorded twice");
        state.txns.add(id, { index, result: decodeOutcome(doc(d.get("res"), "res")) });
        return;
      }
      case "end":
        this.#done = true;
        return;
      default:
        badSnapshot("unknown record");
    }
  }

  #document(d: Doc): void {
    const body = doc(d.get("d"), "document");
    const id = body.get("_id");
    if (this.#coll === null || id === undefined)
      return badSnapshot("document outside a collection or without _id");
    this.#coll.set(idKey(id), {
      id,
      doc: body,
      revno: num(d.get("r"), "revno"),
      removedAt: 0,
      removedAtMs: undefined,
      sizeBound: undefined,
    });
  }

  #tomb(state: StoreState, d: Doc): void {
    const c = str(d.get("c"), "tombstone collection");
    const id = d.get("id");
    const coll = state.collections.get(c);
    if (coll === undefined || id === undefined)
      return badSnapshot("tombstone of an unknown collection");
    const slot: Slot = {
      id,
      doc: null,
      revno: num(d.get("r"), "revno"),
      removedAt: num(d.get("at"), "at"),
      removedAtMs: optNum(d.get("ms"), "ms"),
      sizeBound: undefined,
    };
    const key = idKey(id);
    coll.set(key, slot);
    state.tombs.push({ c, key, slot });
    state.tombCount++;
  }

  /** Returns the restored store; throws StoreError if the stream was incomplete. */
  finish(): DocumentStore {
    if (this.#state === null || !this.#done || !this.#decoder.idle)
      return badSnapshot("truncated snapshot");
    return new DocumentStore({ state: this.#state });
  }
}

/** Restores a store from a complete sequence of snapshot chunks. */
export function restoreSnapshot(chunks: Iterable<Uint8Array>): DocumentStore {
  const r = new SnapshotReader();
  for (const c of chunks) r.push(c);
  return r.finish();
}
