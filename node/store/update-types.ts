/**
 * Types of compiled updates (SPEC §5), shared by the compiler and the applier.
 */
import type { Value } from "./values.js";

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
  /** An upper bound of the bytes this update can add to any document (see size-bound.ts). */
  readonly growth: number;
}
