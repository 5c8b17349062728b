/**
 * A transaction's ops read straight from the BSON bytes of its `{ops: [...]}` entry into parsed
 * ops: what every node does with every committed entry (node/cluster/runtime.ts), and the leader
 * with every write it validates (node/api/apply.ts). Decoding the whole entry into Maps and then
 * parsing those was about half of a node's apply time (README, store section): here no Map is
 * built for the entry, an op, an assert that was seen before (looked up by its bytes) or an
 * update of a known shape (its shape walked from the bytes), only for the values that are kept.
 *
 * It is only a fast path. It either returns exactly what `parseOps(decodeDoc(bytes).get("ops"))`
 * returns, or undefined, and then the caller takes that general path, which also reports any
 * error: the same checks run on the same values here (a decoded value is already in the store's
 * value model, which `toValue` would copy unchanged), so both accept exactly the same entries.
 */
import {
  Reader,
  closeDoc,
  int32,
  openDoc,
  readDoc,
  readString,
  readValue,
  zeroAt,
} from "./bson-decode.js";
import { StoreError } from "./errors.js";
import { checkId, idKey } from "./id-key.js";
import type { ParsedAssert, OpAction, ParsedOp } from "./txn-parse.js";
import {
  ASSERT_ONLY,
  DOC_EXISTS,
  DOC_MISSING,
  REMOVE,
  fieldName,
  insertAction,
  parseAssert,
  parseCollection,
} from "./txn-parse.js";
import {
  checkStorable,
  compileUpdateInput,
  instantiateShape,
  shapeRoot,
} from "./update-compile.js";
import type { CompiledUpdate, ShapeNode } from "./update-compile.js";
import type { Doc, Value } from "./values.js";

// BSON element types read here (bsonspec.org).
const STRING = 0x02;
const DOCUMENT = 0x03;
const ARRAY = 0x04;
const BOOLEAN = 0x08;
const NULL = 0x0a;

// Nesting depths as decodeDoc counts them (the entry is 1), so depth limits apply alike.
const OP_DEPTH = 3;
const PAYLOAD_DEPTH = 4;

/**
 * The parsed ops of an entry's `{ops: [...]}` BSON bytes, or undefined when this fast path does
 * not take them (malformed or unusual input included): then `parseOps(decodeDoc(bytes).get("ops"))`
 * gives the answer, or the error.
 */
export function parseOpsBson(bytes: Uint8Array): ParsedOp[] | undefined {
  try {
    return readOps(new Reader(bytes, 0));
  } catch (e) {
    // A coded error (bad bytes, a bad op) is not reported from here: the general path reports
    // it, with its own attribution to an op. Anything else is a bug and propagates.
    if (e instanceof StoreError || e instanceof RangeError) return undefined;
    throw e;
  }
}

function readOps(r: Reader): ParsedOp[] | undefined {
  const b = r.bytes;
  const last = openDoc(r, b.length, 1);
  if (b[r.pos++] !== ARRAY || r.cstring(last) !== "ops") return undefined;
  const end = openDoc(r, last, 2);
  const out: ParsedOp[] = [];
  while (r.pos < end) {
    const type = b[r.pos++];
    r.pos = zeroAt(b, r.pos, end) + 1; // the key ("0", "1", ...) is not used
    if (type !== DOCUMENT) return undefined;
    const op = readOp(r, end);
    if (op === undefined) return undefined;
    out.push(op);
  }
  closeDoc(r, end);
  closeDoc(r, last); // only the `ops` field
  return r.pos === b.length ? out : undefined;
}

/** One op, its fields in any order; undefined for anything the general path should judge. */
function readOp(r: Reader, limit: number): ParsedOp | undefined {
  const b = r.bytes;
  const last = openDoc(r, limit, OP_DEPTH);
  let c: string | undefined;
  let id: Value | undefined;
  let assert: ParsedAssert | null | undefined;
  let action: OpAction | undefined;
  let remove: boolean | undefined;
  while (r.pos < last) {
    const type = b[r.pos++] as number;
    const name = fieldName(r.cstring(last));
    if (type === NULL) return undefined; // a null field counts as absent there
    switch (name) {
      case "c":
        if (c !== undefined || type !== STRING) return undefined;
        c = readString(r, last);
        break;
      case "_id":
        if (id !== undefined) return undefined;
        id = readValue(r, type, last, OP_DEPTH);
        break;
      case "assert":
        if (assert !== undefined) return undefined;
        assert = readAssert(r, type, last);
        if (assert === undefined) return undefined;
        break;
      case "insert":
        // The op's `_id` goes first in the stored document: expected before its payload.
        if (action !== undefined || id === undefined || type !== DOCUMENT) return undefined;
        action = readInsert(r, last, id);
        break;
      case "update":
        if (action !== undefined || type !== DOCUMENT) return undefined;
        action = { kind: "update", update: readUpdate(r, last) };
        break;
      case "remove":
        if (remove !== undefined || type !== BOOLEAN) return undefined;
        remove = readValue(r, type, last, OP_DEPTH) === true;
        break;
      case undefined:
        return undefined;
    }
  }
  closeDoc(r, last);
  return finishOp(c, id, assert ?? null, action, remove === true);
}

