/**
 * Canonical Extended JSON v2 (MongoDB's `canonical` mode) for dumps and debugging output.
 */
import type { Value } from "./values.js";
import { Kind, UtcDate, kindOf } from "./values.js";

function doubleText(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (Object.is(x, -0)) return "-0.0";
  const s = String(x);
  return Number.isInteger(x) && !s.includes("e") ? `${s}.0` : s;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}

/** Serialises a value as canonical Extended JSON (type-preserving). */
export function toCanonicalExtJson(v: Value): string {
  const k = kindOf(v);
  switch (k) {
    case Kind.string:
    case Kind.bool:
    case Kind.null:
      return JSON.stringify(v);
    case Kind.int:
      return `{"$numberInt":"${(v as number).toString()}"}`;
    case Kind.long:
      return `{"$numberLong":"${(v as bigint).toString()}"}`;
    case Kind.doc: {
      const parts: string[] = [];
      for (const [f, x] of v as Map<string, Value>)
        parts.push(`${JSON.stringify(f)}:${toCanonicalExtJson(x)}`);
      return `{${parts.join(",")}}`;
    }
    case Kind.array:
      return `[${(v as Value[]).map(toCanonicalExtJson).join(",")}]`;
    case Kind.date:
      return `{"$date":{"$numberLong":"${String((v as UtcDate).ms)}"}}`;
    case Kind.minKey:
      return '{"$minKey":1}';
    case Kind.maxKey:
      return '{"$maxKey":1}';
    case Kind.double:
    case Kind.decimal:
    case Kind.binary:
    case Kind.objectId:
    case Kind.regex:
    case Kind.timestamp:
      return opaque(v);
  }
}

function opaque(v: Value): string {
  if (typeof v === "number") return `{"$numberDouble":"${doubleText(v)}"}`;
  if (
    v === null ||
    typeof v !== "object" ||
    v instanceof Map ||
    Array.isArray(v) ||
    v instanceof UtcDate
  )
    return "null";
  switch (v._bsontype) {
    case "Double":
      return `{"$numberDouble":"${doubleText(v.value)}"}`;
    case "Decimal128":
      return `{"$numberDecimal":"${v.toString()}"}`;
    case "Binary":
      return `{"$binary":{"base64":"${base64(v.value())}","subType":"${v.sub_type.toString(16).padStart(2, "0")}"}}`;
    case "ObjectId":
      return `{"$oid":"${hex(v.id)}"}`;
    case "BSONRegExp":
      return `{"$regularExpression":{"pattern":${JSON.stringify(v.pattern)},"options":${JSON.stringify(v.options)}}}`;
    case "Timestamp":
      return `{"$timestamp":{"t":${v.t},"i":${v.i}}}`;
    case "MinKey":
    case "MaxKey":
      return "null";
  }
}
