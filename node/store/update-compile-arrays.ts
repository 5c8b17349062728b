/**
 * Compilation of `$push` (with `$each $position $slice $sort`) and `$addToSet` (SPEC §5.3).
 */
import { badInput, q } from "./errors.js";
import type { PushSort, UpdateStep } from "./update-types.js";
import { storedValue, updatePath } from "./update-storable.js";
import type { Value } from "./values.js";
import { isNumericKind, kindOf, numericOf } from "./values.js";

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

/** Compiles one `$push` operand. */
export function compilePush(segs: string[], value: Value, field: string): UpdateStep {
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

/** Compiles one `$addToSet` operand. */
export function compileAddToSet(segs: string[], value: Value, field: string): UpdateStep {
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
