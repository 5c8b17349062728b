/**
 * The query matcher (SPEC §4): compiles a MongoDB filter document once into a predicate over
 * documents. It serves both transaction asserts (§4.1) and `find` filters.
 */
import { BSONRegExp } from "bson";
import { badInput, q } from "./errors.js";
import {
  cmpPred,
  eqPred,
  existsPred,
  inPred,
  modPred,
  regexPred,
  sizePred,
  typePred,
} from "./matcher-preds.js";
import type { LeafPred } from "./path.js";
import { anyAtPath, splitPath } from "./path.js";
import type { Doc, Value } from "./values.js";

/** A compiled filter: true when the document matches. */
export type Matcher = (doc: Doc) => boolean;

/** A compiled expression applied from a root value (a document, or an array element). */
type RootMatcher = (root: Value | undefined) => boolean;

const UNSUPPORTED = new Set([
  "$where",
  "$expr",
  "$text",
  "$jsonSchema",
  "$geoWithin",
  "$geoIntersects",
  "$near",
  "$nearSphere",
  "$bitsAllSet",
  "$bitsAnySet",
  "$bitsAllClear",
  "$bitsAnyClear",
  "$sampleRate",
]);

function unknownOperator(op: string, field: string): never {
  if (UNSUPPORTED.has(op)) {
    return badInput(
      "UNSUPPORTED_OPERATOR",
      `parse query at ${q(field)}: ${q(op)} is not supported`,
      {
        field,
        mongoCode: 2,
      },
    );
  }
  return badInput("UNKNOWN_OPERATOR", `parse query at ${q(field)}: unknown operator ${q(op)}`, {
    field,
    mongoCode: 2,
  });
}

/** Compiles a filter document (SPEC §4.2); throws a coded error naming `field` when malformed. */
export function compileFilter(filter: Doc, field: string): Matcher {
  return compileQuery(filter, field); // a document is a root value: no wrapper call per match
}

function compileQuery(filter: Doc, field: string): RootMatcher {
  const clauses: RootMatcher[] = [];
  for (const [key, value] of filter) {
    const at = field === "" ? key : `${field}.${key}`;
    if (key.startsWith("$")) {
      const m = compileLogical(key, value, at);
      if (m !== null) clauses.push(m);
    } else {
      clauses.push(compileFieldExpr(splitPath(key, at), value, at, false));
    }
  }
  if (clauses.length === 1) return clauses[0] ?? (() => true);
  return (root) => {
    for (const c of clauses) if (!c(root)) return false;
    return true;
  };
}

function compileLogical(op: string, value: Value, field: string): RootMatcher | null {
  if (op === "$comment") return null;
  if (op !== "$and" && op !== "$or" && op !== "$nor") return unknownOperator(op, field);
  if (!Array.isArray(value) || value.length === 0) {
    return badInput("BAD_OPERAND", `parse ${op} at ${q(field)}: needs a non-empty array`, {
      field,
      mongoCode: 2,
    });
  }
  const subs = value.map((v, i) => {
    if (!(v instanceof Map)) {
      return badInput("BAD_OPERAND", `parse ${op} at ${q(`${field}.${i}`)}: needs documents`, {
        field: `${field}.${i}`,
        mongoCode: 2,
      });
    }
    return compileQuery(v, `${field}.${i}`);
  });
  switch (op) {
    case "$and":
      return (root) => subs.every((s) => s(root));
    case "$or":
      return (root) => subs.some((s) => s(root));
    case "$nor":
      return (root) => !subs.some((s) => s(root));
  }
}

function isOperatorDoc(v: Value): v is Doc {
  if (!(v instanceof Map)) return false;
  const first = v.keys().next();
  return first.done !== true && first.value.startsWith("$");
}

/** `{path: value}`: an operator document, a regex, or implicit equality (SPEC §4.2). */
function compileFieldExpr(
  segs: string[],
  value: Value,
  field: string,
  inElem: boolean,
): RootMatcher {
  if (isOperatorDoc(value)) return compileOperators(segs, value, field, inElem);
  const pred = value instanceof BSONRegExp ? regexPred(value, field) : eqPred(value);
  return leaf(segs, pred, !inElem);
}

function leaf(segs: readonly string[], pred: LeafPred, expand: boolean): RootMatcher {
  if (segs.length === 1 && expand) {
    const seg = segs[0] ?? "";
    return (root) => {
      if (!(root instanceof Map)) return anyAtPath(root, segs, 0, pred, expand);
      const v = root.get(seg);
      if (pred(v)) return true;
      if (Array.isArray(v)) for (const e of v) if (pred(e)) return true;
      return false;
    };
  }
  return (root) => anyAtPath(root, segs, 0, pred, expand);
}

