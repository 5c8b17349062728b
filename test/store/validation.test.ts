/** Bad input (SPEC §2 validation; issue 3 "Bad input"): coded errors naming the op and field. */
import { harness } from "./helpers.js";

function rejected(ops: unknown): {
  reason?: string;
  op?: number | undefined;
  field?: string | undefined;
  code?: string;
  message?: string;
} {
  const r = harness().run(ops);
  if (r.outcome !== "rejected") return {};
  return {
    reason: r.error.reason,
    op: r.error.op,
    field: r.error.field,
    code: r.error.code,
    message: r.error.message,
  };
}

describe("SPEC §2 validation", () => {
  test("SPEC §2: C or Id missing", () => {
    expect(rejected([{ _id: "a", assert: "d+" }])).toMatchObject({
      reason: "MISSING_C_OR_ID",
      op: 0,
      code: "invalid_argument",
    });
    expect(rejected([{ c: "x", assert: "d+" }])).toMatchObject({ reason: "MISSING_C_OR_ID" });
    expect(rejected([{ c: "", _id: "a", assert: "d+" }])).toMatchObject({
      reason: "MISSING_C_OR_ID",
    });
  });
  test("SPEC §2: more than one of Insert/Update/Remove; none set", () => {
    expect(rejected([{ c: "x", _id: "a", insert: {}, remove: true }])).toMatchObject({
      reason: "MULTIPLE_ACTIONS",
      op: 0,
    });
    expect(
      rejected([
        { c: "x", _id: "a", assert: "d+" },
        { c: "x", _id: "a" },
      ]),
    ).toMatchObject({ reason: "NO_ACTION", op: 1 });
  });
  test("SPEC §2: Insert can only assert DocMissing, rejected up front", () => {
    const r = rejected([{ c: "x", _id: "a", assert: "d+", insert: {} }]);
    expect(r).toMatchObject({ reason: "INSERT_ASSERT", field: "assert" });
    expect(r.message).toContain("Insert can only Assert txn.DocMissing");
  });
  test("mgo/txn's BSON field names (c d a i u r) are accepted", () => {
    const r = harness().run([{ c: "x", d: "a", a: "d-", i: { v: 1 } }]);
    expect(r).toMatchObject({ outcome: "applied", revnos: [2] });
  });
});

describe("issue 3: bad input", () => {
  test("bad _id values: null, array, regex", () => {
    expect(rejected([{ c: "x", _id: null, assert: "d+" }])).toMatchObject({
      reason: "MISSING_C_OR_ID",
    });
    expect(rejected([{ c: "x", _id: [1], assert: "d+" }])).toMatchObject({
      reason: "BAD_ID",
      field: "_id",
    });
    expect(rejected([{ c: "x", _id: /a/, assert: "d+" }])).toMatchObject({ reason: "BAD_ID" });
  });
  test("non-document update, non-boolean remove, unknown assert string, unknown op field", () => {
    expect(rejected([{ c: "x", _id: "a", update: 5 }])).toMatchObject({
      reason: "NOT_A_DOCUMENT",
      field: "update",
    });
    expect(rejected([{ c: "x", _id: "a", remove: "yes" }])).toMatchObject({ reason: "BAD_REMOVE" });
    expect(rejected([{ c: "x", _id: "a", assert: "d?" }])).toMatchObject({ reason: "BAD_ASSERT" });
    expect(rejected([{ c: "x", _id: "a", asert: "d+" }])).toMatchObject({
      reason: "UNKNOWN_OP_FIELD",
    });
    expect(rejected("nope")).toMatchObject({ reason: "BAD_OPS" });
  });
  test("$-prefixed field names in stored documents are rejected (code 52)", () => {
    expect(rejected([{ c: "x", _id: "a", insert: { $a: 1 } }])).toMatchObject({
      reason: "DOLLAR_FIELD",
      field: "insert.$a",
    });
    expect(rejected([{ c: "x", _id: "a", insert: { a: { $b: 1 } } }])).toMatchObject({
      reason: "DOLLAR_FIELD",
    });
    expect(rejected([{ c: "x", _id: "a", update: { $set: { a: { $b: 1 } } } }])).toMatchObject({
      reason: "DOLLAR_FIELD",
      op: 0,
    });
  });
  test("documents over 16 MB are rejected", () => {
    const big = "x".repeat(17 * 1024 * 1024);
    expect(rejected([{ c: "x", _id: "a", insert: { big } }])).toMatchObject({
      reason: "DOCUMENT_TOO_LARGE",
    });
  });
  test("nesting deeper than 100 levels is rejected", () => {
    let deep: object = { leaf: 1 };
    for (let i = 0; i < 120; i++) deep = { d: deep };
    expect(rejected([{ c: "x", _id: "a", insert: deep }])).toMatchObject({
      reason: "NESTING_TOO_DEEP",
      op: 0,
    });
  });
  test("unsupported JS values are rejected", () => {
    expect(rejected([{ c: "x", _id: "a", insert: { f: () => 1 } }])).toMatchObject({
      reason: "UNSUPPORTED_VALUE",
      field: "insert.f",
    });
    expect(rejected([{ c: "x", _id: "a", insert: { s: Symbol("s") } }])).toMatchObject({
      reason: "UNSUPPORTED_VALUE",
    });
    expect(rejected([{ c: "x", _id: "a", insert: { n: 2n ** 70n } }])).toMatchObject({
      reason: "VALUE_OUT_OF_RANGE",
    });
  });
  test("error messages name the failed action, the op index and the field", () => {
    const r = rejected([
      { c: "x", _id: "a", assert: "d+" },
      { c: "x", _id: "a", update: { $inc: { n: "1" } } },
    ]);
    expect(r).toMatchObject({ op: 1, field: "update.$inc.n" });
    expect(r.message).toMatch(/^op 1: parse \$inc at "update\.\$inc\.n"/);
  });
});
