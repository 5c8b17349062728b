/** Server-side (sstxn) mode (SPEC §6.1, §7), the idempotency table and tombstone bounds. */
import { body, harness, seed } from "./helpers.js";

describe("server-side runner (SPEC §6.1 and §7, sstxn column)", () => {
  test("SPEC §7: insert of an existing document aborts (duplicate key)", () => {
    const h = harness({ mode: "server" });
    seed(h, "x", "a", { v: 1 });
    const r = h.run([
      { c: "x", _id: "b", insert: {} },
      { c: "x", _id: "a", insert: { v: 2 } },
    ]);
    expect(r).toMatchObject({ outcome: "aborted", op: 1, reason: "duplicate_key", assert: null });
    expect(h.store.get("x", "b")).toBeUndefined();
  });

  test("SPEC §7: update of a missing document is not_found and rolled back", () => {
    const h = harness({ mode: "server" });
    const r = h.run([
      { c: "x", _id: "b", insert: {} },
      { c: "x", _id: "m", update: { $set: { v: 1 } } },
    ]);
    expect(r).toMatchObject({
      outcome: "rejected",
      error: { code: "not_found", reason: "DOC_NOT_FOUND", op: 1 },
    });
    expect(h.store.get("x", "b")).toBeUndefined();
  });

  test("SPEC §6.1: every insert is revno 2; remove logs -(r+1) and keeps no tombstone", () => {
    const h = harness({ mode: "server" });
    expect(h.run([{ c: "x", _id: "a", insert: {} }])).toMatchObject({ revnos: [2] });
    expect(h.run([{ c: "x", _id: "a", update: { $set: { v: 1 } } }])).toMatchObject({
      revnos: [3],
    });
    expect(h.run([{ c: "x", _id: "a", remove: true }])).toMatchObject({ revnos: [-4] });
    expect(h.store.revno("x", "a")).toBe(-1);
    expect(h.run([{ c: "x", _id: "a", insert: {} }])).toMatchObject({ revnos: [2] });
  });

  test("SPEC §6.1: two updates of one document in one transaction both write r+1", () => {
    const h = harness({ mode: "server" });
    seed(h, "x", "a", { n: 0 });
    const r = h.run([
      { c: "x", _id: "a", update: { $inc: { n: 1 } } },
      { c: "x", _id: "a", update: { $inc: { n: 1 } } },
    ]);
    expect(r).toMatchObject({ outcome: "applied", revnos: [3, 3] });
    expect(body(h.store.get("x", "a"))).toEqual({ n: 2 });
    expect(h.store.revno("x", "a")).toBe(3);
  });

  test("SPEC §6.1: a remove of a missing document logs 0 and is skipped", () => {
    const h = harness({ mode: "server" });
    const r = h.run([{ c: "x", _id: "m", remove: true }]);
    expect(r).toMatchObject({ revnos: [0], changes: [{ revno: 0, skipped: true }] });
  });

  test("SPEC §3 (sstxn): DocMissing is checked against the pre-transaction state", () => {
    const h = harness({ mode: "server" });
    seed(h, "x", "a", {});
    const r = h.run([
      { c: "x", _id: "a", remove: true },
      { c: "x", _id: "a", assert: "d-" },
    ]);
    expect(r).toMatchObject({ outcome: "aborted", op: 1 });
  });

  test("mode is fixed at construction and reported", () => {
    expect(harness({ mode: "server" }).store.mode).toBe("server");
    expect(harness().store.mode).toBe("client");
  });
});

