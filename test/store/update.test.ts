/** Update operators and path rules (SPEC §5). */
import { Double, Long, Timestamp } from "bson";
import type { Doc } from "../../node/store/index.js";
import { UtcDate, kindOf } from "../../node/store/index.js";
import { body, harness, plain, seed } from "./helpers.js";

function updated(
  doc: object,
  update: object,
): { doc: Doc | undefined; outcome: string; reason?: string; mongoCode?: number } {
  const h = harness();
  seed(h, "x", "a", doc);
  const r = h.run([{ c: "x", _id: "a", update }], { timeMs: 1_700_000_000_123 });
  const d = h.store.get("x", "a");
  if (r.outcome === "rejected")
    return {
      doc: d,
      outcome: r.outcome,
      reason: r.error.reason,
      ...(r.error.mongoCode === undefined ? {} : { mongoCode: r.error.mongoCode }),
    };
  return { doc: d, outcome: r.outcome };
}

describe("general rules (SPEC §5.1)", () => {
  test("SPEC §5.1: replacement-style documents are rejected", () => {
    expect(updated({}, { a: 1 })).toMatchObject({
      outcome: "rejected",
      reason: "REPLACEMENT_UPDATE",
    });
  });
  test("SPEC §5.1: {$set: {}} is accepted; other empty operands are errors", () => {
    expect(updated({}, { $set: {} }).outcome).toBe("applied");
    expect(updated({}, { $inc: {} })).toMatchObject({
      outcome: "rejected",
      reason: "EMPTY_OPERAND",
    });
  });
  test("SPEC §5.1: a path and its prefix conflict (code 40); so does txn-revno", () => {
    expect(updated({}, { $set: { a: 1 }, $unset: { "a.b": 1 } })).toMatchObject({
      reason: "CONFLICTING_PATHS",
      mongoCode: 40,
    });
    expect(updated({}, { $set: { "txn-revno": 1 } })).toMatchObject({
      reason: "CONFLICTING_PATHS",
    });
  });
  test("SPEC §5.1: changing _id is an error (code 66); setting it to the same value is not", () => {
    expect(updated({}, { $set: { _id: "b" } })).toMatchObject({
      reason: "IMMUTABLE_ID",
      mongoCode: 66,
    });
    expect(updated({}, { $set: { _id: "a" } }).outcome).toBe("applied");
  });
  test("SPEC §5.1: unknown operators are an error (code 9)", () => {
    expect(updated({}, { $bit: { a: 1 } })).toMatchObject({
      reason: "UNKNOWN_OPERATOR",
      mongoCode: 9,
    });
  });
  test("SPEC §5.1: new fields are appended in path order", () => {
    const r = updated({ z: 1 }, { $set: { c: 1, b: 1 }, $inc: { a: 1 } });
    expect([...(r.doc?.keys() ?? [])]).toEqual(["_id", "z", "txn-revno", "a", "b", "c"]);
  });
});

describe("path rules (SPEC §5.2)", () => {
  test("SPEC §5.2: creating operators create intermediate documents", () => {
    expect(body(updated({}, { $set: { "a.b.c": 1 } }).doc)).toEqual({ a: { b: { c: 1 } } });
  });
  test("SPEC §5.2: numeric segments address elements; beyond the end pads with nulls", () => {
    expect(body(updated({ a: [1] }, { $set: { "a.3": 4 } }).doc)).toEqual({
      a: [1, null, null, 4],
    });
    expect(body(updated({ a: [{ v: 1 }] }, { $set: { "a.0.v": 2 } }).doc)).toEqual({
      a: [{ v: 2 }],
    });
  });
  test("SPEC §5.2: descending through a scalar or a non-numeric array segment is PathNotViable (28)", () => {
    expect(updated({ a: 1 }, { $set: { "a.b": 1 } })).toMatchObject({
      reason: "PATH_NOT_VIABLE",
      mongoCode: 28,
    });
    expect(updated({ a: [1] }, { $set: { "a.v": 1 } })).toMatchObject({
      reason: "PATH_NOT_VIABLE",
      mongoCode: 28,
    });
  });
  test("SPEC §5.2: non-creating operators are no-ops on missing paths", () => {
    expect(
      body(updated({ x: 1 }, { $unset: { "a.b": 1 }, $pull: { c: 1 }, $pop: { d: 1 } }).doc),
    ).toEqual({ x: 1 });
  });
  test("SPEC §5.2: positional paths are rejected", () => {
    expect(updated({}, { $set: { "a.$.b": 1 } })).toMatchObject({
      reason: "POSITIONAL_UNSUPPORTED",
    });
  });
  test("stored documents never mutate: an earlier read is unchanged by a later update", () => {
    const h = harness();
    seed(h, "x", "a", { s: { t: 1 }, arr: [1] });
    const before = h.store.get("x", "a");
    h.run([{ c: "x", _id: "a", update: { $set: { "s.t": 2 }, $push: { arr: 2 } } }]);
    expect(body(before)).toEqual({ s: { t: 1 }, arr: [1] });
    expect(body(h.store.get("x", "a"))).toEqual({ s: { t: 2 }, arr: [1, 2] });
  });
});

