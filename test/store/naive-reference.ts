/**
 * A deliberately naive reference implementation of client-side mgo/txn (SPEC §3, §6, §7) over a
 * small op vocabulary, written independently of node/store: plain objects, whole-state deep
 * copies, one pass per rule. Property tests compare the real store against it.
 */

/** A plain JS document (no `_id`, no `txn-revno`). */
export type PlainDoc = Record<string, unknown>;

/** The assert forms the generator produces. */
export type RefAssert =
  | "d+"
  | "d-"
  | { n: number }
  | { n: { $gt: number } }
  | { s: { $exists: boolean } }
  | { arr: number }
  | { "txn-revno": number }
  | { $or: [{ n: number }, { s: string }] };

/** The update forms the generator produces. */
export type RefUpdate =
  | { $set: { n: number } }
  | { $set: { s: string } }
  | { $inc: { n: number } }
  | { $unset: { s: 1 } }
  | { $push: { arr: number } }
  | { $pull: { arr: number } }
  | { $addToSet: { arr: number } }
  | { $set: { "sub.x": number } };

/** One op. */
export interface RefOp {
  c: string;
  _id: string;
  assert?: RefAssert;
  insert?: PlainDoc;
  update?: RefUpdate;
  remove?: true;
}

/** The reference outcome. */
export type RefOutcome =
  | { outcome: "applied"; revnos: (number | null)[] }
  | { outcome: "aborted"; op: number }
  | { outcome: "rejected"; op: number };

interface Entry {
  doc: PlainDoc | null;
  revno: number;
}

/** The naive store: key `c|id` -> document (or tombstone) and revno. */
export class NaiveStore {
  entries = new Map<string, Entry>();

  /** Applies a transaction, all or nothing. */
  apply(ops: RefOp[]): RefOutcome {
    const before = structuredClone(this.entries);
    // Pass 1: asserts (SPEC §3 step 4). DocMissing sees earlier ops' existence changes.
    const exists = new Map<string, boolean>();
    const existsNow = (k: string) => exists.get(k) ?? (before.get(k)?.doc ?? null) !== null;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (op === undefined) continue;
      const k = `${op.c}|${op._id}`;
      const pre = before.get(k);
      if (op.assert !== undefined) {
        let ok: boolean;
        if (op.assert === "d-") ok = !existsNow(k);
        else if (op.assert === "d+") ok = (pre?.doc ?? null) !== null;
        else
          ok = pre !== undefined && pre.doc !== null && queryMatches(pre.doc, pre.revno, op.assert);
        if (!ok) return { outcome: "aborted", op: i };
      }
      if (op.insert !== undefined) exists.set(k, true);
      if (op.remove === true && existsNow(k)) exists.set(k, false);
    }
    // Pass 2: apply on a copy (SPEC §3 step 5); a rejected update discards the copy (SPEC §7).
    const work = structuredClone(this.entries);
    const revnos: (number | null)[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (op === undefined) continue;
      const k = `${op.c}|${op._id}`;
      const e = work.get(k);
      const doc = e?.doc ?? null;
      if (op.insert !== undefined) {
        if (e !== undefined && doc !== null) revnos.push(e.revno);
        else {
          const r = e === undefined ? 2 : -e.revno + 1;
          work.set(k, { doc: structuredClone(op.insert), revno: r });
          revnos.push(r);
        }
      } else if (op.update !== undefined) {
        if (e === undefined || doc === null) revnos.push(e?.revno ?? -1);
        else {
          if (!applyUpdate(doc, op.update)) return { outcome: "rejected", op: i };
          e.revno += 1;
          revnos.push(e.revno);
        }
      } else if (op.remove === true) {
        if (e === undefined || doc === null) revnos.push(e?.revno ?? -1);
        else {
          e.doc = null;
          e.revno = -e.revno - 1;
          revnos.push(e.revno);
        }
      } else revnos.push(null);
    }
    this.entries = work;
    return { outcome: "applied", revnos };
  }
}

function queryMatches(doc: PlainDoc, revno: number, a: Exclude<RefAssert, "d+" | "d-">): boolean {
  if ("txn-revno" in a) return revno === a["txn-revno"];
  if ("$or" in a) return doc.n === a.$or[0].n || doc.s === a.$or[1].s;
  if ("arr" in a) return Array.isArray(doc.arr) && doc.arr.includes(a.arr);
  if ("s" in a) return "s" in doc === a.s.$exists;
  if (typeof a.n === "number") return doc.n === a.n;
  return typeof doc.n === "number" && doc.n > a.n.$gt;
}

/** Applies an update in place; false when MongoDB would reject it. */
function applyUpdate(doc: PlainDoc, u: RefUpdate): boolean {
  if ("$inc" in u) {
    if (!("n" in doc)) doc.n = u.$inc.n;
    else if (typeof doc.n !== "number") return false;
    else doc.n += u.$inc.n;
  } else if ("$unset" in u) delete doc.s;
  else if ("$push" in u || "$addToSet" in u || "$pull" in u) {
    const v = "$push" in u ? u.$push.arr : "$addToSet" in u ? u.$addToSet.arr : u.$pull.arr;
    if (!("arr" in doc)) {
      if (!("$pull" in u)) doc.arr = [v];
      return true;
    }
    if (!Array.isArray(doc.arr)) return false;
    const arr = doc.arr as unknown[];
    if ("$push" in u) arr.push(v);
    else if ("$addToSet" in u) {
      if (!arr.includes(v)) arr.push(v);
    } else doc.arr = arr.filter((x) => x !== v);
  } else if ("sub.x" in u.$set) {
    const sub = doc.sub;
    if (sub === undefined) doc.sub = { x: u.$set["sub.x"] };
    else if (typeof sub !== "object" || sub === null || Array.isArray(sub)) return false;
    else (sub as PlainDoc).x = u.$set["sub.x"];
  } else Object.assign(doc, u.$set);
  return true;
}
