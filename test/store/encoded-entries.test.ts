/**
 * Entries applied from their BSON bytes (`applyEncodedTxn`, txn-decode.ts: what a node does with
 * each committed entry) give exactly what applying the decoded ops gives: outcome, revnos,
 * errors (reason, op, field, message), change events and snapshot bytes. The fast path may
 * decline an entry, never answer differently.
 */
import fc from "fast-check";
import type { TxnResult } from "../../node/store/index.js";
import {
  DocumentStore,
  decodeDoc,
  encodeDoc,
  makeDouble,
  parseOps,
  parseOpsBson,
  StoreError,
  toDoc,
} from "../../node/store/index.js";
import { concat } from "./helpers.js";

/** The ops as the BSON a client sends, or undefined when they are not encodable at all. */
function encode(ops: unknown): Uint8Array | undefined {
  try {
    return encodeDoc(toDoc({ ops }, "ops"));
  } catch (e) {
    if (e instanceof StoreError) return undefined;
    throw e;
  }
}

/** A result with its error reduced to what a client sees (toEqual compares errors by message). */
function visible(r: TxnResult): unknown {
  if (r.outcome !== "rejected") return r;
  const { error, ...rest } = r;
  const { code, reason, op, field, mongoCode, message } = error;
  return { ...rest, error: { code, reason, op, field, mongoCode, message } };
}

const ids = fc.constantFrom("a", "b", "c");
const colls = fc.constantFrom("x", "y");
const small = fc.oneof(
  fc.integer({ min: -2, max: 3 }),
  fc.bigInt({ min: -2n, max: 3n }),
  fc.constantFrom(makeDouble(1), makeDouble(2.5)),
);
const payload = fc.dictionary(
  fc.constantFrom("n", "s", "arr", "sub", "_id", "txn-revno", "$bad"),
  fc.oneof(small, fc.constantFrom("p", "q"), fc.array(small, { maxLength: 3 }), fc.constant({})),
  { maxKeys: 4 },
);
const assertArb = fc.oneof(
  fc.constantFrom("d+", "d-", "d?"),
  small.map((n) => ({ n })),
  small.map((n) => ({ n: { $gt: n } })),
  fc.integer({ min: -1, max: 6 }).map((r) => ({ "txn-revno": r })),
  fc.constant({ n: { $bogus: 1 } }),
  fc.constant(5),
);
const updateArb = fc.oneof(
  small.map((n) => ({ $set: { n } })),
  small.map((n) => ({ $inc: { n }, $set: { s: "p" } })),
  fc.constant({ $unset: { s: 1 } }),
  small.map((n) => ({ $push: { arr: n } })),
  small.map((n) => ({ $pull: { arr: n } })),
  small.map((n) => ({ $set: { "sub.x": n } })),
  fc.constant({ $set: { s: 1 }, $unset: { s: 1 } }), // conflicting paths
  fc.constant({ $inc: { n: "x" } }), // a bad value in a known shape
  fc.constant({ $rename: { s: "t" } }),
  fc.constant({ $set: {} }),
  fc.constant({}),
  fc.constant({ n: 1 }), // a replacement
);
/** Long names or mgo/txn's BSON names (`c d a i u r`), in any order, sometimes null or doubled. */
const fieldNames = {
  c: ["c"],
  _id: ["_id", "d", "id"],
  assert: ["assert", "a"],
  insert: ["insert", "i"],
  update: ["update", "u"],
  remove: ["remove", "r"],
} as const;
/** An op as a Map: fields under random aliases, in the order given, plus an optional oddity. */
function opOf(
  op: Record<string, unknown>,
  order: readonly string[],
  alias: readonly number[],
  extra: string | null,
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  order.forEach((k, i) => {
    const names: readonly string[] = fieldNames[k as keyof typeof fieldNames];
    out.set(names[(alias[i] ?? 0) % names.length] ?? k, op[k]);
  });
  if (extra === "dup") out.set("c", op.c ?? "x").set("_id", op._id ?? "a");
  else if (extra === "zz") out.set("zz", 1);
  else if (extra !== null) out.set(extra, null);
  return out;
}
const aliasArb = fc.array(fc.nat(2), { minLength: 6, maxLength: 6 });
/** Ops of the common forms (`c`, `_id`, then the rest, as clients send them), any aliases. */
const goodOpArb = fc
  .tuple(
    fc.oneof(
      fc.record({ c: colls, _id: ids, assert: assertArb }),
      fc.record(
        { c: colls, _id: ids, insert: payload, assert: assertArb },
        { requiredKeys: ["c", "_id", "insert"] },
      ),
      fc.record(
        { c: colls, _id: ids, update: updateArb, assert: assertArb },
        { requiredKeys: ["c", "_id", "update"] },
      ),
      fc.record(
        { c: colls, _id: ids, remove: fc.constant(true), assert: assertArb },
        { requiredKeys: ["c", "_id", "remove"] },
      ),
    ),
    aliasArb,
  )
  .map(([op, alias]) => opOf(op, Object.keys(op), alias, null));
