/**
 * Validation of a transaction's ops before anything happens (SPEC §2): every malformed op is a
 * coded `invalid_argument` error naming the op index and the field.
 */
import { MAX_BSON_SIZE, oversize } from "./bson-encode.js";
import { cachedAssert } from "./assert-cache.js";
import { badInput, q, StoreError } from "./errors.js";
import { checkId, idKey } from "./id-key.js";
import type { Matcher } from "./matcher.js";
import { compileFilter } from "./matcher.js";
import { toDoc, toDocInto, toValue } from "./normalize.js";
import type { CompiledUpdate } from "./update-compile.js";
import {
  checkStorable,
  checkedSizeBound,
  compileUpdateInput,
  REVNO_FIELD,
} from "./update-compile.js";
import type { Doc, Value } from "./values.js";

/** An op's precondition (SPEC §4.1). */
export type ParsedAssert =
  | { readonly type: "exists" }
  | { readonly type: "missing" }
  | { readonly type: "query"; readonly match: Matcher; readonly query: Doc };

/** What an op does (SPEC §2 "Combinations"). */
export type OpAction =
  | { readonly kind: "assert" }
  | { readonly kind: "insert"; readonly doc: Doc; readonly bound: number }
  | { readonly kind: "update"; readonly update: CompiledUpdate }
  | { readonly kind: "remove" };

/** A checked op. */
export interface ParsedOp {
  readonly c: string;
  readonly id: Value;
  /** Canonical key of `id` (see `idKey`). */
  readonly key: string;
  readonly assert: ParsedAssert | null;
  readonly action: OpAction;
}

/** The string form of `txn.DocExists` (SPEC §4.1). */
export const DOC_EXISTS = "d+";
/** The string form of `txn.DocMissing` (SPEC §4.1). */
export const DOC_MISSING = "d-";

export type FieldName = "c" | "_id" | "assert" | "insert" | "update" | "remove";
/** An op's fields by canonical name; `undefined` = absent (null values count as absent). */
type OpFields = Record<FieldName, unknown>;

/** The canonical name of an op field: long names and mgo/txn's BSON names (`c d a i u r`). */
export function fieldName(k: unknown): FieldName | undefined {
  // A switch on constants, not a lookup table: a keyed load with varying keys was ~3% of apply.
  switch (k) {
    case "c":
      return "c";
    case "_id":
    case "d":
    case "id":
      return "_id";
    case "assert":
    case "a":
      return "assert";
    case "insert":
    case "i":
      return "insert";
    case "update":
    case "u":
      return "update";
    case "remove":
    case "r":
      return "remove";
    default:
      return undefined;
  }
}

function addField(out: OpFields, k: unknown, v: unknown): void {
  const name = fieldName(k);
  if (name === undefined) {
    badInput("UNKNOWN_OP_FIELD", `parse op: unknown field ${q(String(k))}`, { field: String(k) });
  }
  if (out[name] !== undefined) {
    badInput("DUPLICATE_OP_FIELD", `parse op: field ${q(name)} given twice`, { field: name });
  }
  if (v !== undefined && v !== null) out[name] = v;
}

function opFields(input: unknown): OpFields {
  // A fixed-shape record, not a Map: one per op, and reading it is a field load.
  const out: OpFields = {
    c: undefined,
    _id: undefined,
    assert: undefined,
    insert: undefined,
    update: undefined,
    remove: undefined,
  };
  if (input instanceof Map) {
    const m = input as Map<unknown, unknown>;
    for (const k of m.keys()) addField(out, k, m.get(k));
  } else if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    const o = input as Record<string, unknown>;
    for (const k in o) if (Object.hasOwn(o, k)) addField(out, k, o[k]);
  } else badInput("BAD_OP", "parse op: an op must be a document");
  return out;
}

/** A checked collection name. */
export function parseCollection(c: unknown): string {
  if (typeof c !== "string" || c === "")
    return badInput("MISSING_C_OR_ID", "parse op: C or Id missing", { field: "c" });
  if (c.includes("\u0000") || c.includes("$") || c.startsWith("system.") || c.length > 200) {
    badInput("BAD_COLLECTION", `parse op: invalid collection name ${q(c)}`, {
      field: "c",
      mongoCode: 73,
    });
  }
  return c;
}

/** The two string asserts, shared (parsed asserts are immutable): one object fewer per op. */
const EXISTS: ParsedAssert = Object.freeze({ type: "exists" });
const MISSING: ParsedAssert = Object.freeze({ type: "missing" });

