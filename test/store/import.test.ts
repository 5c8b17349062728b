import { DocumentStore, StoreError } from "../../node/store/index.js";

// SPEC §6: imported documents keep their txn-revno; mgo/txn's stash becomes tombstones.
describe("DocumentStore.importDocuments (juraft import)", () => {
  test("§6 documents keep their txn-revno and asserts on it behave as before", () => {
    const s = new DocumentStore();
    const r = s.importDocuments({
      index: 1,
      collection: "units",
      documents: [{ _id: "u/0", life: 1, "txn-revno": 7n, "txn-queue": ["x"] }],
    });
    expect(r).toMatchObject({ outcome: "imported", count: 1 });
    expect(s.revno("units", "u/0")).toBe(7);
    expect(s.get("units", "u/0")?.has("txn-queue")).toBe(false);
    const stale = s.applyTxn({
      index: 2,
      ops: [{ c: "units", _id: "u/0", assert: { "txn-revno": 6 }, update: { $set: { life: 2 } } }],
    });
    expect(stale.outcome).toBe("aborted");
    const fresh = s.applyTxn({
      index: 3,
      ops: [{ c: "units", _id: "u/0", assert: { "txn-revno": 7 }, update: { $set: { life: 2 } } }],
    });
    expect(fresh).toMatchObject({ outcome: "applied", revnos: [8] });
  });

  test("§6.1 the stash imports as tombstones: a re-insert continues from the negative revno", () => {
    const s = new DocumentStore();
    s.importDocuments({
      index: 1,
      collection: "txns.stash",
      documents: [{ _id: { c: "units", id: "u/1" }, "txn-revno": -5n }],
    });
    expect(s.revno("units", "u/1")).toBe(-5);
    expect(
      s.applyTxn({ index: 2, ops: [{ c: "units", _id: "u/1", insert: { life: 0 } }] }),
    ).toMatchObject({ revnos: [6] });
  });

  test("a malformed document rejects the whole entry and changes nothing", () => {
    const s = new DocumentStore();
    const r = s.importDocuments({
      index: 1,
      collection: "units",
      documents: [{ _id: "a" }, { life: 0 }],
    });
    expect(r.outcome).toBe("rejected");
    if (r.outcome === "rejected") {
      expect(r.error).toBeInstanceOf(StoreError);
      expect(r.error.reason).toBe("BAD_DUMP");
    }
    expect(s.get("units", "a")).toBeUndefined();
    const bad = s.importDocuments({ index: 2, collection: "txns", documents: [{ _id: "t" }] });
    expect(bad).toMatchObject({ outcome: "rejected" });
    expect(() => s.importDocuments({ index: 2, collection: "units", documents: [] })).toThrow(
      /already applied/,
    );
  });
});
