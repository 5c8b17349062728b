/**
 * Compiled query asserts by exact value. Juju's asserts repeat: `{life: {$ne: 2}}` on every
 * unit-state write, `{"txn-revno": N}` and `{version: N}` with small N. Converting and compiling
 * one was ~5% of apply time; a hit costs building a short key. Matchers are pure functions of the
 * query (regexes carry no `g`/`y` state) and queries are never mutated, so sharing is invisible.
 */
import type { Matcher } from "./matcher.js";
import type { Doc } from "./values.js";

/** A compiled query assert. */
export interface CompiledAssert {
  readonly type: "query";
  readonly match: Matcher;
  readonly query: Doc;
}

const cache = new Map<string, CompiledAssert>();
const MAX_ENTRIES = 4096;
const MAX_KEY = 512;
const MAX_DEPTH = 8;

function isPlain(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A key that is equal for two inputs exactly when they convert to the same query (types kept:
 * 1 and 1n differ; every token is self-delimiting), or null for inputs not worth caching (non-plain objects, large or deep).
 */
function keyOf(v: unknown, depth: number): string | null {
  switch (typeof v) {
    case "string":
      return `s${v.length}:${v}`;
    case "number":
      return Object.is(v, -0) ? "n-0;" : `n${v};`;
    case "boolean":
      return v ? "T" : "F";
    case "bigint":
      return `l${v};`;
    case "object": {
      if (v === null) return "z";
      if (depth >= MAX_DEPTH) return null;
      if (Array.isArray(v)) {
        let k = "[";
        for (let i = 0; i < v.length; i++) {
          const e = i in v ? keyOf(v[i] as unknown, depth + 1) : null;
          if (e === null || k.length > MAX_KEY) return null;
          k += e;
        }
        return `${k}]`;
      }
      // A Map (a decoded BSON document: what every node applies) and a plain object with the
      // same fields in the same order convert to the same query, so they share a key.
      if (v instanceof Map) {
        let k = "{";
        const m = v as Map<unknown, unknown>;
        for (const f of m.keys()) {
          const x = m.get(f);
          if (typeof f !== "string" || x === undefined) return null; // toDoc's errors decide
          const e = keyOf(x, depth + 1);
          if (e === null || k.length > MAX_KEY) return null;
          k += `${f.length}:${f}${e}`;
        }
        return `${k}}`;
      }
      if (!isPlain(v)) return null;
      let k = "{";
      const o = v as Record<string, unknown>;
      for (const f in o) {
        if (!Object.hasOwn(o, f)) continue;
        if (o[f] === undefined) continue; // dropped by conversion, as in toDoc
        const e = keyOf(o[f], depth + 1);
        if (e === null || k.length > MAX_KEY) return null;
        k += `${f.length}:${f}${e}`;
      }
      return `${k}}`;
    }
    case "undefined":
    case "function":
    case "symbol":
      return null;
  }
}

/**
 * The commonest asserts are chains of one-field documents ending in a scalar (`{"txn-revno": 7}`,
 * `{life: {$ne: 2}}`). Those are looked up through Maps keyed by field name, then by the scalar
 * itself: no key string to build and hash. Map keys compare by SameValueZero, so 1, 1n, "1" and
 * true stay distinct; -0 (equal to 0 there, but a double) takes the string-key path.
 */
class Chain {
  readonly next = new Map<string, Chain>();
  readonly leaf = new Map<unknown, CompiledAssert>();
}
let chains = new Chain();
let chainEntries = 0;

/**
 * The field and value {@link onlyField} found (module state, not a tuple: one array fewer per
 * lookup; nothing in between can call back in).
 */
let oneName = "";
let oneValue: unknown = undefined;

/** True, with `oneName`/`oneValue` set, for a one-field plain object or Map with a string key. */
function onlyField(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return false;
  if (v instanceof Map) {
    if (v.size !== 1) return false;
    const m = v as Map<unknown, unknown>;
    for (const k of m.keys()) {
      const x = m.get(k);
      if (typeof k !== "string" || x === undefined) return false;
      oneName = k;
      oneValue = x;
    }
    return true;
  }
  if (Array.isArray(v) || !isPlain(v)) return false;
  let field: string | undefined;
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    if (field !== undefined) return false;
    field = k;
  }
  if (field === undefined) return false;
  oneName = field;
  oneValue = (v as Record<string, unknown>)[field];
  return true;
}

/** The scalar ending the chain {@link chainOf} found. */
let chainValue: unknown = undefined;

/** The leaf map of a one-field chain (its scalar in `chainValue`), or null. */
function chainOf(input: unknown): Map<unknown, CompiledAssert> | null {
  let v = input;
  let node = chains;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (!onlyField(v)) return null;
    const field = oneName;
    const x = oneValue;
    oneValue = undefined; // hold no caller value
    let nextNode = node.next.get(field);
    if (nextNode === undefined) {
      nextNode = new Chain();
      node.next.set(field, nextNode);
      chainEntries++;
    }
    node = nextNode;
    const t = typeof x;
    if (t === "string" || t === "boolean" || t === "bigint" || x === null || t === "number") {
      if (t === "number" && Object.is(x, -0)) return null;
      chainValue = x;
      return node.leaf;
    }
    v = x;
  }
  return null;
}

/** The cached compile of `input`, or `compile(input)` (cached when cacheable and it succeeds). */
export function cachedAssert(input: unknown, compile: () => CompiledAssert): CompiledAssert {
  if (chainEntries > MAX_ENTRIES) {
    chains = new Chain();
    chainEntries = 0;
  }
  const leaf = chainOf(input);
  if (leaf !== null) {
    const x = chainValue;
    chainValue = undefined; // hold no caller value
    let hit = leaf.get(x);
    if (hit === undefined) {
      hit = compile();
      leaf.set(x, hit);
      chainEntries++;
    }
    return hit;
  }
  const key = keyOf(input, 0);
  if (key === null) return compile();
  let hit = cache.get(key);
  if (hit === undefined) {
    hit = compile();
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(key, hit);
  }
  return hit;
}
