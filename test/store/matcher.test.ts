/** Query semantics (SPEC §4.2), through `compileFilter` and through asserts. */
import { BSONRegExp, Decimal128, Double, Long, ObjectId } from "bson";
import { compileFilter, toDoc } from "../../node/store/index.js";
import { harness } from "./helpers.js";

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

function matches(doc: object, filter: object): boolean {
  return compileFilter(toDoc(filter, "filter"), "filter")(toDoc(doc, "doc"));
}

describe("equality (SPEC §4.2)", () => {
  test("SPEC §4.2: implicit AND of top-level keys", () => {
    expect(matches({ a: 1, b: 2 }, { a: 1, b: 2 })).toBe(true);
    expect(matches({ a: 1, b: 3 }, { a: 1, b: 2 })).toBe(false);
  });
  test("SPEC §4.2: numbers are equal across int32/int64/double/decimal", () => {
    expect(matches({ a: new Long(2) }, { a: 2 })).toBe(true);
    expect(matches({ a: new Double(2) }, { a: 2n })).toBe(true);
    expect(matches({ a: Decimal128.fromString("2") }, { a: 2 })).toBe(true);
    expect(matches({ a: 2.5 }, { a: 2 })).toBe(false);
  });
  test("SPEC §4.2: strings never equal numbers; booleans only booleans", () => {
    expect(matches({ a: "1" }, { a: 1 })).toBe(false);
    expect(matches({ a: true }, { a: 1 })).toBe(false);
  });
  test("SPEC §4.2: arrays match by any element, or whole and in order", () => {
    expect(matches({ a: ["x", "y"] }, { a: "y" })).toBe(true);
    expect(matches({ a: ["x", "y"] }, { a: ["x", "y"] })).toBe(true);
    expect(matches({ a: ["x", "y"] }, { a: ["y", "x"] })).toBe(false);
    expect(matches({ a: [["x", "y"], "z"] }, { a: ["x", "y"] })).toBe(true);
  });
  test("SPEC §4.2: sub-documents are equal only with the same fields in the same order", () => {
    expect(matches({ a: { x: 1, y: 2 } }, { a: { x: 1, y: 2 } })).toBe(true);
    expect(matches({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } })).toBe(false);
    expect(
      matches(
        {
          a: new Map([
            ["1", 1],
            ["0", 0],
          ]),
        },
        {
          a: new Map([
            ["1", 1],
            ["0", 0],
          ]),
        },
      ),
    ).toBe(true);
  });
  test("SPEC §4.2: {f: null} matches a missing field or null", () => {
    expect(matches({}, { a: null })).toBe(true);
    expect(matches({ a: null }, { a: null })).toBe(true);
    expect(matches({ a: 0 }, { a: null })).toBe(false);
  });
  test("SPEC §4.2: ObjectIds compare by value", () => {
    const id = "64b7f0c2a1b2c3d4e5f60718";
    expect(matches({ a: new ObjectId(id) }, { a: new ObjectId(id) })).toBe(true);
  });
});