/** The checks of `parseOp` (txn-parse.ts) on fields read from bytes. */
function finishOp(
  c: string | undefined,
  id: Value | undefined,
  assert: ParsedAssert | null,
  action: OpAction | undefined,
  remove: boolean,
): ParsedOp | undefined {
  if (c === undefined || id === undefined) return undefined;
  parseCollection(c);
  checkId(id, "_id");
  checkStorable(id, "_id");
  if (remove && action !== undefined) return undefined; // more than one action
  if (action === undefined && !remove && assert === null) return undefined; // none
  if (action?.kind === "insert" && assert !== null && assert.type !== "missing") return undefined;
  return { c, id, key: idKey(id), assert, action: action ?? (remove ? REMOVE : ASSERT_ONLY) };
}

/** Slots of the table of assert documents by their bytes (a power of two). */
const ASSERT_SLOTS = 4096;
/** Assert documents up to this many bytes are remembered by their bytes. */
const MAX_ASSERT_BYTES = 256;
/**
 * A direct-mapped table of compiled query asserts by their exact BSON bytes: `{"txn-revno": N}`,
 * `{life: {$ne: 2}}` and `{version: N}` repeat across entries. Equal bytes decode to equal
 * documents, which parse to equal asserts (assert-cache.ts shares them anyway), so a hit needs
 * neither the document nor the Maps of its decoding. Only bytes that parsed cleanly are stored.
 */
const assertKeys = new Array<Uint8Array | undefined>(ASSERT_SLOTS).fill(undefined);
const assertValues = new Array<ParsedAssert | undefined>(ASSERT_SLOTS).fill(undefined);

function readAssert(r: Reader, type: number, limit: number): ParsedAssert | null | undefined {
  if (type === STRING) {
    const s = readString(r, limit);
    return s === DOC_EXISTS || s === DOC_MISSING ? parseAssert(s) : undefined;
  }
  if (type !== DOCUMENT) return undefined;
  const b = r.bytes;
  const start = r.pos;
  r.need(4, limit);
  const end = start + int32(b, start);
  if (end > start + 4 && end <= limit && end - start <= MAX_ASSERT_BYTES) {
    let h = 0x811c9dc5; // FNV-1a
    for (let i = start; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
    const slot = (h >>> 0) & (ASSERT_SLOTS - 1);
    const key = assertKeys[slot];
    if (key?.length === end - start && sameBytes(key, b, start)) {
      r.pos = end;
      return assertValues[slot];
    }
    const a = parseAssert(readDoc(r, limit, PAYLOAD_DEPTH));
    assertKeys[slot] = b.slice(start, end);
    assertValues[slot] = a ?? undefined;
    return a;
  }
  return parseAssert(readDoc(r, limit, PAYLOAD_DEPTH));
}

function sameBytes(key: Uint8Array, b: Uint8Array, at: number): boolean {
  for (let i = 0; i < key.length; i++) if (key[i] !== b[at + i]) return false;
  return true;
}

/** An insert payload read into the stored document (`_id` first, as `parseInsert` builds it). */
function readInsert(r: Reader, limit: number, id: Value): OpAction {
  const b = r.bytes;
  const last = openDoc(r, limit, PAYLOAD_DEPTH);
  const doc: Doc = new Map();
  doc.set("_id", id);
  while (r.pos < last) {
    const type = b[r.pos++] as number;
    const key = r.cstring(last);
    doc.set(key, readValue(r, type, last, PAYLOAD_DEPTH));
  }
  closeDoc(r, last);
  return insertAction(doc, id);
}

/**
 * An update: its shape (operators and paths) walked in the shape trie while its operand values
 * are read; an unknown shape is decoded and compiled as the general path does (which caches it).
 */
function readUpdate(r: Reader, limit: number): CompiledUpdate {
  const b = r.bytes;
  const start = r.pos;
  const last = openDoc(r, limit, PAYLOAD_DEPTH);
  let node: ShapeNode | undefined = shapeRoot("update");
  const values: Value[] = [];
  while (r.pos < last && node !== undefined) {
    const type = b[r.pos++];
    const op = r.cstring(last);
    if (type !== DOCUMENT || op === "$rename") break; // never cached (update-compile.ts)
    node = node.ops.get(op);
    const end = openDoc(r, last, PAYLOAD_DEPTH + 1);
    while (r.pos < end) {
      const t = b[r.pos++] as number;
      const path = r.cstring(end);
      node = node?.paths.get(path);
      values.push(readValue(r, t, end, PAYLOAD_DEPTH + 1));
    }
    closeDoc(r, end);
  }
  if (r.pos === last) {
    closeDoc(r, last);
    const known = instantiateShape(node, values);
    if (known !== undefined) return known;
  }
  r.pos = start;
  return compileUpdateInput(readDoc(r, limit, PAYLOAD_DEPTH), "update");
}
