/**
 * Upper bounds of how much an update can grow a document's BSON size, in the units of
 * `docSizeBound`. Checking the 16 MB limit after every update walked the whole new document
 * (every string of it, mostly cache misses: ~7% of apply time); a stored document's bound plus
 * its update's growth bound skips that walk until the sum nears 16 MB.
 */
import { valueSizeBound } from "./bson-encode.js";
import { isIndexSegment } from "./path.js";
import type { UpdateStep } from "./update-types.js";

/** Bytes a path can add: for each segment a new document and key, or array padding to an index. */
function pathCost(segs: readonly string[]): number {
  let n = 0;
  for (const s of segs) n += 7 + 3 * s.length + (isIndexSegment(s) ? (Number(s) + 1) * 12 : 0);
  return n;
}

/** What a step can add besides its path: its value, or a number's 16 bytes (decimal128). */
function valueGrowth(step: UpdateStep): number {
  switch (step.op) {
    case "$set":
    case "$min":
    case "$max":
      return valueSizeBound(step.value);
    case "$inc":
    case "$mul":
    case "$currentDate":
    case "revno":
      return 16;
    case "$push":
    case "$addToSet": {
      let n = 5;
      for (const v of step.each) n += 12 + valueSizeBound(v);
      return n;
    }
    case "$unset": // removes, or nulls an array element
    case "$pull":
    case "$pullAll":
    case "$pop":
      return 0;
    case "$rename":
      return Number.POSITIVE_INFINITY; // moves a value of unknown size: measure the document
  }
}

/** Operators that only remove (or null an array element): they add no path. */
const SHRINKS: ReadonlySet<UpdateStep["op"]> = new Set(["$unset", "$pull", "$pullAll", "$pop"]);

/** The part of {@link growthBound} that depends only on the steps' paths (cached per shape). */
export function pathGrowth(steps: readonly UpdateStep[]): number {
  let n = 0;
  for (const step of steps) if (!SHRINKS.has(step.op)) n += pathCost(step.segs);
  return n;
}

/** {@link growthBound} given the steps' {@link pathGrowth}. */
export function growthWithPaths(steps: readonly UpdateStep[], paths: number): number {
  let n = paths;
  for (const step of steps) n += valueGrowth(step);
  return n;
}

/** An upper bound of the bytes an update's steps can add to any document. */
export function growthBound(steps: readonly UpdateStep[]): number {
  return growthWithPaths(steps, pathGrowth(steps));
}
