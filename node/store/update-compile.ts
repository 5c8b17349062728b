/**
 * Parses and checks an update document once (SPEC §5.1, §5.2) into sorted steps. Everything that
 * does not depend on the target document is rejected here, before any op of the transaction runs.
 */
import { badInput, q } from "./errors.js";
import { compileElementPredicate } from "./matcher.js";
import { MAX_DEPTH } from "./normalize.js";
import type { Doc, Value } from "./values.js";
import { isNumericKind, kindOf, numericOf } from "./values.js";

/** The document field holding the transaction revno (SPEC §1). */
export const REVNO_FIELD = "txn-revno";

/** How `$push` orders its array after inserting (`$sort`). */
export type PushSort =
  | { readonly by: "value"; readonly dir: number }
  | {
      readonly by: "fields";
      readonly fields: readonly (readonly [string[], number])[];
    };

/** One operator applied at one path. */
export type UpdateStep =
  | { readonly op: "$set"; readonly segs: string[]; readonly value: Value }
  | { readonly op: "$unset"; readonly segs: string[] }
  | { readonly op: "$inc" | "$mul"; readonly segs: string[]; readonly value: Value }
  | { readonly op: "$min" | "$max"; readonly segs: string[]; readonly value: Value }
  | {
      readonly op: "$push";
      readonly segs: string[];
      readonly each: readonly Value[];
      readonly position: number | null;
      readonly slice: number | null;
      readonly sort: PushSort | null;
    }
  | { readonly op: "$addToSet"; readonly segs: string[]; readonly each: readonly Value[] }
  | { readonly op: "$pull"; readonly segs: string[]; readonly pred: (e: Value) => boolean }
  | { readonly op: "$pullAll"; readonly segs: string[]; readonly values: readonly Value[] }
  | { readonly op: "$pop"; readonly segs: string[]; readonly first: boolean }
  | { readonly op: "$rename"; readonly segs: string[]; readonly from: string[] }
  | { readonly op: "$currentDate"; readonly segs: string[]; readonly timestamp: boolean }
  | { readonly op: "revno"; readonly segs: string[] };

/** A checked update: steps in MongoDB's application order (SPEC §5.1: by path). */
export interface CompiledUpdate {
  readonly steps: readonly UpdateStep[];
  /** True when a step may change `_id` (checked after applying, SPEC §5.1 code 66). */
  readonly touchesId: boolean;
  /** True when `$rename` may deepen nesting (depth re-checked after applying). */
  readonly hasRename: boolean;
  /** True when `$currentDate` needs the entry's timestamp. */
  readonly needsTime: boolean;
}

const KNOWN = new Set([
  "$set",
  "$unset",
  "$inc",
  "$mul",
  "$min",
  "$max",
  "$push",
  "$addToSet",
  "$pull",
  "$pullAll",
  "$pop",
  "$rename",
  "$setOnInsert",
  "$currentDate",
]);

