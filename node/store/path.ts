/**
 * Dotted-path evaluation for queries (SPEC §4.2 "Dotted paths"): `a.b.c` descends documents;
 * at an array the rest of the path is applied to every document element (any match counts),
 * and a purely numeric segment also addresses the element at that index.
 */
import { badInput, q } from "./errors.js";
import type { Value } from "./values.js";

/** A predicate over one value at the end of a path; `undefined` means "missing". */
export type LeafPred = (v: Value | undefined) => boolean;

/** Splits and checks a dotted field path (no empty segments). */
export function splitPath(path: string, field: string): string[] {
  const segs = path.split(".");
  for (const s of segs) {
    if (s === "") badInput("BAD_PATH", `parse path ${q(path)}: empty field name`, { field });
  }
  return segs;
}

/** True when `s` is a canonical array index ("0", "12"; not "01" or "-1"). */
export function isIndexSegment(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 9) return false;
  const c0 = s.charCodeAt(0);
  if (c0 < 48 || c0 > 57 || (c0 === 48 && n > 1)) return false;
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * True when some value the path resolves to satisfies `pred`. With `expand`, a leaf array is
 * tested whole and element by element (SPEC §4.2 equality/comparison on arrays).
 */
export function anyAtPath(
  v: Value | undefined,
  segs: readonly string[],
  i: number,
  pred: LeafPred,
  expand: boolean,
): boolean {
  if (i === segs.length) {
    if (pred(v)) return true;
    if (expand && Array.isArray(v)) {
      for (const e of v) if (pred(e)) return true;
    }
    return false;
  }
  const seg = segs[i] ?? "";
  if (v instanceof Map) return anyAtPath(v.get(seg), segs, i + 1, pred, expand);
  if (Array.isArray(v)) return anyInArray(v, segs, i, pred, expand);
  // Descending through a scalar or a missing value resolves to "missing".
  return pred(undefined);
}

function anyInArray(
  arr: readonly Value[],
  segs: readonly string[],
  i: number,
  pred: LeafPred,
  expand: boolean,
): boolean {
  const seg = segs[i] ?? "";
  if (isIndexSegment(seg)) {
    const idx = Number(seg);
    if (idx < arr.length && anyAtPath(arr[idx], segs, i + 1, pred, expand)) return true;
    for (const e of arr) {
      if (e instanceof Map && anyAtPath(e.get(seg), segs, i + 1, pred, expand)) return true;
    }
    return idx >= arr.length && !arr.some((e) => e instanceof Map) ? pred(undefined) : false;
  }
  // Non-numeric segment: apply the rest of the path to each element; non-documents are missing.
  for (const e of arr) {
    if (e instanceof Map) {
      if (anyAtPath(e.get(seg), segs, i + 1, pred, expand)) return true;
    } else if (!Array.isArray(e) && pred(undefined)) return true;
  }
  return false;
}
