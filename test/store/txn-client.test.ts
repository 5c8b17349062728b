/** Client-side mgo/txn semantics (SPEC §2, §3, §6, §7, §9.4). */
import { body, harness, seed } from "./helpers.js";

describe("revnos (SPEC §6.1)", () => {
  test("SPEC §6.1: first insert is 2; update +1; remove -(r+1); re-insert r+2", () => {
    const h = harness();
    const seen: unknown[] = [];
    seen.push(h.run([{ c: "x", _id: "a", insert: { v: 1 } }]));
    seen.push(h.run([{ c: "x", _id: "a", update: { $set: { v: 2 } } }]));
    seen.push(h.run([{ c: "x", _id: "a", remove: true }]));
    seen.push(h.run([{ c: "x", _id: "a", insert: { v: 3 } }]));
    seen.push(h.run([{ c: "x", _id: "a", update: { $set: { v: 4 } } }]));
    seen.push(h.run([{ c: "x", _id: "a", remove: true }]));
    seen.push(h.run([{ c: "x", _id: "a", insert: { v: 5 } }]));
    expect(seen.map((r) => (r as { revnos: number[] }).revnos[0])).toEqual([2, 3, -4, 5, 6, -7, 8]);
    expect(h.store.get("x", "a")?.get("txn-revno")).toBe(8n);
  });

  test("SPEC §6.1: a missing never-seen document has revno -1; a tombstone keeps its negative revno", () => {
    const h = harness();
    expect(h.store.revno("x", "a")).toBe(-1);
    seed(h, "x", "a", {});
    h.run([{ c: "x", _id: "a", remove: true }]);
    expect(h.store.revno("x", "a")).toBe(-3);
    expect(h.store.get("x", "a")).toBeUndefined();
  });

  test("SPEC §6.1: an update that changes nothing still bumps the revno (§10.6)", () => {
    const h = harness();
    seed(h, "x", "a", { v: 1 });
    const r = h.run([{ c: "x", _id: "a", update: { $set: {} } }]);
    expect(r).toMatchObject({ outcome: "applied", revnos: [3] });
    expect(r.changes).toEqual([
      { index: 2, collection: "x", id: "a", revno: 3, kind: "update", skipped: false },
    ]);
  });

  test("SPEC §3 step 3: several ops on one document see earlier ops' revnos", () => {
    const h = harness();
    const r = h.run([
      { c: "x", _id: "a", insert: { v: 1 } },
      { c: "x", _id: "a", update: { $inc: { v: 1 } } },
      { c: "x", _id: "a", update: { $inc: { v: 1 } } },
      { c: "x", _id: "a", remove: true },
      { c: "x", _id: "a", insert: { v: 9 } },
    ]);
    expect(r).toMatchObject({ outcome: "applied", revnos: [2, 3, 4, -5, 6] });
    expect(body(h.store.get("x", "a"))).toEqual({ v: 9 });
  });
});

describe("skip rules (SPEC §7, §10.1, §10.2)", () => {
  test("SPEC §7: insert of an existing document is skipped and the rest applies", () => {
    const h = harness();
    seed(h, "x", "a", { v: 1 });
    const r = h.run([
      { c: "x", _id: "a", insert: { v: 2 } },
      { c: "x", _id: "b", insert: { v: 3 } },
    ]);
    expect(r).toMatchObject({ outcome: "applied", revnos: [2, 2] });
    expect(body(h.store.get("x", "a"))).toEqual({ v: 1 });
    expect(r.changes.map((c) => c.skipped)).toEqual([true, false]);
  });

  test("SPEC §7: update and remove of a missing document are skipped, logging the negative revno", () => {
    const h = harness();
    const r = h.run([
      { c: "x", _id: "m", update: { $set: { v: 1 } } },
      { c: "x", _id: "n", remove: true },
    ]);
    expect(r).toMatchObject({ outcome: "applied", revnos: [-1, -1] });
    expect(h.store.listCollections()).toEqual([]);
  });

  test("SPEC §9.4: emitSkipped=false suppresses events of skipped ops", () => {
    const h = harness({ emitSkipped: false });
    const r = h.run([{ c: "x", _id: "m", update: { $set: { v: 1 } } }]);
    expect(r.changes).toEqual([]);
  });
});

