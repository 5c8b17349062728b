/**
 * Parses and checks an update document once (SPEC §5.1, §5.2) into sorted steps. Everything that
 * does not depend on the target document is rejected here, before any op of the transaction runs.
 */
import { badInput, q } from "./errors.js";
import { compileElementPredicate } from "./matcher.js";
import { compileAddToSet, compilePush } from "./update-compile-arrays.js";
import { growthBound, growthWithPaths, pathGrowth } from "./size-bound.js";
import { storedValue, updatePath } from "./update-storable.js";
import type { CompiledUpdate, UpdateStep } from "./update-types.js";
import { REVNO_FIELD } from "./update-types.js";
import { isScalar, toDoc, toValue } from "./normalize.js";
import type { Doc, Value } from "./values.js";
import { isNumericKind, kindOf, numericOf } from "./values.js";

export { REVNO_FIELD } from "./update-types.js";
export type { CompiledUpdate, PushSort, UpdateStep } from "./update-types.js";
export { checkStorable, checkedSizeBound, updatePath, valueDepth } from "./update-storable.js";

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

/** The value-independent part of a compiled update, shared by updates of the same shape. */
interface UpdateShape {
  /** Per operand entry (input order): its split path and its field name for errors. */
  readonly segs: readonly string[][];
  readonly at: readonly string[];
  /** Per entry: its operator. */
  readonly ops: readonly string[];
  /** Per entry: its step's position in application order, or -1 (`$setOnInsert`: no step). */
  readonly slot: readonly number[];
  /** Position of the revno step in application order. */
  readonly revnoAt: number;
  /** Number of steps. */
  readonly steps: number;
  /** The paths' part of the growth bound (size-bound.ts). */
  readonly pathGrowth: number;
  readonly touchesId: boolean;
  readonly needsTime: boolean;
}

/**
 * Shapes by operator and path list. Juju sends a handful of update shapes with varying values,
 * and splitting, conflict-checking and sorting paths was a tenth of apply time. A shape's paths
 * fix its conflicts and its order (values never change either, `$rename` excepted: its target is
 * a value, so it is never cached). Only shapes that compiled cleanly are stored. A trie keyed by
 * field names, not a joined string key: names' hashes are cached, a fresh joined key is not.
 */
export class ShapeNode {
  readonly ops = new Map<string, ShapeNode>();
  readonly paths = new Map<string, ShapeNode>();
  shape: UpdateShape | undefined = undefined;
}
let shapeRoots = new Map<string, ShapeNode>();
let shapeNodes = 0;
const MAX_SHAPE_NODES = 16384;
const REVNO_SEGS: readonly string[] = [REVNO_FIELD];

function child(m: Map<string, ShapeNode>, k: string): ShapeNode {
  let n = m.get(k);
  if (n === undefined) {
    n = new ShapeNode();
    m.set(k, n);
    shapeNodes++;
  }
  return n;
}

/** The trie node of an update's shape, or null when it must not be cached. */
function shapeNode(update: Doc, field: string): ShapeNode | null {
  if (shapeNodes > MAX_SHAPE_NODES) {
    shapeRoots = new Map(); // bounded memory against endless distinct shapes
    shapeNodes = 0;
  }
  let node = child(shapeRoots, field);
  for (const [op, operand] of update) {
    if (op === "$rename" || !(operand instanceof Map)) return null;
    node = child(node.ops, op);
    for (const path of operand.keys()) node = child(node.paths, path);
  }
  return node;
}

/** Compiles an update document (operators only, SPEC §5.1). */
export function compileUpdate(update: Doc, field: string): CompiledUpdate {
  const node = shapeNode(update, field);
  const shape = node?.shape;
  if (shape === undefined) return compileFresh(update, field, node);
  const values: Value[] = [];
  for (const operand of update.values())
    for (const value of (operand as Doc).values()) values.push(value);
  return instantiate(shape, values);
}

/**
 * A known shape with this update's values: the paths are known good. Steps compile in entry
 * order (so the first bad value is the one reported, as in a fresh compile), each straight into
 * its place in application order.
 */
