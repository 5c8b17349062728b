/**
 * Leaf predicates of the query operators (SPEC §4.2): each tests one value (or "missing").
 */
import { BSONRegExp } from "bson";
import { bracketOf, compareValues, valuesEqual } from "./compare.js";
import { badInput, q } from "./errors.js";
import type { LeafPred } from "./path.js";
import { compileBsonRegex } from "./regex.js";
import type { Value } from "./values.js";
import { Kind, isNumericKind, kindOf, numericOf } from "./values.js";

/** Equality (SPEC §4.2 "Equality", "Value equality"): `null` also matches a missing field. */
export function eqPred(x: Value): LeafPred {
  if (x === null) return (v) => v === undefined || v === null;
  if (typeof x === "string") return (v) => v === x;
  if (typeof x === "boolean") return (v) => v === x;
  if (typeof x === "number" && !Number.isNaN(x)) {
    return (v) =>
      v === x ||
      (v !== undefined && typeof v !== "string" && typeof v !== "boolean" && valuesEqual(v, x));
  }
  return (v) => v !== undefined && valuesEqual(v, x);
}

/** A regex match: strings matching the pattern, or an equal regex value (SPEC §4.2 "Regex"). */
export function regexPred(r: BSONRegExp, field: string): LeafPred {
  const re = compileBsonRegex(r, field);
  return (v) =>
    typeof v === "string"
      ? re.test(v)
      : v instanceof BSONRegExp && v.pattern === r.pattern && v.options === r.options;
}

/** The comparison operators. */
export const Comparison = { gt: "$gt", gte: "$gte", lt: "$lt", lte: "$lte" } as const;
/** One of {@link Comparison}. */
export type Comparison = (typeof Comparison)[keyof typeof Comparison];

/** `$gt` `$gte` `$lt` `$lte`: only within the operand's type bracket (SPEC §4.2). */
export function cmpPred(op: Comparison, x: Value): LeafPred {
  const inclusive = op === Comparison.gte || op === Comparison.lte;
  if (x === null) return inclusive ? (v) => v === undefined || v === null : () => false;
  const bracket = bracketOf(x);
  const test = (c: number): boolean => {
    switch (op) {
      case Comparison.gt:
        return c > 0;
      case Comparison.gte:
        return c >= 0;
      case Comparison.lt:
        return c < 0;
      case Comparison.lte:
        return c <= 0;
    }
  };
  return (v) => v !== undefined && bracketOf(v) === bracket && test(compareValues(v, x));
}

/** `$in` (SPEC §4.2): any listed value equals, listed regexes match, `null` matches missing. */
export function inPred(list: Value, field: string): LeafPred {
  if (!Array.isArray(list)) {
    return badInput("BAD_OPERAND", `parse $in at ${q(field)}: needs an array`, { field });
  }
  const strings = new Set<string>();
  const others: LeafPred[] = [];
  for (const x of list) {
    if (typeof x === "string") strings.add(x);
    else if (x instanceof BSONRegExp) others.push(regexPred(x, field));
    else if (x instanceof Map && [...x.keys()].some((k) => k.startsWith("$"))) {
      badInput("BAD_OPERAND", `parse $in at ${q(field)}: cannot nest operators`, { field });
    } else others.push(eqPred(x));
  }
  return (v) => (typeof v === "string" && strings.has(v)) || others.some((p) => p(v));
}

/** `$exists` (SPEC §4.2): truthy operand means "the path resolves to something". */
export function existsPred(x: Value): LeafPred {
  const want = !(x === false || x === null || (typeof x === "number" && x === 0) || x === 0n);
  return want ? (v) => v !== undefined : (v) => v === undefined;
}

/** `$size` (SPEC §4.2): arrays of exactly that length only. */
export function sizePred(x: Value, field: string): LeafPred {
  const n = isNumericKind(kindOf(x)) ? Number(numericOf(x)) : Number.NaN;
  if (!Number.isInteger(n) || n < 0) {
    badInput("BAD_OPERAND", `parse $size at ${q(field)}: needs a non-negative whole number`, {
      field,
    });
  }
  return (v) => Array.isArray(v) && v.length === n;
}

/** `$mod: [divisor, remainder]` on numbers (truncating, as MongoDB does). */
export function modPred(x: Value, field: string): LeafPred {
  const ok = Array.isArray(x) && x.length === 2 && x.every((e) => isNumericKind(kindOf(e)));
  const d = ok ? Math.trunc(Number(numericOf(x[0] ?? null))) : 0;
  if (!ok || d === 0 || !Number.isFinite(d)) {
    badInput("BAD_OPERAND", `parse $mod at ${q(field)}: needs [non-zero divisor, remainder]`, {
      field,
    });
  }
  const r = Math.trunc(Number(numericOf(x[1] ?? null)));
  return (v) => {
    if (v === undefined || !isNumericKind(kindOf(v))) return false;
    const n = Number(numericOf(v));
    return Number.isFinite(n) && Math.trunc(n) % d === r;
  };
}

const TYPE_ALIASES: Record<string, Kind | "number"> = {
  double: Kind.double,
  string: Kind.string,
  object: Kind.doc,
  array: Kind.array,
  binData: Kind.binary,
  objectId: Kind.objectId,
  bool: Kind.bool,
  date: Kind.date,
  null: Kind.null,
  regex: Kind.regex,
  int: Kind.int,
  timestamp: Kind.timestamp,
  long: Kind.long,
  decimal: Kind.decimal,
  minKey: Kind.minKey,
  maxKey: Kind.maxKey,
  number: "number",
};
const TYPE_NUMBERS: Record<number, string> = {
  1: "double",
  2: "string",
  3: "object",
  4: "array",
  5: "binData",
  7: "objectId",
  8: "bool",
  9: "date",
  10: "null",
  11: "regex",
  16: "int",
  17: "timestamp",
  18: "long",
  19: "decimal",
  [-1]: "minKey",
  127: "maxKey",
};

/** `$type` with BSON type numbers or aliases (including "number"). */
export function typePred(x: Value, field: string): LeafPred {
  const list = Array.isArray(x) ? x : [x];
  const kinds = new Set<Kind | "number">();
  for (const t of list) {
    const alias =
      typeof t === "string"
        ? t
        : isNumericKind(kindOf(t))
          ? TYPE_NUMBERS[Number(numericOf(t))]
          : undefined;
    const kind = alias === undefined ? undefined : TYPE_ALIASES[alias];
    if (kind === undefined) {
      badInput("BAD_OPERAND", `parse $type at ${q(field)}: unknown type`, { field });
    }
    kinds.add(kind);
  }
  return (v) => {
    if (v === undefined) return false;
    const k = kindOf(v);
    return kinds.has(k) || (kinds.has("number") && isNumericKind(k));
  };
}
