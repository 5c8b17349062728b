/**
 * The performance work's caches and tables keep the semantics they replaced: cached update
 * shapes (SPEC §5.1), $rename never touching arrays (SPEC §5.2, §5.3), and the idempotency
 * table (SPEC §8, issue 3 "An idempotency table").
 */
import fc from "fast-check";
import { Timestamp } from "bson";
import {
  UtcDate,
  decodeDoc,
  encodeDoc,
  makeDouble,
  toDoc,
  type Value,
} from "../../node/store/index.js";
import type { TxnRecord } from "../../node/store/state.js";
import { TxnTable, hashOf } from "../../node/store/txn-table.js";
import { body, harness, seed } from "./helpers.js";

function apply(doc: object, update: object): ReturnType<ReturnType<typeof harness>["run"]> {
  const h = harness();
  seed(h, "x", "a", doc);
  return h.run([{ c: "x", _id: "a", update }]);
}

describe("update shapes are compiled once (SPEC §5.1)", () => {
  test("SPEC §5.1: a cached shape still checks each update's values", () => {
    expect(apply({ n: 1 }, { $inc: { n: 2 } })).toMatchObject({ outcome: "applied" });
    expect(apply({ n: 1 }, { $inc: { n: "x" } })).toMatchObject({
      outcome: "rejected",
      error: { reason: "TYPE_MISMATCH", mongoCode: 14, op: 0, field: "update.$inc.n" },
    });
  });
  test("SPEC §5.1: a cached shape converts and checks nested values as a fresh compile does", () => {
    for (let i = 0; i < 2; i++) {
      expect(apply({}, { $set: { a: [1, { b: 2 }] } })).toMatchObject({ outcome: "applied" });
      expect(apply({}, { $set: { a: [undefined] } })).toMatchObject({
        error: { reason: "UNSUPPORTED_VALUE", field: "update.$set.a.0" },
      });
      expect(apply({}, { $set: { a: { $x: 1 } } })).toMatchObject({
        error: { reason: "DOLLAR_FIELD", mongoCode: 52 },
      });
      expect(apply({}, { $set: { a: 1n << 70n } })).toMatchObject({
        error: { reason: "VALUE_OUT_OF_RANGE" },
      });
    }
  });
  test("SPEC §5.1: a conflicting shape is rejected every time (never cached)", () => {
    for (let i = 0; i < 3; i++) {
      expect(apply({}, { $set: { a: 1 }, $unset: { "a.b": 1 } })).toMatchObject({
        error: { reason: "CONFLICTING_PATHS", mongoCode: 40 },
      });
    }
  });
  test("SPEC §5.1: a cached shape applies its fields in path order, as the first compile did", () => {
    const h = harness();
    for (const id of ["a", "b"]) {
      seed(h, "x", id, {});
      h.run([{ c: "x", _id: id, update: { $set: { z: 1, "m.b": 2, "m.a": 3 }, $inc: { c: 1 } } }]);
      expect([...(h.store.get("x", id)?.keys() ?? [])]).toEqual([
        "_id",
        "txn-revno",
        "c",
        "m",
        "z",
      ]);
      expect(body(h.store.get("x", id))).toEqual({ c: 1, m: { a: 3, b: 2 }, z: 1 });
    }
  });
  test("SPEC §5.1: same paths under different operators are different shapes", () => {
    expect(apply({ n: 1 }, { $set: { n: 5 } })).toMatchObject({ outcome: "applied" });
    expect(apply({ n: 1 }, { $unset: { n: 1 } })).toMatchObject({ outcome: "applied" });
    const h = harness();
    seed(h, "x", "a", { n: 1 });
    h.run([{ c: "x", _id: "a", update: { $unset: { n: 1 } } }]);
    expect(body(h.store.get("x", "a"))).toEqual({});
  });
});

describe("query asserts are compiled once per exact value (SPEC §4.1)", () => {
  test("SPEC §4.1: equal-looking asserts of different types stay distinct", () => {
    const h = harness();
    seed(h, "x", "a", { v: 5 });
    const asserted = (assert: object): unknown => {
      const r = h.run([{ c: "x", _id: "a", assert }]);
      return r.outcome === "aborted" && r.assert instanceof Map ? r.assert.get("v") : r.outcome;
    };
    expect(asserted({ v: 1 })).toBe(1);
    expect(asserted({ v: 1n })).toBe(1n);
    expect(Object.is(asserted({ v: 0 }), 0)).toBe(true);
    expect(Object.is(asserted({ v: -0 }), -0)).toBe(true);
    expect(asserted({ v: "1" })).toBe("1");
    expect(asserted({ v: 5 })).toBe("applied");
    expect(asserted({ v: { $gt: 4 } })).toBe("applied");
    expect(asserted({ v: { $gt: 5 } })).toBeInstanceOf(Map);
  });
  test("SPEC §4.1: a bad assert is rejected every time", () => {
    const h = harness();
    for (let i = 0; i < 2; i++) {
      expect(h.run([{ c: "x", _id: "a", assert: { v: { $bogus: 1 } } }])).toMatchObject({
        error: { reason: "UNKNOWN_OPERATOR" },
      });
    }
  });
});