describe("operators (SPEC §5.3)", () => {
  test("SPEC §5.3 $set replaces whole sub-documents; $unset removes and nulls array elements", () => {
    expect(body(updated({ a: { b: 1, c: 2 } }, { $set: { a: { d: 3 } } }).doc)).toEqual({
      a: { d: 3 },
    });
    expect(body(updated({ a: 1, b: [1, 2] }, { $unset: { a: "", "b.0": 1 } }).doc)).toEqual({
      b: [null, 2],
    });
  });
  test("SPEC §5.3 $inc: creates, keeps types, widens int32 overflow, rejects non-numbers (14)", () => {
    expect(body(updated({}, { $inc: { n: 1 } }).doc)).toEqual({ n: 1 });
    const widened = updated({ n: 2147483647 }, { $inc: { n: 1 } }).doc?.get("n");
    expect(widened).toBe(2147483648n);
    expect(updated({ n: new Long(1) }, { $inc: { n: 1 } }).doc?.get("n")).toBe(2n);
    const dbl = updated({ n: new Double(1) }, { $inc: { n: 1 } }).doc?.get("n");
    expect(dbl === undefined ? "" : kindOf(dbl)).toBe("double");
    expect(body(updated({ n: 5 }, { $inc: { n: -1 } }).doc)).toEqual({ n: 4 });
    expect(updated({ n: null }, { $inc: { n: 1 } })).toMatchObject({
      reason: "TYPE_MISMATCH",
      mongoCode: 14,
    });
    expect(updated({}, { $inc: { n: "1" } })).toMatchObject({ reason: "TYPE_MISMATCH" });
  });
  test("SPEC §5.3 $mul, $min, $max", () => {
    expect(body(updated({ n: 3 }, { $mul: { n: 2, m: 5 } }).doc)).toEqual({ n: 6, m: 0 });
    expect(body(updated({ n: 3 }, { $min: { n: 1 }, $max: { m: 2 } }).doc)).toEqual({ n: 1, m: 2 });
  });
  test("SPEC §5.3 $push: appends, creates, $each/$position/$slice/$sort, rejects non-arrays (2)", () => {
    expect(body(updated({}, { $push: { "m.list": { t: 1 } } }).doc)).toEqual({
      m: { list: [{ t: 1 }] },
    });
    expect(body(updated({ a: [1] }, { $push: { a: [2, 3] } }).doc)).toEqual({ a: [1, [2, 3]] });
    expect(body(updated({ a: [1] }, { $push: { a: { $each: [2, 3] } } }).doc)).toEqual({
      a: [1, 2, 3],
    });
    expect(
      body(updated({ a: [1, 4] }, { $push: { a: { $each: [2], $position: 1 } } }).doc),
    ).toEqual({ a: [1, 2, 4] });
    expect(
      body(updated({ a: [3, 1] }, { $push: { a: { $each: [2], $sort: 1, $slice: -2 } } }).doc),
    ).toEqual({ a: [2, 3] });
    expect(
      body(
        updated({ a: [{ k: 2 }] }, { $push: { a: { $each: [{ k: 1 }], $sort: { k: 1 } } } }).doc,
      ),
    ).toEqual({ a: [{ k: 1 }, { k: 2 }] });
    expect(updated({ a: 1 }, { $push: { a: 2 } })).toMatchObject({
      reason: "NOT_AN_ARRAY",
      mongoCode: 2,
    });
  });
  test("SPEC §5.3 $addToSet: no duplicates (also within $each), creates, rejects non-arrays", () => {
    expect(body(updated({ a: ["x"] }, { $addToSet: { a: "x" } }).doc)).toEqual({ a: ["x"] });
    expect(
      body(updated({ a: ["x"] }, { $addToSet: { a: { $each: ["y", "y", "x", 1] } } }).doc),
    ).toEqual({ a: ["x", "y", 1] });
    expect(body(updated({}, { $addToSet: { a: 1 } }).doc)).toEqual({ a: [1] });
    expect(updated({ a: "s" }, { $addToSet: { a: 1 } })).toMatchObject({ reason: "NOT_AN_ARRAY" });
  });
  test("SPEC §5.3 $pull: scalars, operator conditions, document queries; non-arrays rejected", () => {
    expect(body(updated({ a: ["x", "y", "x"] }, { $pull: { a: "x" } }).doc)).toEqual({ a: ["y"] });
    expect(body(updated({ a: [1, 2, 3] }, { $pull: { a: { $in: [1, 3] } } }).doc)).toEqual({
      a: [2],
    });
    expect(
      body(updated({ a: [{ k: 1, e: 1 }, { k: 2 }] }, { $pull: { a: { k: 1 } } }).doc),
    ).toEqual({ a: [{ k: 2 }] });
    expect(updated({ a: 1 }, { $pull: { a: 1 } })).toMatchObject({
      reason: "NOT_AN_ARRAY",
      mongoCode: 2,
    });
  });
  test("SPEC §5.3 $pullAll, $pop, $rename", () => {
    expect(body(updated({ a: [1, 2, 1, 3] }, { $pullAll: { a: [1, 3] } }).doc)).toEqual({ a: [2] });
    expect(body(updated({ a: [1, 2, 3] }, { $pop: { a: 1 } }).doc)).toEqual({ a: [1, 2] });
    expect(body(updated({ a: [1, 2, 3] }, { $pop: { a: -1 } }).doc)).toEqual({ a: [2, 3] });
    expect(body(updated({ a: [] }, { $pop: { a: 1 } }).doc)).toEqual({ a: [] });
    expect(updated({ a: 1 }, { $pop: { a: 1 } })).toMatchObject({
      reason: "NOT_AN_ARRAY",
      mongoCode: 14,
    });
    expect(body(updated({ a: 1, b: 2 }, { $rename: { a: "c.d" } }).doc)).toEqual({
      b: 2,
      c: { d: 1 },
    });
  });
  test("SPEC §5.3 $setOnInsert has no effect; $currentDate uses the entry's time", () => {
    expect(body(updated({ a: 1 }, { $setOnInsert: { b: 1 } }).doc)).toEqual({ a: 1 });
    const d = updated({}, { $currentDate: { at: true, ts: { $type: "timestamp" } } }).doc;
    expect(d?.get("at")).toEqual(new UtcDate(1_700_000_000_123n));
    expect(d?.get("ts")).toEqual(new Timestamp({ t: 1_700_000_000, i: 1 }));
    const h = harness();
    seed(h, "x", "a", {});
    expect(h.run([{ c: "x", _id: "a", update: { $currentDate: { at: true } } }])).toMatchObject({
      error: { code: "failed_precondition", reason: "NO_TIMESTAMP" },
    });
  });
  test("SPEC §5.3: Juju's settings shape: $set/$unset on settings.<k> plus $inc version", () => {
    const r = updated(
      { settings: { a: "1", b: "2" }, version: 3 },
      { $set: { "settings.c": "3" }, $unset: { "settings.a": 1 }, $inc: { version: 1 } },
    );
    expect(plain(r.doc)).toEqual({
      _id: "a",
      settings: { b: "2", c: "3" },
      version: 4,
      "txn-revno": 3n,
    });
  });
});
