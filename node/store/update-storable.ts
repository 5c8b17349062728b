/**
 * Path and value checks for update operands (SPEC §5.2; issue 3 "Bad input").
 */
import { badInput, q } from "./errors.js";
import { MAX_DEPTH } from "./normalize.js";
import { valueSizeBound } from "./bson-encode.js";
import type { Doc, Value } from "./values.js";

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
    for (const k of v.keys()) {
      const x = v.get(k) as Value;
      checkFieldName(k, field);
      // Error paths are built only for containers: a string per scalar field was garbage.
      if (x instanceof Map || Array.isArray(x)) checkStorable(x, `${field}.${k}`);
    }
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x instanceof Map || Array.isArray(x)) checkStorable(x, `${field}.${i}`);
    }
  }
}

function checkFieldName(k: string, field: string): void {
  if (k.startsWith("$")) {
    badInput("DOLLAR_FIELD", `store ${q(field)}: field name ${q(k)} may not start with '$'`, {
      field: `${field}.${k}`,
      mongoCode: 52,
    });
  }
}

/**
 * {@link checkStorable} of a document to insert, returning `docSizeBound(doc)`: one pass over
 * its fields instead of two.
 */
export function checkedSizeBound(doc: Doc, field: string): number {
  let n = 5;
  for (const k of doc.keys()) {
    const x = doc.get(k) as Value;
    checkFieldName(k, field);
    if (typeof x === "string") n += 7 + 3 * (k.length + x.length);
    else {
      // The error path is built only for a non-empty container (an empty one, as Juju's
      // `statusdata: {}` and `subordinates: []`, has nothing to check): it was garbage.
      if ((x instanceof Map && x.size > 0) || (Array.isArray(x) && x.length > 0))
        checkStorable(x, `${field}.${k}`);
      n += 2 + 3 * k.length + valueSizeBound(x);
    }
  }
  return n;
}

/** Checks a value to be stored at `segs` (plus `extra` levels); returns it. */
export function storedValue(
  v: Value,
  segs: readonly string[],
  extra: number,
  field: string,
): Value {
  checkStorable(v, field);
  if (segs.length + extra + valueDepth(v) > MAX_DEPTH) {
    badInput("NESTING_TOO_DEEP", `check ${q(field)}: nesting deeper than ${MAX_DEPTH} levels`, {
      field,
    });
  }
  return v;
}