/** Compares two paths segment by segment (MongoDB orders update fields by name per level). */
export function comparePaths(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? "";
    const y = b[i] ?? "";
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function isPrefix(a: readonly string[], b: readonly string[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Splits an update path and rejects empty, positional and `$`-prefixed segments (SPEC §5.2). */
export function updatePath(path: string, field: string): string[] {
  const segs = path.split(".");
  for (const s of segs) {
    if (s === "")
      badInput("BAD_PATH", `parse update path ${q(path)}: empty field name`, {
        field,
        mongoCode: 56,
      });
    if (s === "$" || s.startsWith("$[")) {
      badInput(
        "POSITIONAL_UNSUPPORTED",
        `parse update path ${q(path)}: positional operators are not supported`,
        {
          field,
          mongoCode: 2,
        },
      );
    }
    if (s.startsWith("$")) {
      badInput("DOLLAR_FIELD", `parse update path ${q(path)}: field names may not start with '$'`, {
        field,
        mongoCode: 52,
      });
    }
  }
  return segs;
}

/** Depth of a value: 0 for scalars, 1 + the deepest child for documents and arrays. */
export function valueDepth(v: Value): number {
  let d = 0;
  if (v instanceof Map) for (const x of v.values()) d = Math.max(d, valueDepth(x));
  else if (Array.isArray(v)) for (const x of v) d = Math.max(d, valueDepth(x));
  else return 0;
  return d + 1;
}

/** Rejects `$`-prefixed field names anywhere inside a value to be stored (MongoDB code 52). */
export function checkStorable(v: Value, field: string): void {
  if (v instanceof Map) {
    for (const [k, x] of v) {
      if (k.startsWith("$")) {
        badInput("DOLLAR_FIELD", `store ${q(field)}: field name ${q(k)} may not start with '$'`, {
          field: `${field}.${k}`,
          mongoCode: 52,
        });
      }
      checkStorable(x, `${field}.${k}`);
    }
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => {
      checkStorable(x, `${field}.${i}`);
    });
  }
}

function storedValue(v: Value, segs: readonly string[], extra: number, field: string): Value {
  checkStorable(v, field);
  if (segs.length + extra + valueDepth(v) > MAX_DEPTH) {
    badInput("NESTING_TOO_DEEP", `check ${q(field)}: nesting deeper than ${MAX_DEPTH} levels`, {
      field,
    });
  }
  return v;
}

/** Compiles an update document (operators only, SPEC §5.1). */
export function compileUpdate(update: Doc, field: string): CompiledUpdate {
  const steps: UpdateStep[] = [{ op: "revno", segs: [REVNO_FIELD] }];
  const paths: { segs: string[]; at: string }[] = [{ segs: [REVNO_FIELD], at: REVNO_FIELD }];
  for (const [op, operand] of update) {
    const at = `${field}.${op}`;
    if (!op.startsWith("$")) {
      badInput(
        "REPLACEMENT_UPDATE",
        `parse update at ${q(at)}: an update may only contain $ operators`,
        {
          field: at,
          mongoCode: 9,
        },
      );
    }
    if (!KNOWN.has(op)) {
      badInput("UNKNOWN_OPERATOR", `parse update at ${q(at)}: unknown update operator ${q(op)}`, {
        field: at,
        mongoCode: 9,
      });
    }
    if (!(operand instanceof Map)) {
      badInput("BAD_OPERAND", `parse ${op} at ${q(at)}: the operand must be a document`, {
        field: at,
        mongoCode: 9,
      });
    }
    if (operand.size === 0 && op !== "$set") {
      badInput("EMPTY_OPERAND", `parse ${op} at ${q(at)}: the operand is empty`, {
        field: at,
        mongoCode: 9,
      });
    }
    for (const [path, value] of operand) {
      const pf = `${at}.${path}`;
      const segs = updatePath(path, pf);
      paths.push({ segs, at: pf });
      if (op === "$setOnInsert") continue; // transactions never upsert (SPEC §5.3)
      const step = compileStep(op, segs, value, pf);
      if (step.op === "$rename") paths.push({ segs: step.segs, at: pf });
      steps.push(step);
    }
  }
  checkConflicts(paths);
  steps.sort((a, b) => comparePaths(a.segs, b.segs));
  const all = [...paths.map((p) => p.segs)];
  return {
    steps,
    touchesId: all.some((s) => s[0] === "_id"),
    hasRename: steps.some((s) => s.op === "$rename"),
    needsTime: steps.some((s) => s.op === "$currentDate"),
  };
}

/** Two operators on one path, or on a path and its prefix, conflict (SPEC §5.1, code 40). */
function checkConflicts(paths: { segs: string[]; at: string }[]): void {
  const sorted = [...paths].sort((a, b) => comparePaths(a.segs, b.segs));
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a !== undefined && b !== undefined && isPrefix(a.segs, b.segs)) {
      badInput(
        "CONFLICTING_PATHS",
        `parse update: updating the path ${q(b.segs.join("."))} would create a conflict at ${q(a.segs.join("."))}`,
        { field: b.at, mongoCode: 40 },
      );
    }
  }
}

function numericOperand(op: string, v: Value, field: string): Value {
  if (!isNumericKind(kindOf(v))) {
    badInput("TYPE_MISMATCH", `parse ${op} at ${q(field)}: the operand must be a number`, {
      field,
      mongoCode: 14,
    });
  }
  return v;
}

function compileStep(op: string, segs: string[], value: Value, field: string): UpdateStep {
  switch (op) {
    case "$set":
    case "$min":
    case "$max":
      return { op, segs, value: storedValue(value, segs, 0, field) };
    case "$unset":
      return { op, segs };
    case "$inc":
    case "$mul":
      return { op, segs, value: numericOperand(op, value, field) };
    case "$push":
      return compilePush(segs, value, field);
    case "$addToSet":
      return compileAddToSet(segs, value, field);
    case "$pull":
      return { op, segs, pred: compileElementPredicate(value, field) };
    case "$pullAll":
      if (!Array.isArray(value)) {
        badInput("BAD_OPERAND", `parse $pullAll at ${q(field)}: needs an array`, {
          field,
          mongoCode: 2,
        });
      }
      return { op, segs, values: value };
    case "$pop":
      return { op, segs, first: popDirection(value, field) };
    case "$rename":
      return compileRename(segs, value, field);
    case "$currentDate":
      return { op, segs, timestamp: currentDateType(value, field) };
    default:
      return badInput("UNKNOWN_OPERATOR", `parse update: unknown update operator ${q(op)}`, {
        field,
      });
  }
}

