/**
 * The transaction engine (SPEC §3, §6, §7): computes per-op revnos, checks asserts and simulates
 * every op on working copies, without touching the store. The caller commits the returned writes
 * only when the decision is `applied`, so a transaction is all-or-nothing.
 */
import { MAX_BSON_SIZE, docSizeBound, oversize } from "./bson-encode.js";
import { valuesEqual } from "./compare.js";
import { ErrorCode, StoreError, invariant, q } from "./errors.js";
import { MAX_DEPTH } from "./normalize.js";
import type { ParsedOp } from "./txn-parse.js";
import { applyUpdate } from "./update-apply.js";
import type { CompiledUpdate } from "./update-compile.js";
import { REVNO_FIELD, valueDepth } from "./update-compile.js";
import type { Doc, Value } from "./values.js";

/** The transaction semantics, fixed per cluster (SPEC terminology; issue 3). */
export const TxnMode = { client: "client", server: "server" } as const;
/** One of {@link TxnMode}: `client` = mgo/txn (default), `server` = sstxn. */
export type TxnMode = (typeof TxnMode)[keyof typeof TxnMode];

/**
 * A stored document or tombstone. An update of a live document writes its slot's `doc`,
 * `revno` and `sizeBound` in place (commit in apply.ts); every other write replaces the slot,
 * so a tombstone slot never changes. Documents themselves are never mutated.
 */
export interface Slot {
  readonly id: Value;
  /** The document, or `null` for a tombstone (a removed document's negative revno, SPEC §6.1). */
  doc: Doc | null;
  revno: number;
  /** Log index at which a tombstone was made (for pruning). */
  readonly removedAt: number;
  /** Entry timestamp (ms) at which a tombstone was made, if the entry carried one. */
  readonly removedAtMs: number | undefined;
  /** An upper bound of the document's BSON size (see size-bound.ts), if known. */
  sizeBound?: number | undefined;
}

/** Working state of one document during a transaction. */
export interface DocState {
  readonly c: string;
  readonly key: string;
  readonly id: Value;
  /** The first op touching the document: states are committed in first-touch order. */
  readonly at: number;
  readonly before: Slot | undefined;
  /** Revno before the transaction (SPEC §3 step 2). */
  readonly pre: number;
  running: number;
  doc: Doc | null;
  /** Upper bound of `doc`'s BSON size, if known. */
  bound: number | undefined;
  changed: boolean;
}

/** One change, tagged with the log index that produced it (SPEC §9.4). */
export interface ChangeEvent {
  readonly index: number;
  readonly collection: string;
  readonly id: Value;
  /** SPEC §3 revno after the op; negative = removed or missing. */
  readonly revno: number;
  readonly kind: "insert" | "update" | "remove";
  /** True when the op changed nothing (insert of an existing doc, update/remove of a missing one). */
  readonly skipped: boolean;
}

/** The engine's verdict. */
export type Decision =
  | {
      readonly outcome: "applied";
      readonly revnos: (number | null)[];
      /** The change events, built here: one object per op instead of an effect plus an event. */
      readonly changes: ChangeEvent[];
      /** Per op, its document's state (shared by a document's ops; its first op is `at`). */
      readonly opStates: DocState[];
    }
  | {
      readonly outcome: "aborted";
      readonly op: number;
      readonly reason: "assert_failed" | "duplicate_key";
    }
  | { readonly outcome: "rejected"; readonly error: StoreError };

/** The store's documents by collection, then by `idKey`. */
export type Collections = ReadonlyMap<string, ReadonlyMap<string, Slot>>;

/** Entry data the engine needs. */
export interface EngineContext {
  readonly mode: TxnMode;
  readonly timeMs: number | undefined;
  /** The entry's log index, for change events. */
  readonly index: number;
  /** Emit events for skipped ops (SPEC §9.4). */
  readonly emitSkipped: boolean;
}

