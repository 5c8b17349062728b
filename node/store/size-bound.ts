/**
 * Upper bounds of how much an update can grow a document's BSON size, in the units of
 * `docSizeBound`. Checking the 16 MB limit after every update walked the whole new document
 * (every string of it, mostly cache misses: ~7% of apply time); a stored document's bound plus
 * its update's growth bound skips that walk until the sum nears 16 MB.
 */
import { valueSizeBound } from "./bson-encode.js";
import { isIndexSegment } from "./path.js";
import type { CompiledUpdate, UpdateStep } from "./update-types.js";

/** Bytes a path can add: for each segment a new document and key, or array padding to an index. */
function pathCost(segs: readonly string[]): number {
  let n = 0;
  for (const s of segs) n += 7 + 3 * s.length + (isIndexSegment(s) ? (Number(s) + 1) * 12 : 0);
  return n;
}

function stepGrowth(step: UpdateStep): number {
  switch (step.op) {
    case "$set":
    case "$min":
    case "$max":
      return pathCost(step.segs) + valueSizeBound(step.value);
    case "$inc":
    case "$mul":
    case "$currentDate":
    case "revno":
      return pathCost(step.segs) + 16; // a number or date: at most 16 bytes (decimal128)
    case "$push":
    case "$addToSet": {
      let n = pathCost(step.segs) + 5;
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

/** An upper bound of the bytes `update` can add to any document. */
export function growthBound(update: CompiledUpdate): number {
  let n = 0;
  for (const step of update.steps) n += stepGrowth(step);
  return n;
}