/** A checked assert (`undefined`: none). */
export function parseAssert(a: unknown): ParsedAssert | null {
  if (a === undefined) return null;
  if (a === DOC_EXISTS) return EXISTS;
  if (a === DOC_MISSING) return MISSING;
  if (typeof a === "string")
    return badInput("BAD_ASSERT", `parse assert: unknown assert ${q(a)}`, { field: "assert" });
  return cachedAssert(a, () => {
    const query = toDoc(a, "assert");
    // SPEC §4.1: the runner wraps the assert in $or, so any filter document is accepted.
    return { type: "query", match: compileFilter(query, "assert"), query };
  });
}

/** The stored form of an insert payload (SPEC §2): `_id` first, payload order, `txn-revno`. */
function parseInsert(payload: unknown, id: Value): OpAction {
  const doc: Doc = new Map();
  doc.set("_id", id);
  toDocInto(doc, payload, "insert"); // a payload `_id` lands in first place, and is replaced:
  return insertAction(doc, id);
}

/**
 * The insert action of `doc`, the payload's fields after the op's `_id` (which a payload `_id`
 * replaced): the op's `_id` is stamped in, the revno added, the size checked.
 */
export function insertAction(doc: Doc, id: Value): OpAction {
  doc.set("_id", id); // the op's `_id` is the document's (SPEC §2)
  if (!doc.has(REVNO_FIELD)) doc.set(REVNO_FIELD, 0n);
  const bound = checkedSizeBound(doc, "insert") + 16; // + the revno stamped in at apply (int64)
  const size = bound <= MAX_BSON_SIZE ? 0 : oversize(doc);
  if (size > 0) {
    badInput(
      "DOCUMENT_TOO_LARGE",
      `parse insert: document of ${size} bytes exceeds ${MAX_BSON_SIZE}`,
      {
        field: "insert",
        mongoCode: 10334,
      },
    );
  }
  return { kind: "insert", doc, bound };
}

function parseRemove(r: unknown): boolean {
  if (r === undefined || r === false) return false;
  if (r === true) return true;
  return badInput("BAD_REMOVE", "parse remove: must be a boolean", { field: "remove" });
}

/** The value-free actions, shared (parsed actions are immutable). */
export const REMOVE: OpAction = Object.freeze({ kind: "remove" });
export const ASSERT_ONLY: OpAction = Object.freeze({ kind: "assert" });

function parseAction(f: OpFields, id: Value): OpAction {
  const remove = parseRemove(f.remove);
  const n = (f.insert !== undefined ? 1 : 0) + (f.update !== undefined ? 1 : 0) + (remove ? 1 : 0);
  if (n > 1) badInput("MULTIPLE_ACTIONS", "parse op: more than one of Insert/Update/Remove set");
  if (n === 0 && f.assert === undefined)
    badInput("NO_ACTION", "parse op: none of Assert/Insert/Update/Remove set");
  if (f.insert !== undefined) return parseInsert(f.insert, id);
  if (f.update !== undefined)
    return { kind: "update", update: compileUpdateInput(f.update, "update") };
  return remove ? REMOVE : ASSERT_ONLY;
}

/** Validates one op (SPEC §2); errors are not yet attributed to an op index. */
function parseOp(input: unknown): ParsedOp {
  const f = opFields(input);
  const c = parseCollection(f.c);
  if (f._id === undefined)
    badInput("MISSING_C_OR_ID", "parse op: C or Id missing", { field: "_id" });
  const id = toValue(f._id, "_id", 2);
  checkId(id, "_id");
  checkStorable(id, "_id");
  const assert = parseAssert(f.assert);
  const action = parseAction(f, id);
  if (action.kind === "insert" && assert !== null && assert.type !== "missing") {
    badInput(
      "INSERT_ASSERT",
      `parse op: Insert can only Assert txn.DocMissing not ${assert.type === "exists" ? "txn.DocExists" : "a query"}`,
      {
        field: "assert",
      },
    );
  }
  return { c, id, key: idKey(id), assert, action };
}

/** Validates a transaction's ops (SPEC §2); throws a coded {@link StoreError} naming the op. */
export function parseOps(ops: unknown): ParsedOp[] {
  if (!Array.isArray(ops))
    return badInput("BAD_OPS", "parse transaction: ops must be a list", { field: "ops" });
  const out = new Array<ParsedOp>(ops.length);
  for (let i = 0; i < ops.length; i++) {
    try {
      out[i] = parseOp(ops[i]);
    } catch (e) {
      if (e instanceof StoreError) throw e.atOp(i);
      if (e instanceof RangeError)
        throw new StoreError(
          "invalid_argument",
          "BAD_OP",
          `op ${i}: parse op: input too deep or too large`,
          { op: i },
        );
      throw e;
    }
  }
  return out;
}
