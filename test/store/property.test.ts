/**
 * Property tests (issue 3 "Proof"): the store agrees with the naive reference on outcome, state
 * and revnos; garbage never throws anything but a coded error; replay and snapshots are
 * deterministic.
 */
import fc from "fast-check";
import type { Doc } from "../../node/store/index.js";
import { DocumentStore, StoreError, restoreSnapshot } from "../../node/store/index.js";
import type { PlainDoc, RefOp } from "./naive-reference.js";
import { NaiveStore } from "./naive-reference.js";
import { body, concat } from "./helpers.js";

const ids = fc.constantFrom("a", "b", "c");
const colls = fc.constantFrom("x", "y");
const small = fc.integer({ min: -3, max: 3 });
const payload: fc.Arbitrary<PlainDoc> = fc.record(
  {
    n: fc.oneof(small, fc.constant("str")),
    s: fc.constantFrom("p", "q"),
    arr: fc.oneof(fc.array(small, { maxLength: 3 }), fc.constant(5)),
    sub: fc.oneof(fc.record({ x: small }), fc.constant(1)),
  },
  { requiredKeys: [] },
);
const assertArb = fc.oneof(
  fc.constant("d+" as const),
  fc.constant("d-" as const),
  small.map((n) => ({ n })),
  small.map((n) => ({ n: { $gt: n } })),
  fc.boolean().map((b) => ({ s: { $exists: b } })),
  small.map((n) => ({ arr: n })),
  fc.integer({ min: -1, max: 6 }).map((r) => ({ "txn-revno": r })),
  fc
    .tuple(small, fc.constantFrom("p", "q"))
    .map(([n, s]) => ({ $or: [{ n }, { s }] as [{ n: number }, { s: string }] })),
);
const updateArb = fc.oneof(
  small.map((n) => ({ $set: { n } })),
  fc.constantFrom("p", "q").map((s) => ({ $set: { s } })),
  small.map((n) => ({ $inc: { n } })),
  fc.constant({ $unset: { s: 1 as const } }),
  small.map((n) => ({ $push: { arr: n } })),
  small.map((n) => ({ $pull: { arr: n } })),
  small.map((n) => ({ $addToSet: { arr: n } })),
  small.map((n) => ({ $set: { "sub.x": n } })),
);
const opArb: fc.Arbitrary<RefOp> = fc.oneof(
  fc.record({ c: colls, _id: ids, assert: assertArb }),
  fc.record(
    { c: colls, _id: ids, insert: payload, assert: fc.constant("d-" as const) },
    { requiredKeys: ["c", "_id", "insert"] },
  ),
  fc.record(
    { c: colls, _id: ids, update: updateArb, assert: assertArb },
    { requiredKeys: ["c", "_id", "update"] },
  ),
  fc.record(
    { c: colls, _id: ids, remove: fc.constant(true as const), assert: assertArb },
    { requiredKeys: ["c", "_id", "remove"] },
  ),
);
const txnArb = fc.array(opArb, { minLength: 0, maxLength: 5 });
const streamArb = fc.array(txnArb, { minLength: 1, maxLength: 25 });

function stateOf(store: DocumentStore): Map<string, { doc: unknown; revno: number }> {
  const out = new Map<string, { doc: unknown; revno: number }>();
  for (const c of ["x", "y"]) {
    for (const id of ["a", "b", "c"]) {
      const revno = store.revno(c, id);
      if (revno === -1) continue;
      const d: Doc | undefined = store.get(c, id);
      out.set(`${c}|${id}`, { doc: d === undefined ? null : body(d), revno });
    }
  }
  return out;
}

function naiveState(n: NaiveStore): Map<string, { doc: unknown; revno: number }> {
  const out = new Map<string, { doc: unknown; revno: number }>();
  for (const [k, e] of n.entries) out.set(k, { doc: e.doc, revno: e.revno });
  return out;
}

