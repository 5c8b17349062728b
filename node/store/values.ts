/**
 * The store's value model: the BSON types a document can hold, as plain TypeScript values.
 *
 * - BSON int32 is a JS `number` that is an integer in int32 range (and not -0); every other
 *   `number` is a BSON double. An integral double in int32 range is boxed as bson's `Double` so
 *   that its type survives (SPEC §4.2: types matter for $inc results, not for equality).
 * - BSON int64 is a `bigint`; datetime is {@link UtcDate}; documents are `Map`s, so field order
 *   is exact even for integer-like field names (SPEC §4.2: embedded-document equality is
 *   order-sensitive).
 */
import type { BSONRegExp, Binary, Decimal128, MaxKey, MinKey, ObjectId, Timestamp } from "bson";
import { Double } from "bson";

/** A BSON datetime: milliseconds since the Unix epoch (int64). Immutable. */
export class UtcDate {
  /** Milliseconds since the epoch. */
  readonly ms: bigint;
  /** Wraps `ms` (an int64) as a datetime. */
  constructor(ms: bigint) {
    this.ms = ms;
  }
}

/** A BSON value as the store holds it. Documents and arrays are never mutated once stored. */
export type Value =
  | null
  | boolean
  | number
  | bigint
  | string
  | Double
  | UtcDate
  | ObjectId
  | Binary
  | Decimal128
  | Timestamp
  | BSONRegExp
  | MinKey
  | MaxKey
  | Doc
  | Value[];

/** A BSON document: an ordered map of field name to value. */
export type Doc = Map<string, Value>;

/** The BSON type of a value, at the granularity the matcher and update operators need. */
export const Kind = {
  minKey: "minKey",
  null: "null",
  int: "int",
  long: "long",
  double: "double",
  decimal: "decimal",
  string: "string",
  doc: "doc",
  array: "array",
  binary: "binary",
  objectId: "objectId",
  bool: "bool",
  date: "date",
  timestamp: "timestamp",
  regex: "regex",
  maxKey: "maxKey",
} as const;
/** One of {@link Kind}. */
export type Kind = (typeof Kind)[keyof typeof Kind];

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** True when a JS number is stored as BSON int32 (integral, in range, not -0). */
export function isInt32Number(x: number): boolean {
  return Number.isInteger(x) && x >= INT32_MIN && x <= INT32_MAX && !Object.is(x, -0);
}

/** Returns `x` as a BSON double value (boxed in `Double` when a bare number would read as int32). */
export function makeDouble(x: number): number | Double {
  return isInt32Number(x) ? new Double(x) : x;
}

/** The BSON kind of a stored value. */
export function kindOf(v: Value): Kind {
  switch (typeof v) {
    case "string":
      return Kind.string;
    case "number":
      return isInt32Number(v) ? Kind.int : Kind.double;
    case "boolean":
      return Kind.bool;
    case "bigint":
      return Kind.long;
    case "object":
      return objectKind(v);
    case "undefined":
    case "function":
    case "symbol":
      throw new TypeError(`kindOf: ${typeof v} is not a BSON value`);
  }
}

function objectKind(v: Exclude<Value, string | number | boolean | bigint>): Kind {
  if (v === null) return Kind.null;
  if (v instanceof Map) return Kind.doc;
  if (Array.isArray(v)) return Kind.array;
  if (v instanceof UtcDate) return Kind.date;
  switch (v._bsontype) {
    case "Double":
      return Kind.double;
    case "ObjectId":
      return Kind.objectId;
    case "Binary":
      return Kind.binary;
    case "Decimal128":
      return Kind.decimal;
    case "Timestamp":
      return Kind.timestamp;
    case "BSONRegExp":
      return Kind.regex;
    case "MinKey":
      return Kind.minKey;
    case "MaxKey":
      return Kind.maxKey;
  }
}

/** True for the four numeric kinds. */
export function isNumericKind(k: Kind): boolean {
  return k === Kind.int || k === Kind.long || k === Kind.double || k === Kind.decimal;
}

/** True when `v` is a document (a `Map`). */
export function isDoc(v: Value | undefined): v is Doc {
  return v instanceof Map;
}

/** The numeric value of a numeric `Value` as a JS number or bigint (decimals are approximated). */
export function numericOf(v: Value): number | bigint {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (v !== null && typeof v === "object" && !(v instanceof Map) && !Array.isArray(v)) {
    if (v instanceof UtcDate) return Number.NaN;
    if (v._bsontype === "Double") return v.value;
    if (v._bsontype === "Decimal128") return Number(v.toString());
  }
  return Number.NaN;
}

/** A human-readable BSON type name, as MongoDB's error messages spell it. */
export function typeName(v: Value | undefined): string {
  if (v === undefined) return "missing";
  const k = kindOf(v);
  return k === Kind.doc ? "object" : k;
}
