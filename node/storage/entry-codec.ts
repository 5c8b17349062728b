/**
 * The binary encoding of a Raft log entry (key-format version 1):
 *
 *     u8 kind (0 normal, 1 confChange) | uvarint term | uvarint index
 *     normal:     uvarint len | data
 *     confChange: u8 transition | uvarint n | n × (u8 type | u64 nodeId) | uvarint len | context
 *
 * The index is stored in the value as well as in the key so that a value under the wrong key
 * is detected at open.
 */
import type {
  ConfChangeTransition,
  ConfChangeType,
  ConfChangeSingle,
  Entry,
} from "../raft/index.js";
import { Reader, Writer, uvarintSize } from "./codec.js";
import { StorageError, StorageErrorCode } from "./errors.js";

const transitions: readonly ConfChangeTransition[] = ["auto", "implicit", "explicit"];
const changeTypes: readonly ConfChangeType[] = ["addNode", "addLearner", "removeNode"];
const kindNormal = 0;

/** Returns the code of `value` in `table`; an unknown value is a caller bug (INVALID). */
function codeOf<T>(table: readonly T[], value: T, what: string): number {
  const code = table.indexOf(value);
  if (code < 0) {
    throw new StorageError(StorageErrorCode.Invalid, `cannot encode ${what} '${String(value)}'`);
  }
  return code;
}
const kindConfChange = 1;

/** Returns the exact encoded size of `e` in bytes. */
export function encodedEntrySize(e: Entry): number {
  const head = 1 + uvarintSize(e.term) + uvarintSize(e.index);
  if (e.type === "normal") return head + uvarintSize(e.data.length) + e.data.length;
  const c = e.change;
  return (
    head +
    1 +
    uvarintSize(c.changes.length) +
    9 * c.changes.length +
    uvarintSize(c.context.length) +
    c.context.length
  );
}

/** Encodes `e` (throws INVALID on a term, index or node id out of range). */
export function encodeEntry(e: Entry): Buffer {
  const w = new Writer(encodedEntrySize(e));
  writeEntry(w, e);
  return w.finish();
}

/** Writes `e` into `w` ({@link encodedEntrySize} bytes): records that embed entries use it. */
export function writeEntry(w: Writer, e: Entry): void {
  if (e.type === "normal") {
    w.u8(kindNormal);
    w.uvarint(e.term);
    w.uvarint(e.index);
    w.bytes(e.data);
  } else {
    w.u8(kindConfChange);
    w.uvarint(e.term);
    w.uvarint(e.index);
    w.u8(codeOf(transitions, e.change.transition, "conf change transition"));
    w.uvarint(e.change.changes.length);
    for (const c of e.change.changes) {
      w.u8(codeOf(changeTypes, c.type, "conf change type"));
      w.u64(c.nodeId);
    }
    w.bytes(e.change.context);
  }
}

/**
 * Decodes an entry; `what` names it in errors. Byte fields are views of `buf` (no copy), so the
 * caller must not reuse `buf`. Throws CORRUPT on any malformed input.
 */
export function decodeEntry(buf: Uint8Array, what = "entry"): Entry {
  const r = new Reader(buf, what);
  const e = readEntry(r);
  r.end();
  return e;
}

/** Reads one entry written by {@link writeEntry}; byte fields are views of the input. */
export function readEntry(r: Reader): Entry {
  const kind = r.u8();
  const term = r.uvarint();
  const index = r.uvarint();
  if (kind === kindNormal) return { type: "normal", term, index, data: r.bytes() };
  if (kind !== kindConfChange) return r.fail(`unknown entry kind ${kind}`);
  const transition = transitions[r.u8()] ?? r.fail("unknown conf change transition");
  const n = r.uvarint();
  const changes: ConfChangeSingle[] = [];
  for (let i = 0; i < n; i++) {
    const type = changeTypes[r.u8()] ?? r.fail(`unknown type of conf change ${i}`);
    changes.push({ type, nodeId: r.u64() });
  }
  return { type: "confChange", term, index, change: { transition, changes, context: r.bytes() } };
}