/** Composite key of a document for the large-transaction index. */
function stateKey(c: string, key: string): string {
  return `${c.length}:${c}${key}`;
}

/** Transactions touching more documents than this index them by `stateKey`. */
const SCAN_LIMIT = 16;

/**
 * The state of op `i`'s document: the one an earlier op made, or a new one read from the store.
 * `opStates` holds ops 0..i-1's states; a document's state is shared by all its ops, and its
 * first op is `at` (no list of distinct documents, no object to hold it: both were per-txn
 * garbage). `index` is built once a transaction has many ops, to keep lookups O(1).
 */
function stateFor(
  opStates: DocState[],
  i: number,
  index: Map<string, DocState> | null,
  op: ParsedOp,
  colls: Collections,
  mode: TxnMode,
): DocState {
  if (index !== null) {
    const hit = index.get(stateKey(op.c, op.key));
    if (hit !== undefined) return hit;
  } else {
    // A transaction touches a few documents: a scan beats building a composite key per op.
    for (let k = 0; k < i; k++) {
      const s = opStates[k] as DocState;
      if (s.key === op.key && s.c === op.c) return s;
    }
  }
  const before = colls.get(op.c)?.get(op.key);
  // SPEC §3 step 2: existing doc -> its revno; removed -> tombstone (client only); else -1.
  const pre =
    before === undefined
      ? -1
      : before.doc !== null
        ? before.revno
        : mode === TxnMode.client
          ? before.revno
          : -1;
  const st: DocState = {
    c: op.c,
    key: op.key,
    id: op.id,
    at: i,
    before,
    pre,
    running: pre,
    doc: before?.doc ?? null,
    bound: before?.sizeBound,
    changed: false,
  };
  index?.set(stateKey(op.c, op.key), st);
  return st;
}

/** The index of ops 0..n-1's document states by `stateKey`. */
function indexOf(opStates: readonly DocState[], n: number): Map<string, DocState> {
  const index = new Map<string, DocState>();
  for (let k = 0; k < n; k++) {
    const s = opStates[k] as DocState;
    if (s.at === k) index.set(stateKey(s.c, s.key), s);
  }
  return index;
}

/** SPEC §3 step 3: the running revno after an op. */
function advance(r: number, kind: OpAction["kind"]): number {
  switch (kind) {
    case "insert":
      return r < 0 ? -r + 1 : r;
    case "update":
      return r >= 0 ? r + 1 : r;
    case "remove":
      return r >= 0 ? -r - 1 : r;
    case "assert":
      return r;
  }
}
type OpAction = ParsedOp["action"];

function assertHolds(op: ParsedOp, st: DocState, preOp: number, mode: TxnMode): boolean {
  const a = op.assert;
  if (a === null) return true;
  const beforeDoc = st.before?.doc ?? null;
  switch (a.type) {
    case "missing": // SPEC §3 step 4: client-side DocMissing sees earlier ops; sstxn does not.
      return mode === TxnMode.client ? preOp < 0 : beforeDoc === null;
    case "exists": // DocExists and queries see the pre-transaction document.
      return beforeDoc !== null;
    case "query":
      return beforeDoc !== null && a.match(beforeDoc);
  }
}

/** Decides a transaction (SPEC §3) without changing anything. */
export function decide(ops: readonly ParsedOp[], colls: Collections, ctx: EngineContext): Decision {
  const opStates = new Array<DocState>(ops.length);
  let index: Map<string, DocState> | null = null;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as ParsedOp;
    if (i === SCAN_LIMIT) index = indexOf(opStates, i);
    const st = stateFor(opStates, i, index, op, colls, ctx.mode);
    opStates[i] = st;
    // An assert reads only the pre-transaction document and the ops before it, so checking it
    // here, in op order, finds the same first failing op as a separate pass would.
    if (!assertHolds(op, st, st.running, ctx.mode))
      return { outcome: "aborted", op: i, reason: "assert_failed" };
    st.running = advance(st.running, op.action.kind);
  }
  for (const st of opStates) st.running = st.pre;
  try {
    return ctx.mode === TxnMode.client
      ? applyClient(ops, opStates, ctx)
      : applyServer(ops, opStates, ctx);
  } catch (e) {
    if (e instanceof StoreError) return { outcome: "rejected", error: e };
    throw e;
  }
}