function compileOperators(segs: string[], ops: Doc, field: string, inElem: boolean): RootMatcher {
  const parts: RootMatcher[] = [];
  for (const [op, operand] of ops) {
    const m = compileOperator(segs, op, operand, ops, `${field}.${op}`, inElem);
    if (m !== null) parts.push(m);
  }
  if (parts.length === 1) return parts[0] ?? (() => true);
  return (root) => {
    for (const p of parts) if (!p(root)) return false;
    return true;
  };
}

function compileOperator(
  segs: string[],
  op: string,
  x: Value,
  all: Doc,
  field: string,
  inElem: boolean,
): RootMatcher | null {
  const expand = !inElem;
  switch (op) {
    case "$eq":
      return leaf(segs, eqPred(x), expand);
    case "$ne":
      return negate(leaf(segs, eqPred(x), expand));
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte":
      return leaf(segs, cmpPred(op, x), expand);
    case "$in":
      return leaf(segs, inPred(x, field), expand);
    case "$nin":
      return negate(leaf(segs, inPred(x, field), expand));
    case "$exists":
      return leaf(segs, existsPred(x), false);
    case "$size":
      return leaf(segs, sizePred(x, field), false);
    case "$mod":
      return leaf(segs, modPred(x, field), expand);
    case "$type":
      return leaf(segs, typePred(x, field), expand);
    case "$regex":
      return leaf(segs, regexPred(regexOperand(x, all.get("$options"), field), field), expand);
    case "$options":
      if (!all.has("$regex"))
        badInput("BAD_OPERAND", `parse ${q(field)}: $options without $regex`, { field });
      return null;
    case "$not":
      return negate(compileNot(segs, x, field, inElem));
    case "$elemMatch":
      return leaf(segs, elemMatchPred(x, field), false);
    case "$all":
      return compileAll(segs, x, field, inElem);
    default:
      return unknownOperator(op, field);
  }
}

function negate(m: RootMatcher): RootMatcher {
  return (root) => !m(root);
}

function regexOperand(x: Value, options: Value | undefined, field: string): BSONRegExp {
  if (options !== undefined && typeof options !== "string") {
    badInput("BAD_OPERAND", `parse $options at ${q(field)}: needs a string`, { field });
  }
  if (typeof x === "string") return new BSONRegExp(x, options ?? "");
  if (x instanceof BSONRegExp)
    return options === undefined ? x : new BSONRegExp(x.pattern, options);
  return badInput("BAD_OPERAND", `parse $regex at ${q(field)}: needs a string or regex`, { field });
}

/** `$not` (SPEC §4.2): negates an operator document or a regex; matches missing fields. */
function compileNot(segs: string[], x: Value, field: string, inElem: boolean): RootMatcher {
  if (x instanceof BSONRegExp) return leaf(segs, regexPred(x, field), !inElem);
  if (isOperatorDoc(x)) return compileOperators(segs, x, field, inElem);
  return badInput(
    "BAD_OPERAND",
    `parse $not at ${q(field)}: needs a regex or an operator document`,
    {
      field,
      mongoCode: 2,
    },
  );
}

/** `$elemMatch` (SPEC §4.2): operator-only sub-queries apply to the element value itself. */
function elemMatchPred(x: Value, field: string): LeafPred {
  if (!(x instanceof Map)) {
    return badInput("BAD_OPERAND", `parse $elemMatch at ${q(field)}: needs a document`, {
      field,
      mongoCode: 2,
    });
  }
  const first = x.keys().next();
  const valueForm =
    first.done !== true &&
    first.value.startsWith("$") &&
    !["$and", "$or", "$nor"].includes(first.value);
  if (valueForm) {
    const m = compileOperators([], x, field, true);
    return (v) => Array.isArray(v) && v.some((e) => m(e));
  }
  const m = compileQuery(x, field);
  return (v) => Array.isArray(v) && v.some((e) => e instanceof Map && m(e));
}

function compileAll(segs: string[], x: Value, field: string, inElem: boolean): RootMatcher {
  if (!Array.isArray(x)) {
    return badInput("BAD_OPERAND", `parse $all at ${q(field)}: needs an array`, { field });
  }
  if (x.length === 0) return () => false;
  const parts = x.map((e) =>
    isOperatorDoc(e) && e.has("$elemMatch")
      ? compileOperators(segs, e, field, inElem)
      : compileFieldExpr(segs, e, field, inElem),
  );
  return (root) => parts.every((p) => p(root));
}

/**
 * The element predicate of `$pull` (SPEC §5.3): an operator document applies to each element's
 * value, a plain document is a query over document elements, a regex matches strings, anything
 * else is equality.
 */
export function compileElementPredicate(x: Value, field: string): (e: Value) => boolean {
  if (x instanceof Map) {
    if (isOperatorDoc(x)) {
      const m = compileOperators([], x, field, true);
      return (e) => m(e);
    }
    const m = compileQuery(x, field);
    return (e) => e instanceof Map && m(e);
  }
  const p = x instanceof BSONRegExp ? regexPred(x, field) : eqPred(x);
  return x === null ? (e) => e === null : (e) => p(e);
}