function instantiate(shape: UpdateShape, values: readonly Value[]): CompiledUpdate {
  const steps = new Array<UpdateStep>(shape.steps);
  steps[shape.revnoAt] = REVNO_STEP;
  for (let e = 0; e < values.length; e++) {
    const at = shape.slot[e] ?? -1;
    if (at >= 0) {
      const op = shape.ops[e] ?? "";
      steps[at] = compileStep(op, shape.segs[e] as string[], values[e] as Value, shape.at[e] ?? "");
    }
  }
  const growth = growthWithPaths(steps, shape.pathGrowth);
  return {
    steps,
    touchesId: shape.touchesId,
    hasRename: false,
    needsTime: shape.needsTime,
    growth,
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Compiles a caller's update as `compileUpdate(toDoc(input, field), field)` does, with the same
 * errors. A plain object of a known shape skips building Maps of the update and its operands:
 * its values are converted (all first, in order, as toDoc would) and compiled directly.
 */
export function compileUpdateInput(input: unknown, field: string): CompiledUpdate {
  const plain = isPlainObject(input);
  if ((plain || input instanceof Map) && shapeNodes <= MAX_SHAPE_NODES) {
    const raw: unknown[] = [];
    const shape = plain
      ? plainShape(input, field, raw)
      : mapShape(input as Map<unknown, unknown>, field, raw);
    if (shape !== undefined) {
      // Converted in place, in entry order, before any step compiles (toDoc's error order).
      for (let e = 0; e < raw.length; e++) {
        const v = raw[e];
        if (!isScalar(v)) raw[e] = toValue(v, shape.at[e] ?? "", 3);
      }
      return instantiate(shape, raw as Value[]);
    }
  }
  return compileUpdate(toDoc(input, field), field);
}

/**
 * {@link plainShape} for an update given as a Map: a decoded BSON document, which is how every
 * node receives the updates it applies. Without this, each one was copied by `toDoc` first.
 */
function mapShape(
  input: Map<unknown, unknown>,
  field: string,
  raw: unknown[],
): UpdateShape | undefined {
  let node: ShapeNode | undefined = shapeRoots.get(field);
  for (const op of input.keys()) {
    const operand = input.get(op);
    if (typeof op !== "string" || operand === undefined) return undefined;
    if (op === "$rename" || !(operand instanceof Map)) return undefined;
    node = node?.ops.get(op);
    const paths = operand as Map<unknown, unknown>;
    for (const path of paths.keys()) {
      const v = paths.get(path);
      if (typeof path !== "string" || v === undefined) return undefined;
      node = node?.paths.get(path);
      raw.push(v);
    }
    if (node === undefined) return undefined;
  }
  return node?.shape;
}

/**
 * The cached shape of a plain-object update, found in one pass that also collects its operand
 * values (unconverted) into `raw`; undefined when there is none.
 */
function plainShape(
  input: Record<string, unknown>,
  field: string,
  raw: unknown[],
): UpdateShape | undefined {
  let node: ShapeNode | undefined = shapeRoots.get(field);
  for (const op in input) {
    const operand = input[op];
    if (!Object.hasOwn(input, op) || operand === undefined) continue; // toDoc drops undefined
    if (op === "$rename" || !isPlainObject(operand)) return undefined;
    node = node?.ops.get(op);
    for (const path in operand) {
      const v = operand[path];
      if (!Object.hasOwn(operand, path) || v === undefined) continue;
      node = node?.paths.get(path);
      raw.push(v);
    }
    if (node === undefined) return undefined;
  }
  return node?.shape;
}

const REVNO_STEP: UpdateStep = { op: "revno", segs: REVNO_SEGS as string[] };

/**
 * The shape trie's root for updates named `field`, or undefined when the cache is full: for
 * txn-decode.ts, which walks an update's shape straight from its BSON bytes as `mapShape` does.
 */
export function shapeRoot(field: string): ShapeNode | undefined {
  return shapeNodes <= MAX_SHAPE_NODES ? shapeRoots.get(field) : undefined;
}

/**
 * The update of the known shape ending at `node` with these operand values (decoded BSON values
 * in entry order: already in the store's value model), or undefined when the shape is unknown.
 */
export function instantiateShape(
  node: ShapeNode | undefined,
  values: readonly Value[],
): CompiledUpdate | undefined {
  const shape = node?.shape;
  return shape === undefined ? undefined : instantiate(shape, values);
}

function compileFresh(update: Doc, field: string, node: ShapeNode | null): CompiledUpdate {
  const steps: UpdateStep[] = [REVNO_STEP];
  const entryOf = new Map<UpdateStep, number>([[REVNO_STEP, -1]]);
  const paths: { segs: string[]; at: string }[] = [{ segs: [REVNO_FIELD], at: REVNO_FIELD }];
  const entrySegs: string[][] = [];
  const entryAt: string[] = [];
  const entryOps: string[] = [];
  for (const [op, operand] of update) {
    const at = `${field}.${op}`;
    checkOperator(op, operand, at);
    for (const [path, value] of operand as Doc) {
      const pf = `${at}.${path}`;
      const segs = updatePath(path, pf);
      paths.push({ segs, at: pf });
      entrySegs.push(segs);
      entryAt.push(pf);
      entryOps.push(op);
      if (op === "$setOnInsert") continue; // transactions never upsert (SPEC §5.3)
      const step = compileStep(op, segs, value, pf);
      if (step.op === "$rename") paths.push({ segs: step.segs, at: pf });
      entryOf.set(step, entrySegs.length - 1);
      steps.push(step);
    }
  }
  checkConflicts(paths);
  steps.sort((a, b) => comparePaths(a.segs, b.segs));
  const touchesId = paths.some((p) => p.segs[0] === "_id");
  const needsTime = steps.some((s) => s.op === "$currentDate");
  if (node !== null) {
    const slot = entrySegs.map(() => -1);
    let revnoAt = 0;
    steps.forEach((s, k) => {
      const e = entryOf.get(s) ?? -1;
      if (e < 0) revnoAt = k;
      else slot[e] = k;
    });
    node.shape = {
      segs: entrySegs,
      at: entryAt,
      ops: entryOps,
      slot,
      revnoAt,
      steps: steps.length,
      pathGrowth: pathGrowth(steps),
      touchesId,
      needsTime,
    };
  }
  const hasRename = steps.some((s) => s.op === "$rename");
  return { steps, touchesId, hasRename, needsTime, growth: growthBound(steps) };
}

function checkOperator(op: string, operand: Value, at: string): void {
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
