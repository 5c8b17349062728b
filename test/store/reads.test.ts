/** Reads (DESIGN.md §4): get, find with filter/projection/sort/skip/limit, count, collections. */
import { body, harness, plain } from "./helpers.js";

function fixture() {
  const h = harness();
  h.run([
    { c: "units", _id: "u/0", insert: { life: 0, n: 3, tags: ["b"], s: { st: "idle", x: 1 } } },
    {
      c: "units",
      _id: "u/1",
      insert: { life: 1, n: 1, tags: ["a", "z"], s: { st: "busy", x: 2 } },
    },
    { c: "units", _id: "u/2", insert: { life: 2, n: 2, s: { st: "idle", x: 3 } } },
    { c: "apps", _id: 7, insert: { name: "wp" } },
  ]);
  return h;
}

describe("reads", () => {
  test("get by _id of any type, numeric ids equal across types (SPEC §1)", () => {
    const h = fixture();
    expect(body(h.store.get("units", "u/1"))).toMatchObject({ life: 1 });
    expect(body(h.store.get("apps", 7n))).toEqual({ name: "wp" });
    expect(h.store.get("apps", 8)).toBeUndefined();
    expect(h.store.get("nope", "x")).toBeUndefined();
  });
  test("find with filter, in natural order", () => {
    const h = fixture();
    expect(h.store.find("units", { filter: { "s.st": "idle" } }).map((d) => d.get("_id"))).toEqual([
      "u/0",
      "u/2",
    ]);
    expect(h.store.find("units").length).toBe(3);
  });
  test("find with sort, skip and limit", () => {
    const h = fixture();
    const ids = (o: object) => h.store.find("units", o).map((d) => d.get("_id"));
    expect(ids({ sort: { n: 1 } })).toEqual(["u/1", "u/2", "u/0"]);
    expect(ids({ sort: { n: -1 }, skip: 1, limit: 1 })).toEqual(["u/2"]);
    expect(ids({ sort: { tags: 1 } })).toEqual(["u/2", "u/1", "u/0"]);
    expect(ids({ skip: 2 })).toEqual(["u/2"]);
  });
  test("find with inclusion and exclusion projections", () => {
    const h = fixture();
    const [inc] = h.store.find("units", {
      filter: { _id: "u/0" },
      projection: { life: 1, "s.st": 1 },
    });
    expect(plain(inc)).toEqual({ _id: "u/0", life: 0, s: { st: "idle" } });
    const [exc] = h.store.find("units", {
      filter: { _id: "u/0" },
      projection: { _id: 0, s: 0, tags: 0, "txn-revno": 0 },
    });
    expect(plain(exc)).toEqual({ life: 0, n: 3 });
  });
  test("count and listCollections", () => {
    const h = fixture();
    expect(h.store.count("units", { life: { $ne: 2 } })).toBe(2);
    expect(h.store.count("units")).toBe(3);
    expect(h.store.listCollections()).toEqual(["apps", "units"]);
  });
  test("bad queries are coded errors", () => {
    const h = fixture();
    expect(() => h.store.find("units", { sort: { n: 2 } })).toThrow(/sort direction/);
    expect(() => h.store.find("units", { projection: { a: 1, b: 0 } })).toThrow(/mix/);
    expect(() => h.store.find("units", { limit: -1 })).toThrow(/limit/);
    expect(() => h.store.count("units", { $foo: 1 })).toThrow(/unknown operator/);
  });
});