describe("$rename never goes through an array (SPEC §5.2, §5.3, as MongoDB's RenameNode)", () => {
  test("SPEC §5.3: a source inside an array is BadValue (code 2); nothing changes", () => {
    const h = harness();
    seed(h, "x", "a", { a: [{ b: 1 }] });
    const r = h.run([{ c: "x", _id: "a", update: { $rename: { "a.0.b": "c" } } }]);
    expect(r).toMatchObject({
      outcome: "rejected",
      error: { reason: "RENAME_THROUGH_ARRAY", mongoCode: 2 },
    });
    expect(body(h.store.get("x", "a"))).toEqual({ a: [{ b: 1 }] });
  });
  test("SPEC §5.2: a source along an array by name, or through a scalar, is not viable (28)", () => {
    for (const doc of [{ a: [{ b: 1 }] }, { a: 1 }]) {
      expect(apply(doc, { $rename: { "a.b": "c" } })).toMatchObject({
        error: { reason: "PATH_NOT_VIABLE", mongoCode: 28 },
      });
    }
  });
  test("SPEC §5.3: a destination whose parent path is an array is BadValue (code 2)", () => {
    for (const to of ["b.0", "b.x", "b.0.y"]) {
      expect(apply({ a: 1, b: [{}] }, { $rename: { a: to } })).toMatchObject({
        error: { reason: "RENAME_THROUGH_ARRAY", mongoCode: 2 },
      });
    }
  });
  test("SPEC §5.3: renaming an array field, a missing element, or into documents still works", () => {
    const h = harness();
    seed(h, "x", "a", { a: [1, 2], d: { e: 1 } });
    const r = h.run([{ c: "x", _id: "a", update: { $rename: { a: "c", "d.e": "f.g" } } }]);
    expect(r.outcome).toBe("applied");
    expect(body(h.store.get("x", "a"))).toEqual({ c: [1, 2], d: {}, f: { g: 1 } });
    expect(apply({ a: [1] }, { $rename: { "a.5": "c" } })).toMatchObject({ outcome: "applied" });
  });
});

describe("the 16 MB limit with stored size bounds (issue 3, Bad input)", () => {
  test("SPEC §5.1: updates growing a document past 16 MB are rejected, one at a time", () => {
    const h = harness();
    seed(h, "x", "a", {});
    const mb = "x".repeat(1_000_000);
    for (let i = 0; i < 16; i++) {
      const r = h.run([{ c: "x", _id: "a", update: { $set: { [`f${i}`]: mb } } }]);
      expect(r.outcome).toBe("applied");
    }
    const r = h.run([{ c: "x", _id: "a", update: { $push: { arr: mb } } }]);
    expect(r).toMatchObject({
      outcome: "rejected",
      error: { reason: "DOCUMENT_TOO_LARGE", mongoCode: 17419 },
    });
    expect(h.store.get("x", "a")?.has("arr")).toBe(false);
    const small = h.run([{ c: "x", _id: "a", update: { $unset: { f0: 1 }, $set: { g: 1 } } }]);
    expect(small.outcome).toBe("applied");
  });

  test("SPEC §5.1: one cached update shape repeated grows a document until the 17th MB is refused", () => {
    const h = harness();
    seed(h, "x", "a", {});
    const outcomes: string[] = [];
    for (let i = 0; i < 17; i++) {
      const mb = String(i % 10).repeat(1_000_000);
      outcomes.push(h.run([{ c: "x", _id: "a", update: { $push: { arr: mb } } }]).outcome);
    }
    expect(outcomes).toEqual([...Array<string>(16).fill("applied"), "rejected"]);
    expect(h.store.get("x", "a")?.get("arr")).toHaveLength(16);
  });
});

describe("idempotency table (SPEC §8)", () => {
  const rec = (index: number): TxnRecord => ({ index, result: { outcome: "applied", revnos: [] } });

  test("SPEC §8: agrees with a Map model under random adds and oldest-first drops", () => {
    const t = new TxnTable();
    const model = new Map<string, number>();
    let seed32 = 7;
    const next = (): number => (seed32 = (Math.imul(seed32, 1103515245) + 12345) >>> 0);
    for (let i = 1; i <= 20_000; i++) {
      const id = `id-${next() % 30_000}`;
      if (!model.has(id)) {
        t.add(id, rec(i));
        model.set(id, i);
      }
      while (model.size > 3_000 || next() % 5 === 0) {
        const oldest = model.keys().next().value;
        if (oldest === undefined) break;
        expect(t.oldestIndex()).toBe(model.get(oldest));
        t.dropOldest();
        model.delete(oldest);
      }
      const probe = `id-${next() % 30_000}`;
      expect(t.get(probe)?.index).toBe(model.get(probe));
    }
    expect(t.size).toBe(model.size);
    expect(t.entries().map(([id, r]) => [id, r.index])).toEqual([...model]);
  });

  test("SPEC §8: colliding ids (a flooding client) switch the index to a Map, same answers", () => {
    const ids: string[] = [];
    for (let i = 0; ids.length < 80; i++) if ((hashOf(`c${i}`) & 1023) === 0) ids.push(`c${i}`);
    const t = new TxnTable();
    for (const [i, id] of ids.entries()) t.add(id, rec(i));
    for (const [i, id] of ids.entries()) expect(t.get(id)?.index).toBe(i);
    expect(t.has("absent")).toBe(false);
    t.dropOldest();
    expect(t.get(ids[0] ?? "")).toBeUndefined();
    expect(t.size).toBe(79);
  });
});