describe("property: store vs naive reference (SPEC §3, §6, §7)", () => {
  test("SPEC §3: outcome, revnos and state agree for random transaction streams", () => {
    fc.assert(
      fc.property(streamArb, (stream) => {
        const store = new DocumentStore();
        const naive = new NaiveStore();
        stream.forEach((ops, i) => {
          const got = store.applyTxn({ index: i + 1, ops });
          const want = naive.apply(ops);
          expect(got.outcome).toBe(want.outcome);
          if (want.outcome === "applied" && got.outcome === "applied")
            expect(got.revnos).toEqual(want.revnos);
          if (want.outcome === "aborted" && got.outcome === "aborted") expect(got.op).toBe(want.op);
          if (want.outcome === "rejected" && got.outcome === "rejected")
            expect(got.error.op).toBe(want.op);
          expect(stateOf(store)).toEqual(naiveState(naive));
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe("property: long transactions (SPEC §3)", () => {
  // Without asserts most ops run, so the documents' states pass the engine's index threshold
  // (16 ops) with repeats on both sides of it.
  const longOp: fc.Arbitrary<RefOp> = fc.oneof(
    fc.record({ c: colls, _id: ids, insert: payload }),
    fc.record({ c: colls, _id: ids, update: updateArb }),
    fc.record({ c: colls, _id: ids, remove: fc.constant(true as const) }),
  );
  test("SPEC §3: transactions of 14-40 ops over six documents agree with the reference", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(longOp, { minLength: 14, maxLength: 40 }), { maxLength: 6 }),
        (stream) => {
          const store = new DocumentStore();
          const naive = new NaiveStore();
          stream.forEach((ops, i) => {
            const got = store.applyTxn({ index: i + 1, ops });
            const want = naive.apply(ops);
            expect(got.outcome).toBe(want.outcome);
            if (want.outcome === "applied" && got.outcome === "applied")
              expect(got.revnos).toEqual(want.revnos);
            expect(stateOf(store)).toEqual(naiveState(naive));
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("property: determinism (issue 3)", () => {
  test("same stream on two stores gives identical snapshot bytes; restore round-trips and continues identically", () => {
    fc.assert(
      fc.property(
        streamArb,
        streamArb,
        fc.constantFrom("client" as const, "server" as const),
        (s1, s2, mode) => {
          const a = new DocumentStore({ mode, tombstones: { maxCount: 2 } });
          const b = new DocumentStore({ mode, tombstones: { maxCount: 2 } });
          s1.forEach((ops, i) => {
            a.applyTxn({ index: i + 1, txnId: `t${i % 4}`, ops });
            b.applyTxn({ index: i + 1, txnId: `t${i % 4}`, ops });
          });
          const snap = concat(a.snapshot());
          expect(concat(b.snapshot())).toEqual(snap);
          const r = restoreSnapshot([snap]);
          expect(concat(r.snapshot())).toEqual(snap);
          s2.forEach((ops, i) => {
            const x = a.applyTxn({ index: s1.length + i + 1, txnId: `u${i % 3}`, ops });
            const y = r.applyTxn({ index: s1.length + i + 1, txnId: `u${i % 3}`, ops });
            expect(y).toEqual(x);
          });
          expect(concat(r.snapshot())).toEqual(concat(a.snapshot()));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("property: garbage input (issue 3 'Bad input')", () => {
  const opLike = fc.record(
    {
      c: fc.oneof(fc.string(), fc.anything()),
      _id: fc.anything(),
      assert: fc.oneof(fc.constantFrom("d+", "d-"), fc.anything(), fc.object()),
      insert: fc.oneof(fc.object(), fc.anything()),
      update: fc.oneof(
        fc.dictionary(
          fc.constantFrom("$set", "$inc", "$push", "$pull", "$foo", "a"),
          fc.anything(),
        ),
        fc.anything(),
      ),
      remove: fc.anything(),
    },
    { requiredKeys: [] },
  );
  test("random ops never throw: every failure is a coded StoreError and changes nothing", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.array(opLike, { maxLength: 4 })), (ops) => {
        const store = new DocumentStore();
        store.applyTxn({ index: 1, ops: [{ c: "x", _id: "a", insert: { n: 1, arr: [1] } }] });
        const before = concat(store.snapshot());
        const r = store.applyTxn({ index: 2, ops });
        if (r.outcome === "rejected") {
          expect(r.error).toBeInstanceOf(StoreError);
          expect(typeof r.error.reason).toBe("string");
          expect(store.listCollections()).toEqual(["x"]);
          expect(body(store.get("x", "a"))).toEqual({ n: 1, arr: [1] });
          expect(store.revno("x", "a")).toBe(2);
          expect(concat(store.snapshot()).length).toBe(before.length);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test("random bytes never crash restore: only data_loss errors", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          restoreSnapshot([bytes]);
        } catch (e) {
          expect(e).toBeInstanceOf(StoreError);
          expect((e as StoreError).code).toBe("data_loss");
        }
      }),
      { numRuns: 500 },
    );
  });
});