describe("asserts (SPEC §3 step 4, §10.5)", () => {
  test("SPEC §3: DocMissing sees earlier ops: [Remove X, Assert X DocMissing] passes", () => {
    const h = harness();
    seed(h, "x", "a", {});
    expect(
      h.run([
        { c: "x", _id: "a", remove: true },
        { c: "x", _id: "a", assert: "d-" },
      ]).outcome,
    ).toBe("applied");
  });

  test("SPEC §3: [Insert X, Assert X DocMissing] fails", () => {
    const h = harness();
    const r = h.run([
      { c: "x", _id: "a", insert: {} },
      { c: "x", _id: "a", assert: "d-" },
    ]);
    expect(r).toMatchObject({ outcome: "aborted", op: 1, reason: "assert_failed", assert: "d-" });
    expect(h.store.get("x", "a")).toBeUndefined();
  });

  test("SPEC §3: [Insert X, Assert X DocExists] on a missing X aborts", () => {
    const h = harness();
    expect(
      h.run([
        { c: "x", _id: "a", insert: {} },
        { c: "x", _id: "a", assert: "d+" },
      ]).outcome,
    ).toBe("aborted");
  });

  test("SPEC §3: query asserts see the pre-transaction document", () => {
    const h = harness();
    seed(h, "x", "a", { a: 1 });
    const bad = h.run([
      { c: "x", _id: "a", update: { $set: { a: 2 } } },
      { c: "x", _id: "a", assert: { a: 2 } },
    ]);
    expect(bad.outcome).toBe("aborted");
    const good = h.run([
      { c: "x", _id: "a", assert: { a: 1 } },
      { c: "x", _id: "a", update: { $set: { a: 2 } } },
    ]);
    expect(good).toMatchObject({ outcome: "applied", revnos: [null, 3] });
  });

  test("SPEC §7: an abort changes nothing, even ops before the failing assert", () => {
    const h = harness();
    seed(h, "x", "a", { n: 1 });
    const r = h.run([
      { c: "x", _id: "a", update: { $inc: { n: 1 } } },
      { c: "x", _id: "b", insert: {} },
      { c: "x", _id: "a", assert: { n: 5 } },
    ]);
    expect(r).toMatchObject({ outcome: "aborted", op: 2 });
    expect(body(h.store.get("x", "a"))).toEqual({ n: 1 });
    expect(h.store.get("x", "b")).toBeUndefined();
    expect(h.store.revno("x", "a")).toBe(2);
  });

  test("SPEC §6.2: txn-revno optimistic concurrency", () => {
    const h = harness();
    seed(h, "statuses", "s", { status: "idle" });
    const ok = h.run([
      { c: "statuses", _id: "s", assert: { "txn-revno": 2 }, update: { $set: { status: "busy" } } },
    ]);
    expect(ok.outcome).toBe("applied");
    const stale = h.run([
      { c: "statuses", _id: "s", assert: { "txn-revno": 2 }, update: { $set: { status: "x" } } },
    ]);
    expect(stale.outcome).toBe("aborted");
  });

  test("SPEC §4.1: a user assert containing $or works inside the runner's $or wrapper", () => {
    const h = harness();
    seed(h, "x", "a", { s: "running" });
    const r = h.run([{ c: "x", _id: "a", assert: { $or: [{ s: "running" }, { s: "aborting" }] } }]);
    expect(r.outcome).toBe("applied");
  });

  test("SPEC §4.2: a revno-0 document (written outside transactions) updates to revno 1", () => {
    const h = harness();
    seed(h, "x", "a", {});
    h.store.state.collections.get("x")?.set("z", {
      id: "z",
      doc: new Map([["_id", "z"]]),
      revno: 0,
      removedAt: 0,
      removedAtMs: undefined,
    });
    expect(h.run([{ c: "x", _id: "z", assert: "d+", update: { $set: { v: 1 } } }])).toMatchObject({
      revnos: [1],
    });
    expect([...(h.store.get("x", "z")?.keys() ?? [])]).toEqual(["_id", "txn-revno", "v"]);
  });
});

describe("all or nothing on rejected updates (SPEC §7)", () => {
  test("SPEC §7: $inc on a string rejects the whole transaction and changes nothing", () => {
    const h = harness();
    seed(h, "x", "a", { s: "str" });
    const r = h.run([
      { c: "x", _id: "b", insert: { v: 1 } },
      { c: "x", _id: "a", update: { $inc: { s: 1 } } },
    ]);
    expect(r.outcome).toBe("rejected");
    if (r.outcome !== "rejected") return;
    expect(r.error).toMatchObject({
      code: "invalid_argument",
      reason: "TYPE_MISMATCH",
      op: 1,
      mongoCode: 14,
    });
    expect(r.error.message).toContain("op 1");
    expect(h.store.get("x", "b")).toBeUndefined();
  });

  test("SPEC §7: an update of a document inserted earlier in the same transaction is validated too", () => {
    const h = harness();
    const r = h.run([
      { c: "x", _id: "a", insert: { s: "str" } },
      { c: "x", _id: "a", update: { $push: { s: 1 } } },
    ]);
    expect(r).toMatchObject({ outcome: "rejected", error: { reason: "NOT_AN_ARRAY", op: 1 } });
    expect(h.store.get("x", "a")).toBeUndefined();
  });
});

describe("change events (SPEC §9.4)", () => {
  test("SPEC §9.4: one event per change op in op order, tagged with the index; none for asserts", () => {
    const h = harness();
    seed(h, "x", "a", {});
    const r = h.run([
      { c: "y", _id: 1, insert: { v: 1 } },
      { c: "x", _id: "a", assert: "d+" },
      { c: "x", _id: "a", remove: true },
    ]);
    expect(r.changes).toEqual([
      { index: 2, collection: "y", id: 1, revno: 2, kind: "insert", skipped: false },
      { index: 2, collection: "x", id: "a", revno: -3, kind: "remove", skipped: false },
    ]);
  });

  test("SPEC §8: an empty op list applies and changes nothing", () => {
    const h = harness();
    expect(h.run([])).toMatchObject({ outcome: "applied", revnos: [], changes: [] });
  });
});