/** Applies an update to a document state (its doc and size bound), or throws naming op `i`. */
function update(
  st: DocState,
  doc: Doc,
  upd: CompiledUpdate,
  revno: number,
  ctx: EngineContext,
  i: number,
): void {
  try {
    const next = applyUpdate(doc, upd, revnoValue(revno), ctx.timeMs);
    st.bound = checkResult(doc, next, upd, st.bound);
    st.doc = next;
  } catch (e) {
    if (e instanceof StoreError) throw e.atOp(i);
    throw e;
  }
}

/** Post-update checks: `_id` immutable (code 66), 16 MB, nesting depth; returns a size bound. */
function checkResult(
  before: Doc,
  after: Doc,
  update: CompiledUpdate,
  bound: number | undefined,
): number {
  if (update.touchesId) {
    const a = before.get("_id");
    const b = after.get("_id");
    if (a === undefined || b === undefined || !valuesEqual(a, b)) {
      throw new StoreError(
        ErrorCode.invalidArgument,
        "IMMUTABLE_ID",
        'update "_id": the _id field is immutable',
        {
          field: "update._id",
          mongoCode: 66,
        },
      );
    }
  }
  if (update.hasRename && valueDepth(after) > MAX_DEPTH) {
    throw new StoreError(
      ErrorCode.invalidArgument,
      "NESTING_TOO_DEEP",
      `update: nesting deeper than ${MAX_DEPTH} levels`,
      {
        field: "update",
      },
    );
  }
  // The stored bound plus what the update can add, when that is clearly under the limit.
  const grown = bound === undefined ? Number.POSITIVE_INFINITY : bound + update.growth;
  if (grown <= MAX_BSON_SIZE) return grown;
  const fresh = docSizeBound(after);
  const size = fresh <= MAX_BSON_SIZE ? 0 : oversize(after);
  if (size > 0) {
    throw new StoreError(
      ErrorCode.invalidArgument,
      "DOCUMENT_TOO_LARGE",
      `update: document of ${size} bytes exceeds ${MAX_BSON_SIZE}`,
      {
        field: "update",
        mongoCode: 17419,
      },
    );
  }
  return fresh;
}

/** Small revnos as shared bigints: most documents' revnos are small, and each update stored a
 * fresh 24-byte heap bigint (bigints are immutable values, so sharing is invisible). */
const SMALL_REVNOS: readonly bigint[] = Array.from({ length: 1024 }, (_, i) => BigInt(i));

function revnoValue(revno: number): bigint {
  return SMALL_REVNOS[revno] ?? BigInt(revno);
}

/** Sets the revno of a freshly parsed insert payload (owned by this transaction, so no copy). */
function withRevno(doc: Doc, revno: number): Doc {
  doc.set(REVNO_FIELD, revnoValue(revno));
  return doc;
}

/** The change event of op `i` on `st`, or undefined when skipped ops are not reported. */
function changeOf(
  ctx: EngineContext,
  st: DocState,
  revno: number,
  kind: ChangeEvent["kind"],
  skipped: boolean,
): ChangeEvent | undefined {
  if (skipped && !ctx.emitSkipped) return undefined;
  return { index: ctx.index, collection: st.c, id: st.id, revno, kind, skipped };
}

/**
 * A transaction's revnos array, sized once: it is kept in the idempotency table (100,000 of
 * them), where a pushed-to array's 16-slot backing store was ~150 bytes to copy and promote.
 */