/** Any subset of fields in any order, odd values, sometimes a null, unknown or doubled field. */
const wildOpArb = fc
  .record(
    {
      c: fc.oneof(colls, fc.constantFrom("", "a$b", 7)),
      _id: fc.oneof(ids, fc.integer({ min: 0, max: 2 }), fc.constant({ k: 1 })),
      assert: assertArb,
      insert: payload,
      update: updateArb,
      remove: fc.oneof(fc.constant(true), fc.constant(false), fc.constant(1)),
    },
    { requiredKeys: [] },
  )
  .chain((op) =>
    fc
      .tuple(
        fc.shuffledSubarray(Object.keys(op), { minLength: Object.keys(op).length }),
        aliasArb,
        fc.oneof(fc.constant(null), fc.constantFrom("c", "_id", "assert", "zz", "dup")),
      )
      .map(([order, alias, extra]) => opOf(op, order, alias, extra)),
  );
const opArb = fc.oneof({ weight: 3, arbitrary: goodOpArb }, { weight: 1, arbitrary: wildOpArb });
/** Mostly well-formed ops (the common forms), sometimes anything at all. */
const txnArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(opArb, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.anything() },
);

/** Applies the stream both ways; checks every result and the final snapshot bytes agree. */
function agree(stream: readonly unknown[]): number {
  const decoded = new DocumentStore({ tombstones: { maxCount: 2 } });
  const encoded = new DocumentStore({ tombstones: { maxCount: 2 } });
  let fast = 0;
  let index = 0;
  for (const ops of stream) {
    const bytes = encode(ops);
    if (bytes === undefined) continue;
    index++;
    const want = decoded.applyTxn({
      index,
      txnId: `t${index % 5}`,
      ops: decodeDoc(bytes).get("ops"),
    });
    const got = encoded.applyEncodedTxn({ index, txnId: `t${index % 5}`, opsBson: bytes });
    expect(visible(got)).toEqual(visible(want));
    if (parseOpsBson(bytes) !== undefined) fast++;
  }
  expect(concat(encoded.snapshot())).toEqual(concat(decoded.snapshot()));
  return fast;
}

describe("entries applied from BSON bytes (txn-decode.ts)", () => {
  test("SPEC §2, §3: the same results and snapshot bytes as applying the decoded ops", () => {
    let fast = 0;
    fc.assert(
      fc.property(fc.array(txnArb, { minLength: 1, maxLength: 20 }), (stream) => {
        fast += agree(stream);
      }),
      { numRuns: 400 },
    );
    expect(fast).toBeGreaterThan(400); // the fast path did take the well-formed entries
  });

  test("the Juju forms are read straight from the bytes, and parse as the general path does", () => {
    const txns: unknown[] = [
      [{ c: "units", _id: "u/0", assert: "d-", insert: { life: 0, subordinates: [], st: {} } }],
      [{ c: "units", _id: "u/0", assert: { "txn-revno": 2n }, update: { $set: { life: 1 } } }],
      [{ c: "units", _id: "u/0", assert: { life: { $ne: 2 } } }],
      [{ c: "units", d: "u/0", a: "d+", u: { $push: { m: { x: 1 } }, $inc: { n: 1 } } }],
      [{ c: "units", _id: "u/0", assert: "d+", remove: true }],
    ];
    for (let round = 0; round < 2; round++) {
      for (const ops of txns) {
        const bytes = encode(ops) as Uint8Array;
        const fast = parseOpsBson(bytes);
        expect(fast).toBeDefined();
        expect(fast).toEqual(parseOps(decodeDoc(bytes).get("ops")));
      }
    }
  });

  test("SPEC §4.1: asserts whose bytes differ only in a value's type stay distinct", () => {
    const store = new DocumentStore();
    store.applyTxn({ index: 1, ops: [{ c: "x", _id: "a", insert: { v: 1 } }] });
    const outcome = (index: number, v: unknown): string => {
      const opsBson = encode([{ c: "x", _id: "a", assert: { v } }]) as Uint8Array;
      return store.applyEncodedTxn({ index, opsBson }).outcome;
    };
    // 1 (int32) and 1.0 (double) match an int32 1 alike; "1" and 1n as int64 likewise differ.
    expect([outcome(2, 1), outcome(3, makeDouble(1)), outcome(4, 1n), outcome(5, "1")]).toEqual([
      "applied",
      "applied",
      "applied",
      "aborted",
    ]);
    expect(outcome(6, 2)).toBe("aborted");
    expect(outcome(7, 1)).toBe("applied");
  });

  test("issue 3 'Bad input': malformed bytes are rejected with BAD_BSON and change nothing", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), (noise, cut) => {
        const store = new DocumentStore();
        store.applyTxn({ index: 1, ops: [{ c: "x", _id: "a", insert: { n: 1 } }] });
        const good = encode([{ c: "x", _id: "a", update: { $set: { n: 2 } } }]) as Uint8Array;
        for (const bytes of [noise, good.subarray(0, cut % good.length)]) {
          let want: unknown;
          try {
            want = decodeDoc(bytes);
          } catch (e) {
            want = e;
          }
          const r = store.applyEncodedTxn({ index: store.appliedIndex + 1, opsBson: bytes });
          if (want instanceof StoreError) {
            expect(r).toMatchObject({ outcome: "rejected", error: { reason: want.reason } });
          }
          if (r.outcome !== "applied") {
            expect(store.get("x", "a")?.get("n")).toBe(1);
            expect(store.revno("x", "a")).toBe(2);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
