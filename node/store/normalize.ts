/**
 * Turns caller input (`unknown`: plain objects, Maps, bson classes, JS RegExp/Date) into the
 * store's {@link Value} model, rejecting anything BSON cannot hold with a coded error.
 * Nesting deeper than {@link MAX_DEPTH} is rejected (issue 3, "Bad input").
 */
import {
  BSONRegExp,
  Binary,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from "bson";
import { badInput, q } from "./errors.js";
import type { Doc, Value } from "./values.js";
import { UtcDate, makeDouble } from "./values.js";

/** MongoDB's maximum nesting depth for stored documents (the top-level document is depth 1). */
export const MAX_DEPTH = 100;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Converts `input` to a {@link Value}; `field` names it in errors; `depth` is its nesting depth. */
export function toValue(input: unknown, field: string, depth: number): Value {
  switch (typeof input) {
    case "string":
    case "boolean":
    case "number":
      return input;
    case "bigint":
      if (input < INT64_MIN || input > INT64_MAX) {
        badInput("VALUE_OUT_OF_RANGE", `read ${q(field)}: bigint ${input} exceeds int64`, {
          field,
        });
      }
      return input;
    case "object":
      return input === null ? null : objectToValue(input, field, depth);
    case "undefined":
    case "function":
    case "symbol":
      return badInput(
        "UNSUPPORTED_VALUE",
        `read ${q(field)}: ${typeof input} is not a BSON value`,
        {
          field,
        },
      );
  }
}

/** Values that convert to themselves (as {@link toValue}'s first cases). */
export function isScalar(v: unknown): v is string | boolean | number {
  return typeof v === "string" || typeof v === "boolean" || typeof v === "number";
}

function checkDepth(field: string, depth: number): void {
  if (depth > MAX_DEPTH) {
    badInput("NESTING_TOO_DEEP", `read ${q(field)}: nesting deeper than ${MAX_DEPTH} levels`, {
      field,
    });
  }
}

function objectToValue(input: object, field: string, depth: number): Value {
  if (Array.isArray(input)) {
    checkDepth(field, depth);
    return arrayToValue(input, field, depth);
  }
  if (input instanceof Map) {
    checkDepth(field, depth);
    return mapToDoc(input, field, depth);
  }
  const proto: unknown = Object.getPrototypeOf(input);
  if (proto === Object.prototype || proto === null) {
    checkDepth(field, depth);
    return plainToDoc(input as Record<string, unknown>, field, depth);
  }
  return bsonClassToValue(input, field);
}

function arrayToValue(input: readonly unknown[], field: string, depth: number): Value[] {
  const out = new Array<Value>(input.length);
  for (let i = 0; i < input.length; i++) {
    if (!(i in input) || input[i] === undefined) {
      badInput("UNSUPPORTED_VALUE", `read ${q(`${field}.${i}`)}: undefined array element`, {
        field: `${field}.${i}`,
      });
    }
    const v = input[i];
    // Scalars need no conversion and no field path (built only for errors: it is garbage).
    out[i] = isScalar(v) ? v : toValue(v, `${field}.${i}`, depth + 1);
  }
  return out;
}

/** Checks a field name is storable in BSON (no NUL byte). */
export function checkKey(key: unknown, field: string): string {
  if (typeof key !== "string") {
    return badInput("BAD_FIELD_NAME", `read ${q(field)}: field names must be strings`, { field });
  }
  if (key.includes("\u0000")) {
    badInput("BAD_FIELD_NAME", `read ${q(field)}: field name contains a NUL byte`, { field });
  }
  return key;
}

function mapToDoc(
  input: Map<unknown, unknown>,
  field: string,
  depth: number,
  out: Doc = new Map(),
): Doc {
  for (const k of input.keys()) {
    const v = input.get(k);
    const key = checkKey(k, field);
    if (v === undefined) continue;
    out.set(key, isScalar(v) ? v : toValue(v, field === "" ? key : `${field}.${key}`, depth + 1));
  }
  return out;
}

function plainToDoc(
  input: Record<string, unknown>,
  field: string,
  depth: number,
  out: Doc = new Map(),
): Doc {
  // for-in over own keys, not Object.keys: the same keys in the same order, without copying
  // the key list per object.
  for (const key in input) {
    if (!Object.hasOwn(input, key)) continue;
    const v = input[key];
    if (v === undefined) continue;
    checkKey(key, field);
    out.set(key, isScalar(v) ? v : toValue(v, field === "" ? key : `${field}.${key}`, depth + 1));
  }
  return out;
}

function bsonClassToValue(input: object, field: string): Value {
  if (input instanceof UtcDate) return input;
  if (input instanceof Int32) return input.value;
  if (input instanceof Double) return makeDouble(input.value);
  // Timestamp extends Long in bson: test it first.
  if (input instanceof Timestamp) return new Timestamp({ t: input.t, i: input.i });
  if (input instanceof Long) return input.toBigInt();
  if (input instanceof ObjectId) return new ObjectId(input.id);
  if (input instanceof Binary) return new Binary(input.value().slice(), input.sub_type);
  if (input instanceof Decimal128) return new Decimal128(input.bytes.slice());
  if (input instanceof BSONRegExp) return new BSONRegExp(input.pattern, input.options);
  if (input instanceof MinKey) return new MinKey();
  if (input instanceof MaxKey) return new MaxKey();
  if (input instanceof RegExp) return new BSONRegExp(input.source, regexFlags(input.flags));
  const tag = Object.prototype.toString.call(input);
  if (tag === "[object Date]") return dateToValue(input as { getTime(): number }, field);
  return badInput("UNSUPPORTED_VALUE", `read ${q(field)}: ${tag} is not a BSON value`, { field });
}

function regexFlags(flags: string): string {
  return flags
    .split("")
    .filter((f) => "imsux".includes(f))
    .join("");
}

function dateToValue(d: { getTime(): number }, field: string): UtcDate {
  const ms = d.getTime();
  if (!Number.isFinite(ms))
    badInput("UNSUPPORTED_VALUE", `read ${q(field)}: invalid date`, { field });
  return new UtcDate(BigInt(ms));
}

/** Converts input that must be a document; `what` names it in the error. */
export function toDoc(input: unknown, field: string): Doc {
  const v = toValue(input, field, 1);
  if (!(v instanceof Map)) {
    return badInput("NOT_A_DOCUMENT", `read ${q(field)}: expected a document`, { field });
  }
  return v;
}

/**
 * Converts a document into `out`, which may already hold fields (an insert's `_id`, so the
 * stored document is built without a second copy). Errors are those of {@link toDoc}.
 */
export function toDocInto(out: Doc, input: unknown, field: string): void {
  if (input instanceof Map) {
    mapToDoc(input as Map<unknown, unknown>, field, 1, out);
    return;
  }
  if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    const proto: unknown = Object.getPrototypeOf(input);
    if (proto === Object.prototype || proto === null) {
      plainToDoc(input as Record<string, unknown>, field, 1, out);
      return;
    }
  }
  toDoc(input, field); // not a document: throws toDoc's error
}
