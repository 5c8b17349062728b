/** Pieces of the mgo/txn dump format shared by mongodump reading and `juraft import`. */
import { REVNO_FIELD } from "./update-compile.js";
import type { Doc } from "./values.js";
import { isNumericKind, kindOf, numericOf } from "./values.js";

/** The mgo/txn side collection holding removed documents' revnos (SPEC §1). */
export const STASH = "txns.stash";

/** The txn-revno a dumped document carries (0 when it has none). */
export function revnoOf(d: Doc): number {
  const r = d.get(REVNO_FIELD);
  if (r === undefined || !isNumericKind(kindOf(r))) return 0;
  const n = Number(numericOf(r));
  return Number.isSafeInteger(n) ? n : 0;
}
