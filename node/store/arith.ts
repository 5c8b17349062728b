/**
 * Arithmetic for `$inc` and `$mul` with MongoDB's result types (SPEC §5.3): int32 op int32 is
 * int32 (widening to int64 on overflow), anything with int64 is int64 (overflow is an error),
 * anything with a double is a double, anything with a decimal is a decimal.
 */
import { Decimal128 } from "bson";
import type { Value } from "./values.js";
import { Kind, kindOf, makeDouble, numericOf } from "./values.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The arithmetic operations. */
export type ArithOp = "add" | "mul";

/** Result of combining two numeric values; `null` when an int64 result overflows. */
export function arith(op: ArithOp, a: Value, b: Value): Value | null {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === Kind.decimal || kb === Kind.decimal) {
    const x = Number(numericOf(a));
    const y = Number(numericOf(b));
    return Decimal128.fromString(decimalString(op === "add" ? x + y : x * y));
  }
  if (ka === Kind.double || kb === Kind.double) {
    const x = Number(numericOf(a));
    const y = Number(numericOf(b));
    return makeDouble(op === "add" ? x + y : x * y);
  }
  const x = BigInt(numericOf(a));
  const y = BigInt(numericOf(b));
  const r = op === "add" ? x + y : x * y;
  if (ka === Kind.int && kb === Kind.int && r >= -2147483648n && r <= 2147483647n) {
    return Number(r);
  }
  return r < INT64_MIN || r > INT64_MAX ? null : r;
}

function decimalString(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  return String(x);
}

/** The zero of `v`'s numeric type (what `$mul` stores into a missing field). */
export function zeroLike(v: Value): Value {
  const k = kindOf(v);
  if (k === Kind.long) return 0n;
  if (k === Kind.double) return makeDouble(0);
  if (k === Kind.decimal) return Decimal128.fromString("0");
  return 0;
}
