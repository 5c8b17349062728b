/**
 * Parses and checks an update document once (SPEC §5.1, §5.2) into sorted steps. Everything that
 * does not depend on the target document is rejected here, before any op of the transaction runs.
 */
import { badInput, q } from "./errors.js";
import { compileElementPredicate } from "./matcher.js";
import { compileAddToSet, compilePush } from "./update-compile-arrays.js";
import { storedValue, updatePath } from "./update-storable.js";
import type { CompiledUpdate, UpdateStep } from "./update-types.js";
import { REVNO_FIELD } from "./update-types.js";
import type { Doc, Value } from "./values.js";
import { isNumericKind, kindOf, numericOf } from "./values.js";

export { REVNO_FIELD } from "./update-types.js";
export type { CompiledUpdate, PushSort, UpdateStep } from "./update-types.js";
export { checkStorable, updatePath, valueDepth } from "./update-storable.js";

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
