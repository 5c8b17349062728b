/**
 * MongoDB's value equality and total order (SPEC §4.2: numbers compare by value across
 * int32/int64/double/decimal; documents field by field in order; cross-type order by bracket).
 */
import type { Doc, Value } from "./values.js";
import { Kind, UtcDate, kindOf, numericOf } from "./values.js";

/** MongoDB's canonical type order (the "type bracket" of SPEC §4.2 comparisons). */
const BRACKET: Record<Kind, number> = {
  minKey: 1,
  null: 2,
  int: 3,
  long: 3,
  double: 3,
  decimal: 3,
  string: 4,
  doc: 5,
  array: 6,
  binary: 7,
  objectId: 8,
  bool: 9,
  date: 10,
  timestamp: 11,
  regex: 12,
  maxKey: 13,
};

/** The comparison bracket of a value (values compare with `$gt` etc. only within one bracket). */
export function bracketOf(v: Value): number {
  if (typeof v === "string") return 4;
  if (typeof v === "number") return 3;
  return BRACKET[kindOf(v)];
}

/** Compares two numbers exactly (NaN equals NaN and sorts below every other number). */
export function compareNumbers(a: number | bigint, b: number | bigint): number {
  const aNaN = typeof a === "number" && Number.isNaN(a);
  const bNaN = typeof b === "number" && Number.isNaN(b);
  if (aNaN || bNaN) return aNaN && bNaN ? 0 : aNaN ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareStrings(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareDocs(a: Doc, b: Doc): number {
  const ia = a.entries();
  const ib = b.entries();
  for (;;) {
    const ea = ia.next();
    const eb = ib.next();
    if (ea.done === true || eb.done === true) {
      return ea.done === true ? (eb.done === true ? 0 : -1) : 1;
    }
    const [ka, va] = ea.value;
    const [kb, vb] = eb.value;
    const byType = bracketOf(va) - bracketOf(vb);
    if (byType !== 0) return byType < 0 ? -1 : 1;
    const byName = compareStrings(ka, kb);
    if (byName !== 0) return byName;
    const byValue = compareValues(va, vb);
    if (byValue !== 0) return byValue;
  }
}

function compareArrays(a: readonly Value[], b: readonly Value[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i] ?? null, b[i] ?? null);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** MongoDB's total order over BSON values: bracket first, then value (used by sort, $min, $max). */
export function compareValues(a: Value, b: Value): number {
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  const ka = kindOf(a);
  const kb = kindOf(b);
  const byBracket = BRACKET[ka] - BRACKET[kb];
  if (byBracket !== 0) return byBracket < 0 ? -1 : 1;
  return compareSameBracket(a, b, ka);
}

function compareSameBracket(a: Value, b: Value, k: Kind): number {
  switch (k) {
    case Kind.minKey:
    case Kind.maxKey:
    case Kind.null:
      return 0;
    case Kind.int:
    case Kind.long:
    case Kind.double:
    case Kind.decimal:
      return compareNumbers(numericOf(a), numericOf(b));
    case Kind.string:
      return compareStrings(a as string, b as string);
    case Kind.doc:
      return compareDocs(a as Doc, b as Doc);
    case Kind.array:
      return compareArrays(a as Value[], b as Value[]);
    case Kind.bool:
      return a === b ? 0 : a === false ? -1 : 1;
    case Kind.date:
      return compareNumbers((a as UtcDate).ms, (b as UtcDate).ms);
    case Kind.binary:
    case Kind.objectId:
    case Kind.regex:
    case Kind.timestamp:
      return compareOpaque(a, b, k);
  }
}

function compareOpaque(a: Value, b: Value, k: Kind): number {
  const x = a as Exclude<Value, string | number | boolean | bigint | null | Doc | Value[]>;
  const y = b as typeof x;
  if (x instanceof UtcDate || y instanceof UtcDate) return 0;
  if (x._bsontype === "ObjectId" && y._bsontype === "ObjectId") return compareBytes(x.id, y.id);
  if (x._bsontype === "Binary" && y._bsontype === "Binary") {
    const byLen = x.position - y.position;
    if (byLen !== 0) return byLen < 0 ? -1 : 1;
    if (x.sub_type !== y.sub_type) return x.sub_type < y.sub_type ? -1 : 1;
    return compareBytes(x.value(), y.value());
  }
  if (x._bsontype === "Timestamp" && y._bsontype === "Timestamp") {
    return compareNumbers(x.t, y.t) || compareNumbers(x.i, y.i);
  }
  if (x._bsontype === "BSONRegExp" && y._bsontype === "BSONRegExp") {
    return compareStrings(x.pattern, y.pattern) || compareStrings(x.options, y.options);
  }
  throw new TypeError(`compare values: unexpected kind ${JSON.stringify(k)}`);
}

/** MongoDB value equality (SPEC §4.2): numeric across types, documents ordered, arrays exact. */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta === "string" || ta === "boolean" || typeof b === "string" || typeof b === "boolean") {
    return false;
  }
  if (ta === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  return compareValues(a, b) === 0;
}