describe("idempotency table (SPEC §8, issue 3)", () => {
  test("SPEC §8: a resent txn id returns the recorded outcome and applies nothing", () => {
    const h = harness();
    seed(h, "x", "a", { n: 0 });
    const first = h.run([{ c: "x", _id: "a", update: { $inc: { n: 1 } } }], { txnId: "t1" });
    const again = h.run([{ c: "x", _id: "a", update: { $inc: { n: 1 } } }], { txnId: "t1" });
    expect(first).toMatchObject({ outcome: "applied", duplicate: false, index: 2 });
    expect(again).toMatchObject({
      outcome: "applied",
      duplicate: true,
      index: 2,
      revnos: [3],
      changes: [],
    });
    expect(body(h.store.get("x", "a"))).toEqual({ n: 1 });
  });

  test("SPEC §8: revnos come back alike for one-op, many-op and assert-only transactions", () => {
    const h = harness();
    seed(h, "x", "a", { n: 0 });
    const txns: [string, unknown[]][] = [
      ["one", [{ c: "x", _id: "a", update: { $inc: { n: 1 } } }]],
      [
        "two",
        [
          { c: "x", _id: "a", assert: "d+" },
          { c: "x", _id: "b", insert: {} },
        ],
      ],
      ["null", [{ c: "x", _id: "a", assert: { n: 1 } }]],
    ];
    const firsts = txns.map(([id, ops]) => h.run(ops, { txnId: id }));
    expect(firsts.map((r) => (r.outcome === "applied" ? r.revnos : r.outcome))).toEqual([
      [3],
      [null, 2],
      [null],
    ]);
    txns.forEach(([id, ops], i) => {
      const first = firsts[i];
      const again = h.run(ops, { txnId: id });
      expect(again).toMatchObject({ duplicate: true, index: first?.index, changes: [] });
      expect(again.outcome === "applied" && again.revnos).toEqual(
        first?.outcome === "applied" && first.revnos,
      );
    });
  });

  test("SPEC §8: aborted and rejected outcomes are recorded too", () => {
    const h = harness();
    h.run([{ c: "x", _id: "a", assert: "d+" }], { txnId: "ab" });
    h.run([{ c: "x", _id: "a", bogus: 1 }], { txnId: "rj" });
    seed(h, "x", "a", {});
    expect(h.run([{ c: "x", _id: "a", assert: "d+" }], { txnId: "ab" })).toMatchObject({
      outcome: "aborted",
      duplicate: true,
    });
    expect(h.run([], { txnId: "rj" })).toMatchObject({
      outcome: "rejected",
      duplicate: true,
      error: { reason: "UNKNOWN_OP_FIELD" },
    });
  });

  test("bounds: ids are forgotten beyond maxCount and beyond maxIndexDistance", () => {
    const h = harness({ idempotency: { maxCount: 2, maxIndexDistance: 100 } });
    for (const id of ["a", "b", "c"]) h.run([], { txnId: id });
    expect(h.store.stats().txnIds).toBe(2);
    expect(h.run([], { txnId: "a" }).duplicate).toBe(false);
    const far = harness({ idempotency: { maxCount: 10, maxIndexDistance: 3 } });
    far.run([], { txnId: "old" });
    for (let i = 0; i < 3; i++) far.run([]);
    expect(far.run([], { txnId: "old" }).duplicate).toBe(false);
  });

  test("a malformed txn id is rejected with a coded error", () => {
    const h = harness();
    const r = h.store.applyTxn({ index: 1, txnId: "", ops: [] });
    expect(r).toMatchObject({
      outcome: "rejected",
      error: { code: "invalid_argument", reason: "BAD_TXN_ID" },
    });
  });

  test("an index that does not increase is a caller bug (InvariantError)", () => {
    const h = harness();
    h.run([]);
    expect(() => h.store.applyTxn({ index: 1, ops: [] })).toThrow(/already applied/);
  });
});

describe("tombstone bounds (SPEC §6.1, §10.4)", () => {
  test("SPEC §10.4: beyond maxCount the oldest tombstone is dropped and its id restarts at 2", () => {
    const h = harness({ tombstones: { maxCount: 1 } });
    seed(h, "x", "a", {});
    seed(h, "x", "b", {});
    h.run([{ c: "x", _id: "a", remove: true }]);
    h.run([{ c: "x", _id: "b", remove: true }]);
    expect(h.store.revno("x", "a")).toBe(-1);
    expect(h.store.revno("x", "b")).toBe(-3);
    expect(h.run([{ c: "x", _id: "a", insert: {} }])).toMatchObject({ revnos: [2] });
    expect(h.run([{ c: "x", _id: "b", insert: {} }])).toMatchObject({ revnos: [4] });
  });

  test("SPEC §10.4: tombstones older than maxIndexDistance entries or maxAgeMs are dropped", () => {
    const h = harness({ tombstones: { maxIndexDistance: 2 } });
    seed(h, "x", "a", {});
    h.run([{ c: "x", _id: "a", remove: true }]); // index 2
    h.run([]);
    h.run([]); // index 4: 2 entries after the removal, still kept
    expect(h.store.revno("x", "a")).toBe(-3);
    h.run([]);
    expect(h.store.revno("x", "a")).toBe(-1);
    const t = harness({ tombstones: { maxAgeMs: 1000 } });
    seed(t, "x", "a", {});
    t.run([{ c: "x", _id: "a", remove: true }], { timeMs: 10_000 });
    t.run([], { timeMs: 10_500 });
    expect(t.store.revno("x", "a")).toBe(-3);
    t.run([], { timeMs: 11_001 });
    expect(t.store.revno("x", "a")).toBe(-1);
    expect(t.store.stats().tombstones).toBe(0);
  });

  test("a re-inserted document's old tombstone is not counted", () => {
    const h = harness();
    seed(h, "x", "a", {});
    h.run([{ c: "x", _id: "a", remove: true }]);
    h.run([{ c: "x", _id: "a", insert: {} }]);
    expect(h.store.stats()).toMatchObject({ documents: 1, tombstones: 0 });
  });

  test("SPEC §10.4: a stale oldest tombstone does not hide the next one from maxCount", () => {
    const h = harness({ tombstones: { maxCount: 1 } });
    for (const id of ["a", "b", "c"]) seed(h, "x", id, {});
    h.run([{ c: "x", _id: "a", remove: true }]);
    h.run([{ c: "x", _id: "a", insert: {} }]); // a's tombstone is gone; its queue entry is stale
    h.run([{ c: "x", _id: "b", remove: true }]);
    h.run([{ c: "x", _id: "c", remove: true }]); // two tombstones: b's, the oldest, is dropped
    expect([h.store.revno("x", "a"), h.store.revno("x", "b"), h.store.revno("x", "c")]).toEqual([
      4, -1, -3,
    ]);
    expect(h.store.stats()).toMatchObject({ documents: 1, tombstones: 1 });
  });
});
