/**
 * Canonical map keys for `_id` values: two ids get the same key exactly when MongoDB considers
 * them equal (SPEC §1: ids compare as whole values; numbers by value across types).
 */
import { badInput } from "./errors.js";
import type { Value } from "./values.js";
import { Kind, UtcDate, kindOf, numericOf } from "./values.js";

function numberKey(x: number | bigint): string {
  if (typeof x === "bigint") return x.toString();
  if (Number.isNaN(x)) return "NaN";
  if (Number.isInteger(x)) return BigInt(x).toString();
  return String(x);
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}

function canon(v: Value): string {
  const k = kindOf(v);
  switch (k) {
    case Kind.string:
      return `s${(v as string).length}:${v as string}`;
    case Kind.int:
    case Kind.long:
    case Kind.double:
    case Kind.decimal:
      return `n${numberKey(numericOf(v))};`;
    case Kind.doc: {
      let s = "{";
      for (const [f, x] of v as Map<string, Value>) s += `${f.length}:${f}${canon(x)}`;
      return `${s}}`;
    }
    case Kind.array:
      return `[${(v as Value[]).map(canon).join("")}]`;
    case Kind.bool:
      return v === true ? "T" : "F";
    case Kind.null:
      return "z";
    case Kind.minKey:
      return "<";
    case Kind.maxKey:
      return ">";
    case Kind.date:
      return `d${(v as UtcDate).ms};`;
    case Kind.binary:
    case Kind.objectId:
    case Kind.regex:
    case Kind.timestamp:
      return opaqueKey(v);
  }
}

function opaqueKey(v: Value): string {
  if (v === null || typeof v !== "object" || v instanceof Map || Array.isArray(v)) return "?";
  if (v instanceof UtcDate) return "?";
  switch (v._bsontype) {
    case "ObjectId":
      return `o${hex(v.id)}`;
    case "Binary":
      return `b${v.sub_type}:${hex(v.value())};`;
    case "Timestamp":
      return `t${v.t}.${v.i};`;
    case "BSONRegExp":
      return `r${v.pattern.length}:${v.pattern}/${v.options};`;
    case "Decimal128":
    case "Double":
    case "MaxKey":
    case "MinKey":
      return "?";
  }
}

/** The map key of an `_id`. Strings (Juju's ids, SPEC §1) map to themselves. */
export function idKey(id: Value): string {
  if (typeof id === "string") return id.startsWith("\u0000") ? `\u0000${canon(id)}` : id;
  return `\u0000${canon(id)}`;
}

/** Checks that `id` may be a document `_id` (MongoDB rejects arrays, regexes; mgo/txn nil). */
export function checkId(id: Value, field: string): void {
  const k = kindOf(id);
  if (k === Kind.null || k === Kind.array || k === Kind.regex) {
    badInput("BAD_ID", `check ${field}: an _id cannot be ${k === Kind.null ? "null" : `a ${k}`}`, {
      field,
    });
  }
}