describe("BSON decoding's string intern table returns exactly the encoded strings", () => {
  test("many distinct short keys and values (more than the table's slots) round-trip", () => {
    // 10,000 distinct strings of equal lengths collide in the 4,096 slots: every hit must be
    // verified, never trusted by slot alone.
    const doc = new Map<string, Value>();
    for (let i = 0; i < 10_000; i++) doc.set(`k${String(i).padStart(6, "0")}`, `v${i % 977}`);
    for (let round = 0; round < 2; round++) expect(decodeDoc(encodeDoc(doc))).toEqual(doc);
  });
  test("ASCII and non-ASCII strings of every short length decode as encoded (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.string({ maxLength: 60 }), fc.string({ unit: "grapheme", maxLength: 60 })),
          {
            maxLength: 20,
          },
        ),
        (pairs) => {
          const doc = new Map<string, Value>();
          for (const [k, v] of pairs)
            if (!k.includes("\u0000") && !k.startsWith("$")) doc.set(k, [v, k]);
          expect(decodeDoc(encodeDoc(doc))).toEqual(doc);
        },
      ),
    );
  });
});

describe("decoded BSON ops (Maps, what a node applies) share the caches with plain objects", () => {
  // Every node applies ops decoded from the log's BSON bytes; the assert and update-shape caches
  // take both forms. Each case runs as plain objects on one store and as decoded BSON on
  // another, twice (the second run hits the caches), with values that differ in type only.
  const cases: { seedDoc: object; ops: (n: number) => object[] }[] = [
    {
      seedDoc: { life: 0, n: 1 },
      ops: (n) => [
        {
          c: "x",
          _id: "a",
          assert: { "txn-revno": BigInt(2 + n) },
          update: { $set: { s: `v${n}` }, $inc: { n } },
        },
      ],
    },
    {
      seedDoc: { life: 0, n: 1 },
      ops: () => [
        {
          c: "x",
          _id: "a",
          assert: { life: { $ne: 2 } },
          update: { $set: { "m.k": [1, { z: 2 }] } },
        },
      ],
    },
    {
      seedDoc: { life: 1 },
      ops: () => [{ c: "x", _id: "a", assert: { life: 1n } }], // int64 1 vs int32 1: equal values
    },
    {
      seedDoc: { life: "1" },
      ops: () => [{ c: "x", _id: "a", assert: { life: 1 } }], // a string never equals a number
    },
    {
      seedDoc: { n: 1 },
      ops: () => [{ c: "x", _id: "a", update: { $inc: { n: "x" } } }], // rejected, both ways
    },
  ];
  test.each(cases.map((c, i) => [i, c] as const))("case %i", (_i, c) => {
    const viaObjects = harness();
    const viaBson = harness();
    seed(viaObjects, "x", "a", c.seedDoc);
    seed(viaBson, "x", "a", c.seedDoc);
    for (let n = 0; n < 2; n++) {
      const ops = c.ops(n);
      const decoded = decodeDoc(encodeDoc(toDoc({ ops }, "ops"))).get("ops");
      const a = viaObjects.run(ops);
      const b = viaBson.run(decoded);
      expect({ outcome: b.outcome, doc: body(viaBson.store.get("x", "a")) }).toEqual({
        outcome: a.outcome,
        doc: body(viaObjects.store.get("x", "a")),
      });
    }
  });
});

describe("BSON decoding reads 8-byte values through a shared scratch view", () => {
  test("int64s, doubles, dates and timestamps decode exactly, at any offset of any buffer (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.double(),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })),
        fc.nat({ max: 15 }),
        (long, dbl, ms, [t, i], pad) => {
          const doc = new Map<string, Value>([
            ["l", long],
            ["d", makeDouble(dbl)],
            ["at", new UtcDate(ms)],
            ["ts", new Timestamp({ t, i })],
            ["arr", [long, makeDouble(dbl)]],
          ]);
          const bytes = encodeDoc(doc);
          const big = new Uint8Array(pad + bytes.length + 3).fill(0xee);
          big.set(bytes, pad);
          const back = decodeDoc(big.subarray(pad, pad + bytes.length));
          expect(back.get("l")).toBe(long);
          expect(encodeDoc(back)).toEqual(bytes);
          expect(back).toEqual(decodeDoc(bytes));
        },
      ),
      { numRuns: 500 },
    );
  });
});
