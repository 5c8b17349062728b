/**
 * Reads (DESIGN.md §4): find with filter, projection, sort, skip and limit, over one collection.
 * The filter uses the same matcher as asserts (SPEC §4).
 */
import { compareValues } from "./compare.js";
import { badInput, q } from "./errors.js";
import type { Matcher } from "./matcher.js";
import { compileFilter } from "./matcher.js";
import { toDoc } from "./normalize.js";
import { splitPath } from "./path.js";
import type { Slot } from "./txn-engine.js";
import type { Doc, Value } from "./values.js";
import { isNumericKind, kindOf, numericOf } from "./values.js";

/** Options of `find`. */
export interface FindOptions {
  /** A MongoDB filter document (SPEC §4.2); default: every document. */
  readonly filter?: unknown;
  /** Inclusion (`{a: 1}`) or exclusion (`{a: 0}`) projection; `_id` is kept unless `_id: 0`. */
  readonly projection?: unknown;
  /** Sort document `{path: 1 | -1, ...}` (MongoDB order; arrays sort by min/max element). */
  readonly sort?: unknown;
  /** Number of matching documents to skip. */
  readonly skip?: number;
  /** Maximum number of documents to return; 0 means no limit. */
  readonly limit?: number;
}

/** Compiles an optional filter (everything matches when absent). */
export function filterOf(filter: unknown): Matcher {
  if (filter === undefined || filter === null) return () => true;
  return compileFilter(toDoc(filter, "filter"), "filter");
}

function count(v: number | undefined, name: string): number {
  if (v === undefined) return 0;
  if (!Number.isSafeInteger(v) || v < 0)
    badInput("BAD_OPTION", `find: ${name} must be a non-negative integer`, { field: name });
  return v;
}

/** Runs a query over a collection's slots (in natural, i.e. insertion, order). */
export function findIn(slots: Iterable<Slot>, opts: FindOptions): Doc[] {
  const match = filterOf(opts.filter);
  const skip = count(opts.skip, "skip");
  const limit = count(opts.limit, "limit");
  const project = projectionOf(opts.projection);
  const sort = sortOf(opts.sort);
  let out: Doc[] = [];
  if (sort === null) {
    let skipped = 0;
    for (const s of slots) {
      if (s.doc === null || !match(s.doc)) continue;
      if (skipped < skip) {
        skipped++;
        continue;
      }
      out.push(s.doc);
      if (limit > 0 && out.length >= limit) break;
    }
  } else {
    for (const s of slots) if (s.doc !== null && match(s.doc)) out.push(s.doc);
    out = sortDocs(out, sort).slice(skip, limit > 0 ? skip + limit : undefined);
  }
  return project === null ? out : out.map(project);
}

type SortSpec = readonly (readonly [string[], number])[];

function sortOf(input: unknown): SortSpec | null {
  if (input === undefined || input === null) return null;
  const spec: [string[], number][] = [];
  for (const [k, v] of toDoc(input, "sort")) {
    const d = isNumericKind(kindOf(v)) ? Number(numericOf(v)) : Number.NaN;
    if (d !== 1 && d !== -1)
      badInput("BAD_SORT", `find: sort direction of ${q(k)} must be 1 or -1`, {
        field: `sort.${k}`,
      });
    spec.push([splitPath(k, `sort.${k}`), d]);
  }
  return spec.length === 0 ? null : spec;
}

function collect(v: Value | undefined, segs: readonly string[], i: number, out: Value[]): void {
  if (i === segs.length) {
    if (Array.isArray(v)) out.push(...v);
    else if (v !== undefined) out.push(v);
    return;
  }
  if (v instanceof Map) collect(v.get(segs[i] ?? ""), segs, i + 1, out);
  else if (Array.isArray(v)) for (const e of v) collect(e, segs, i, out);
}

/** MongoDB's sort key of a path: the smallest (ascending) or largest (descending) value. */
function sortKey(doc: Doc, segs: readonly string[], dir: number): Value {
  const vals: Value[] = [];
  collect(doc, segs, 0, vals);
  let best: Value | undefined;
  for (const v of vals) if (best === undefined || dir * compareValues(v, best) < 0) best = v;
  return best ?? null;
}

function sortDocs(docs: Doc[], spec: SortSpec): Doc[] {
  const keyed = docs.map((d) => ({ d, keys: spec.map(([segs, dir]) => sortKey(d, segs, dir)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < spec.length; i++) {
      const c = compareValues(a.keys[i] ?? null, b.keys[i] ?? null);
      if (c !== 0) return (spec[i]?.[1] ?? 1) * c;
    }
    return 0;
  });
  return keyed.map((k) => k.d);
}

type ProjTree = Map<string, ProjTree | true>;

function projectionOf(input: unknown): ((d: Doc) => Doc) | null {
  if (input === undefined || input === null) return null;
  const p = toDoc(input, "projection");
  const tree: ProjTree = new Map();
  let mode: boolean | null = null;
  let keepId = true;
  for (const [k, v] of p) {
    if (k.startsWith("$") || v instanceof Map)
      badInput("UNSUPPORTED_PROJECTION", `find: projection of ${q(k)} is not supported`, {
        field: `projection.${k}`,
      });
    const include = !(v === false || v === 0 || v === 0n || v === null);
    if (k === "_id") {
      keepId = include;
      if (!include) continue;
    }
    if (mode !== null && mode !== include && k !== "_id") {
      badInput("BAD_PROJECTION", "find: projection cannot mix inclusion and exclusion", {
        field: `projection.${k}`,
      });
    }
    if (k !== "_id") mode = include;
    addPath(tree, splitPath(k, `projection.${k}`));
  }
  if (mode === false || (mode === null && !keepId)) {
    if (!keepId) tree.set("_id", true);
    return (d) => exclude(d, tree);
  }
  if (keepId) tree.set("_id", true);
  return (d) => include(d, tree);
}

function addPath(tree: ProjTree, segs: string[]): void {
  let t = tree;
  segs.forEach((s, i) => {
    if (i === segs.length - 1) {
      t.set(s, true);
      return;
    }
    const next = t.get(s);
    if (next === true) return;
    const sub: ProjTree = next ?? new Map<string, ProjTree | true>();
    t.set(s, sub);
    t = sub;
  });
}

function include(d: Doc, tree: ProjTree): Doc {
  const out: Doc = new Map();
  for (const k of d.keys()) {
    const v = d.get(k) as Value;
    const t = tree.get(k);
    if (t === undefined) continue;
    if (t === true) out.set(k, v);
    else if (v instanceof Map) out.set(k, include(v, t));
    else if (Array.isArray(v))
      out.set(
        k,
        v.filter((e) => e instanceof Map).map((e) => include(e, t)),
      );
  }
  return out;
}

function exclude(d: Doc, tree: ProjTree): Doc {
  const out: Doc = new Map();
  for (const k of d.keys()) {
    const v = d.get(k) as Value;
    const t = tree.get(k);
    if (t === true) continue;
    if (t === undefined) out.set(k, v);
    else if (v instanceof Map) out.set(k, exclude(v, t));
    else if (Array.isArray(v))
      out.set(
        k,
        v.map((e) => (e instanceof Map ? exclude(e, t) : e)),
      );
    else out.set(k, v);
  }
  return out;
}
