/** Canonical Extended JSON for dumps (issue 3 "mongodump compatibility") and the BSON codec. */
import { BSONRegExp, Binary, Decimal128, Double, MaxKey, MinKey, ObjectId, Timestamp } from "bson";
import type { Value } from "../../node/store/index.js";
import {
  UtcDate,
  decodeDoc,
  encodeDoc,
  toCanonicalExtJson,
  toDoc,
} from "../../node/store/index.js";

const sample: Map<string, unknown> = new Map<string, unknown>([
  ["s", "x"],
  ["i", 1],
  ["l", 2n],
  ["d", 1.5],
  ["di", new Double(2)],
  ["neg0", -0],
  ["inf", Number.POSITIVE_INFINITY],
  ["nan", Number.NaN],
  ["dec", Decimal128.fromString("1.25")],
  ["b", true],
  ["n", null],
  ["arr", [1, "a"]],
  ["doc", { "1": 1, a: 2 }],
  ["oid", new ObjectId("64b7f0c2a1b2c3d4e5f60718")],
  ["bin", new Binary(new Uint8Array([1, 2, 255]), 4)],
  ["date", new UtcDate(-5n)],
  ["re", new BSONRegExp("^a", "i")],
  ["ts", new Timestamp({ t: 7, i: 9 })],
  ["min", new MinKey()],
  ["max", new MaxKey()],
]);

describe("canonical Extended JSON", () => {
  test("every BSON type is written in canonical form", () => {
    const json = JSON.parse(toCanonicalExtJson(toDoc(sample, "doc"))) as Record<string, unknown>;
    expect(json).toEqual({
      s: "x",
      i: { $numberInt: "1" },
      l: { $numberLong: "2" },
      d: { $numberDouble: "1.5" },
      di: { $numberDouble: "2.0" },
      neg0: { $numberDouble: "-0.0" },
      inf: { $numberDouble: "Infinity" },
      nan: { $numberDouble: "NaN" },
      dec: { $numberDecimal: "1.25" },
      b: true,
      n: null,
      arr: [{ $numberInt: "1" }, "a"],
      doc: { "1": { $numberInt: "1" }, a: { $numberInt: "2" } },
      oid: { $oid: "64b7f0c2a1b2c3d4e5f60718" },
      bin: { $binary: { base64: "AQL/", subType: "04" } },
      date: { $date: { $numberLong: "-5" } },
      re: { $regularExpression: { pattern: "^a", options: "i" } },
      ts: { $timestamp: { t: 7, i: 9 } },
      min: { $minKey: 1 },
      max: { $maxKey: 1 },
    });
  });

  test("BSON encode/decode round-trips every type byte for byte", () => {
    const doc = toDoc(sample, "doc");
    const bytes = encodeDoc(doc);
    const back = decodeDoc(bytes);
    expect(encodeDoc(back)).toEqual(bytes);
    expect(toCanonicalExtJson(back as Value)).toBe(toCanonicalExtJson(doc));
  });

  test("malformed BSON is a coded error, never a crash", () => {
    const bytes = encodeDoc(toDoc({ a: "xyz" }, "doc"));
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeDoc(bytes.subarray(0, cut))).toThrow(
        expect.objectContaining({ reason: "BAD_BSON" }) as Error,
      );
    }
  });
});