describe("operators (SPEC §4.2)", () => {
  test("SPEC §4.2: $ne matches missing fields and arrays without the value", () => {
    expect(matches({}, { life: { $ne: 2 } })).toBe(true);
    expect(matches({ life: 2 }, { life: { $ne: 2 } })).toBe(false);
    expect(matches({ a: [1, 3] }, { a: { $ne: 2 } })).toBe(true);
    expect(matches({ a: [1, 2] }, { a: { $ne: 2 } })).toBe(false);
  });
  test("SPEC §4.2: comparisons stay within a type bracket and AND together", () => {
    expect(matches({ n: 2 }, { n: { $gte: 1, $lte: 3 } })).toBe(true);
    expect(matches({ n: 4 }, { n: { $gte: 1, $lte: 3 } })).toBe(false);
    expect(matches({ n: "5" }, { n: { $gt: 0 } })).toBe(false);
    expect(matches({}, { n: { $lt: 10 } })).toBe(false);
    expect(matches({ n: [0, 7] }, { n: { $gt: 5 } })).toBe(true);
    expect(matches({ s: "b" }, { s: { $gt: "a" } })).toBe(true);
  });
  test("SPEC §4.2: $in with values, regexes and null; $nin negates", () => {
    expect(matches({ life: 1 }, { life: { $in: [0, 1] } })).toBe(true);
    expect(matches({ s: "app/1" }, { s: { $in: [/^app\//] } })).toBe(true);
    expect(matches({}, { s: { $in: [null] } })).toBe(true);
    expect(matches({ jobs: ["a", "b"] }, { jobs: { $nin: ["manage-model"] } })).toBe(true);
    expect(matches({ jobs: ["manage-model"] }, { jobs: { $nin: ["manage-model"] } })).toBe(false);
    expect(matches({}, { jobs: { $nin: ["x"] } })).toBe(true);
  });
  test("SPEC §4.2: $exists with booleans and 1, on index paths", () => {
    expect(matches({}, { owner: { $exists: false } })).toBe(true);
    expect(matches({ owner: null }, { owner: { $exists: true } })).toBe(true);
    expect(matches({ children: ["x"] }, { "children.0": { $exists: 1 } })).toBe(true);
    expect(matches({ children: [] }, { "children.0": { $exists: 1 } })).toBe(false);
    expect(matches({ children: [] }, { "children.0": { $exists: false } })).toBe(true);
  });
  test("SPEC §4.2: $size only matches arrays of that length", () => {
    expect(matches({ a: [] }, { a: { $size: 0 } })).toBe(true);
    expect(matches({ a: [1, 2] }, { a: { $size: 2 } })).toBe(true);
    expect(matches({}, { a: { $size: 0 } })).toBe(false);
    expect(matches({ a: "ab" }, { a: { $size: 2 } })).toBe(false);
  });
  test("SPEC §4.2: $or, $and, $nor", () => {
    expect(matches({ s: "aborting" }, { $or: [{ s: "running" }, { s: "aborting" }] })).toBe(true);
    expect(matches({ a: 1, b: 2 }, { $and: [{ a: 1 }, { b: 2 }] })).toBe(true);
    expect(matches({ a: 1 }, { $nor: [{ a: 1 }] })).toBe(false);
    expect(
      matches(
        { children: [] },
        { $or: [{ children: { $size: 0 } }, { children: { $exists: false } }] },
      ),
    ).toBe(true);
  });
  test("SPEC §4.2: $not negates an operator or a regex and matches missing fields", () => {
    expect(matches({ subs: ["db/0"] }, { subs: { $not: /^app\// } })).toBe(true);
    expect(matches({ subs: ["app/0"] }, { subs: { $not: /^app\// } })).toBe(false);
    expect(matches({}, { n: { $not: { $gt: 1 } } })).toBe(true);
  });
  test("SPEC §4.2: $elemMatch: operator sub-queries apply to element values, others to documents", () => {
    expect(matches({ a: [1, 5, 9] }, { a: { $elemMatch: { $gt: 4, $lt: 6 } } })).toBe(true);
    expect(matches({ a: [1, 9] }, { a: { $elemMatch: { $gt: 4, $lt: 6 } } })).toBe(false);
    expect(
      matches(
        {
          t: [
            { s: "ok", n: 1 },
            { s: "bad", n: 2 },
          ],
        },
        { t: { $elemMatch: { s: "bad", n: 2 } } },
      ),
    ).toBe(true);
    expect(matches({ t: [{ s: "ok", n: 2 }] }, { t: { $not: { $elemMatch: { s: "bad" } } } })).toBe(
      true,
    );
  });
  test("SPEC §4.2: regex values and $regex with $options match strings and string elements", () => {
    expect(matches({ s: "Hello" }, { s: new BSONRegExp("^hel", "i") })).toBe(true);
    expect(matches({ s: ["x", "hello"] }, { s: { $regex: "^hel" } })).toBe(true);
    expect(matches({ s: "HELLO" }, { s: { $regex: "^hel", $options: "i" } })).toBe(true);
    expect(matches({ s: 5 }, { s: /5/ })).toBe(false);
  });
  test("a repeated group that repeats inside (catastrophic backtracking) is refused with BAD_REGEX", () => {
    for (const p of ["^(a+)+$", "(a*)*", "(?:x*y)*", "(a{2,})+", "((ab)+c)+", "(\\w+\\s?)+$"]) {
      expect(errorOf(() => matches({ s: "aaa" }, { s: { $regex: p } }))).toMatchObject({
        reason: "BAD_REGEX",
      });
    }
    // Quantified groups without a choice inside, and repeats outside groups, still work.
    expect(matches({ s: "ababx" }, { s: { $regex: "^(ab)+x$" } })).toBe(true);
    expect(matches({ s: "aab" }, { s: { $regex: "^(a|b)*$" } })).toBe(true);
    expect(matches({ s: "aaaa" }, { s: { $regex: "^(a{2})+$" } })).toBe(true);
    expect(matches({ s: "(a)" }, { s: { $regex: "^\\(a+\\)+$" } })).toBe(true);
    expect(matches({ s: "a+" }, { s: { $regex: "^[(a+)+]+$" } })).toBe(true);
  });
  test("SPEC §4.2: $eq is equality", () => {
    expect(matches({ a: [1, 2] }, { a: { $eq: 2 } })).toBe(true);
  });
  test("extras: $all, $mod, $type", () => {
    expect(matches({ a: [1, 2, 3] }, { a: { $all: [1, 3] } })).toBe(true);
    expect(matches({ a: [1, 2] }, { a: { $all: [1, 3] } })).toBe(false);
    expect(matches({ n: 7 }, { n: { $mod: [4, 3] } })).toBe(true);
    expect(matches({ n: 7n }, { n: { $type: "long" } })).toBe(true);
    expect(matches({ n: 7 }, { n: { $type: "number" } })).toBe(true);
  });
});

describe("dotted paths (SPEC §4.2)", () => {
  test("SPEC §4.2: dotted paths descend documents", () => {
    expect(matches({ u: { w: { status: "idle" } } }, { "u.w.status": "idle" })).toBe(true);
  });
  test("SPEC §4.2: paths apply to every document element of an array", () => {
    const doc = { addrs: [{ v: "a" }, { v: "b" }] };
    expect(matches(doc, { "addrs.v": "b" })).toBe(true);
    expect(matches(doc, { "addrs.v": "c" })).toBe(false);
  });
  test("SPEC §4.2: numeric segments address array elements", () => {
    expect(matches({ a: ["x", "y"] }, { "a.1": "y" })).toBe(true);
    expect(matches({ a: [{ b: 1 }, { b: 2 }] }, { "a.1.b": 2 })).toBe(true);
    expect(matches({ a: [{ b: 1 }, { b: 2 }] }, { "a.0.b": 2 })).toBe(false);
  });
});

describe("bad filters", () => {
  test("unknown and unsupported operators are coded errors", () => {
    expect(errorOf(() => matches({}, { a: { $foo: 1 } }))).toMatchObject({
      reason: "UNKNOWN_OPERATOR",
      code: "invalid_argument",
    });
    expect(errorOf(() => matches({}, { $where: "1" }))).toMatchObject({
      reason: "UNSUPPORTED_OPERATOR",
    });
    expect(errorOf(() => matches({}, { $or: [] }))).toMatchObject({ reason: "BAD_OPERAND" });
    expect(errorOf(() => matches({}, { a: { $in: 5 } }))).toMatchObject({ reason: "BAD_OPERAND" });
    expect(errorOf(() => matches({}, { a: { $regex: "(" } }))).toMatchObject({
      reason: "BAD_REGEX",
    });
  });
  test("a malformed assert rejects the transaction naming the op", () => {
    const h = harness();
    const r = h.run([
      { c: "x", _id: "a", assert: "d+" },
      { c: "x", _id: "a", assert: { n: { $bad: 1 } } },
    ]);
    expect(r).toMatchObject({
      outcome: "rejected",
      error: { op: 1, reason: "UNKNOWN_OPERATOR", field: "assert.n.$bad" },
    });
  });
});