function popDirection(v: Value, field: string): boolean {
  const n = isNumericKind(kindOf(v)) ? Number(numericOf(v)) : Number.NaN;
  if (n !== 1 && n !== -1) {
    badInput("BAD_OPERAND", `parse $pop at ${q(field)}: needs 1 or -1`, { field, mongoCode: 9 });
  }
  return n === -1;
}

function currentDateType(v: Value, field: string): boolean {
  if (v === true) return false;
  if (v instanceof Map && v.size === 1) {
    const t = v.get("$type");
    if (t === "date" || t === "timestamp") return t === "timestamp";
  }
  return badInput(
    "BAD_OPERAND",
    `parse $currentDate at ${q(field)}: needs true or {$type: "date"|"timestamp"}`,
    {
      field,
      mongoCode: 2,
    },
  );
}

function compileRename(segs: string[], value: Value, field: string): UpdateStep {
  if (typeof value !== "string") {
    return badInput("BAD_OPERAND", `parse $rename at ${q(field)}: the target must be a string`, {
      field,
      mongoCode: 2,
    });
  }
  const to = updatePath(value, field);
  if (isPrefix(segs, to) || isPrefix(to, segs)) {
    badInput("CONFLICTING_PATHS", `parse $rename at ${q(field)}: source and target overlap`, {
      field,
      mongoCode: 2,
    });
  }
  return { op: "$rename", segs: to, from: segs };
}

function intModifier(v: Value | undefined, name: string, field: string): number | null {
  if (v === undefined) return null;
  const n = isNumericKind(kindOf(v)) ? Number(numericOf(v)) : Number.NaN;
  if (!Number.isInteger(n)) {
    badInput("BAD_OPERAND", `parse $push at ${q(field)}: ${name} must be a whole number`, {
      field,
      mongoCode: 2,
    });
  }
  return n;
}

function compilePush(segs: string[], value: Value, field: string): UpdateStep {
  if (!(value instanceof Map) || !value.has("$each")) {
    return {
      op: "$push",
      segs,
      each: [storedValue(value, segs, 1, field)],
      position: null,
      slice: null,
      sort: null,
    };
  }
  for (const k of value.keys()) {
    if (!["$each", "$position", "$slice", "$sort"].includes(k)) {
      badInput("BAD_OPERAND", `parse $push at ${q(field)}: unknown modifier ${q(k)}`, {
        field,
        mongoCode: 2,
      });
    }
  }
  const each = value.get("$each");
  if (!Array.isArray(each)) {
    return badInput("BAD_OPERAND", `parse $push at ${q(field)}: $each needs an array`, {
      field,
      mongoCode: 2,
    });
  }
  each.forEach((e, i) => storedValue(e, segs, 1, `${field}.$each.${i}`));
  return {
    op: "$push",
    segs,
    each,
    position: intModifier(value.get("$position"), "$position", field),
    slice: intModifier(value.get("$slice"), "$slice", field),
    sort: pushSort(value.get("$sort"), field),
  };
}

function sortDirection(v: Value, field: string): number {
  const n = isNumericKind(kindOf(v)) ? Number(numericOf(v)) : Number.NaN;
  if (n !== 1 && n !== -1) {
    badInput("BAD_OPERAND", `parse $sort at ${q(field)}: directions must be 1 or -1`, {
      field,
      mongoCode: 2,
    });
  }
  return n;
}

function pushSort(v: Value | undefined, field: string): PushSort | null {
  if (v === undefined) return null;
  if (!(v instanceof Map)) return { by: "value", dir: sortDirection(v, field) };
  if (v.size === 0)
    badInput("BAD_OPERAND", `parse $sort at ${q(field)}: empty sort document`, {
      field,
      mongoCode: 2,
    });
  const fields: [string[], number][] = [];
  for (const [k, d] of v) fields.push([updatePath(k, field), sortDirection(d, field)]);
  return { by: "fields", fields };
}

function compileAddToSet(segs: string[], value: Value, field: string): UpdateStep {
  if (value instanceof Map && value.has("$each")) {
    const each = value.get("$each");
    if (value.size !== 1 || !Array.isArray(each)) {
      return badInput("BAD_OPERAND", `parse $addToSet at ${q(field)}: needs {$each: [...]}`, {
        field,
        mongoCode: 2,
      });
    }
    each.forEach((e, i) => storedValue(e, segs, 1, `${field}.$each.${i}`));
    return { op: "$addToSet", segs, each };
  }
  return { op: "$addToSet", segs, each: [storedValue(value, segs, 1, field)] };
}