function newRevnos(n: number): (number | null)[] {
  return new Array<number | null>(n);
}

/** The number of change events when every op that is not a pure assert reports one. */
function eventCount(ops: readonly ParsedOp[]): number {
  let n = 0;
  for (const op of ops) if (op.action.kind !== "assert") n++;
  return n;
}

/** SPEC §3 step 5 (client-side mgo/txn), with SPEC §7's reject-up-front rule for bad updates. */
function applyClient(ops: readonly ParsedOp[], opStates: DocState[], ctx: EngineContext): Decision {
  const revnos = newRevnos(ops.length);
  const changes = new Array<ChangeEvent>(eventCount(ops));
  let n = 0;
  for (let i = 0; i < ops.length; i++) {
    const a = (ops[i] as ParsedOp).action;
    const st = opStates[i] as DocState;
    const r = st.running;
    let logged = r;
    let skipped = true;
    switch (a.kind) {
      case "assert":
        revnos[i] = null;
        continue;
      case "insert":
        if (r < 0) {
          logged = -r + 1;
          st.doc = withRevno(a.doc, logged);
          st.bound = a.bound;
          skipped = false;
        }
        break;
      case "update":
        if (r >= 0) {
          invariant(st.doc !== null, "a non-negative running revno means the document exists");
          logged = r + 1;
          update(st, st.doc, a.update, logged, ctx, i);
          skipped = false;
        }
        break;
      case "remove":
        if (r >= 0) {
          logged = -r - 1;
          st.doc = null;
          skipped = false;
        }
        break;
    }
    st.running = logged;
    if (!skipped) st.changed = true;
    revnos[i] = logged;
    const ev = changeOf(ctx, st, logged, a.kind, skipped);
    if (ev !== undefined) changes[n++] = ev;
  }
  if (n !== changes.length) changes.length = n; // skipped ops not reported (a runtime call)
  return { outcome: "applied", revnos, changes, opStates };
}

/** The server-side runner (juju/mgo sstxn): revnos from the pre-transaction read (SPEC §6.1). */
function applyServer(ops: readonly ParsedOp[], opStates: DocState[], ctx: EngineContext): Decision {
  const revnos = newRevnos(ops.length);
  const changes = new Array<ChangeEvent>(eventCount(ops));
  let n = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as ParsedOp;
    const st = opStates[i] as DocState;
    const a = op.action;
    if (a.kind === "assert") {
      revnos[i] = null;
      continue;
    }
    let logged: number;
    let skipped = false;
    switch (a.kind) {
      case "insert": // SPEC §7: duplicate key aborts; every insert gets revno 2.
        if (st.doc !== null) return { outcome: "aborted", op: i, reason: "duplicate_key" };
        logged = 2;
        st.doc = withRevno(a.doc, 2);
        st.bound = a.bound;
        break;
      case "update": // SPEC §7: update of a missing document is "not found", rolled back.
        if (st.doc === null) {
          return {
            outcome: "rejected",
            error: new StoreError(
              ErrorCode.notFound,
              "DOC_NOT_FOUND",
              `op ${i}: update ${q(op.c)} document: not found`,
              {
                op: i,
                field: "_id",
              },
            ),
          };
        }
        logged = st.pre + 1;
        update(st, st.doc, a.update, logged, ctx, i);
        break;
      case "remove": // SPEC §6.1: logs -(r + 1) from the pre-transaction revno; no tombstone.
        logged = -st.pre - 1;
        skipped = st.doc === null;
        st.doc = null;
        break;
    }
    st.running = logged;
    if (!skipped) st.changed = true;
    revnos[i] = logged;
    const ev = changeOf(ctx, st, logged, a.kind, skipped);
    if (ev !== undefined) changes[n++] = ev;
  }
  if (n !== changes.length) changes.length = n; // skipped ops not reported (a runtime call)
  return { outcome: "applied", revnos, changes, opStates };
}
