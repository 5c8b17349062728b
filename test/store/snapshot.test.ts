/** Snapshot stream, restore and mongodump round trips (issue 3; DESIGN.md §7). */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Binary, Decimal128, Double, ObjectId, Timestamp } from "bson";
import type { DocumentStore, DumpFile, Value } from "../../node/store/index.js";
import {
  SnapshotReader,
  UtcDate,
  decodeStream,
  encodeDoc,
  loadMongodump,
  mongodumpFiles,
  restoreSnapshot,
} from "../../node/store/index.js";
import { body, concat, harness } from "./helpers.js";

function bytes(store: DocumentStore): Uint8Array {
  return concat(store.snapshot());
}

function populated() {
  const h = harness();
  h.run(
    [
      {
        c: "units",
        _id: "u/0",
        insert: { life: 0, types: [1, 2n, new Double(3), Decimal128.fromString("4.5")] },
      },
      {
        c: "units",
        _id: new ObjectId("64b7f0c2a1b2c3d4e5f60718"),
        insert: { bin: new Binary(new Uint8Array([1, 2]), 4) },
      },
      {
        c: "misc",
        _id: { k: 1 },
        insert: new Map<string, unknown>([
          ["at", new UtcDate(5n)],
          ["ts", new Timestamp({ t: 1, i: 2 })],
          ["re", /x/i],
          ["0", "first"],
        ]),
      },
      { c: "gone", _id: "g", insert: {} },
    ],
    { txnId: "t1", timeMs: 1000 },
  );
  h.run([{ c: "gone", _id: "g", remove: true }], { txnId: "t2" });
  h.run([{ c: "units", _id: "u/0", assert: { life: 1 } }], { txnId: "t3" });
  h.run([{ c: "units", _id: "u/0", update: { $inc: { life: "x" } } }], { txnId: "t4" });
  return h;
}

describe("snapshot and restore", () => {
  test("snapshot -> restore -> snapshot is byte-identical, including tombstones and the txn table", () => {
    const h = populated();
    const first = bytes(h.store);
    const restored = restoreSnapshot(h.store.snapshot());
    expect(bytes(restored)).toEqual(first);
    expect(restored.revno("gone", "g")).toBe(-3);
    expect(restored.appliedIndex).toBe(4);
    expect(restored.applyTxn({ index: 5, txnId: "t4", ops: [] })).toMatchObject({
      outcome: "rejected",
      duplicate: true,
      error: { reason: "TYPE_MISMATCH", op: 0 },
    });
    expect(restored.applyTxn({ index: 6, txnId: "t3", ops: [] })).toMatchObject({
      outcome: "aborted",
      duplicate: true,
      assert: new Map([["life", 1]]),
    });
  });

  test("field order survives, including integer-like names", () => {
    const h = populated();
    const restored = restoreSnapshot(h.store.snapshot());
    expect([...(restored.get("misc", { k: 1 })?.keys() ?? [])]).toEqual([
      "_id",
      "at",
      "ts",
      "re",
      "0",
      "txn-revno",
    ]);
  });

  test("the mode and options are part of the snapshot", () => {
    const s = harness({ mode: "server", tombstones: { maxCount: 7 } });
    const r = restoreSnapshot(s.store.snapshot());
    expect(r.mode).toBe("server");
    expect(r.options.tombstones.maxCount).toBe(7);
  });

  test("the reader accepts chunks split anywhere", () => {
    const all = bytes(populated().store);
    const reader = new SnapshotReader();
    for (let i = 0; i < all.length; i += 7) reader.push(all.subarray(i, i + 7));
    expect(bytes(reader.finish())).toEqual(all);
  });

  test("a snapshot is taken when requested: later applies do not change it", () => {
    const h = populated();
    const before = bytes(h.store);
    const it = h.store.snapshot();
    h.run([{ c: "units", _id: "late", insert: {} }]);
    h.run([{ c: "units", _id: "u/0", update: { $set: { life: 1 } } }]); // written in place
    h.run([{ c: "gone", _id: "g", insert: {} }]); // its tombstone replaced
    expect(concat(it)).toEqual(before);
  });

  test("a mongodump file holds its collection as it was when the file was reached", () => {
    const h = populated();
    let units: DumpFile | undefined;
    for (const f of mongodumpFiles(h.store, "juju")) {
      if (f.path === "juju/units.bson") {
        units = f;
        break;
      }
    }
    h.run([{ c: "units", _id: "u/0", update: { $set: { life: 2 } } }]); // written in place
    const docs = [...decodeStream(units?.chunks ?? [])];
    expect(docs.map((d) => d.get("life"))).toEqual([0, undefined]);
    expect(h.store.get("units", "u/0")?.get("life")).toBe(2);
  });

  test("truncated or corrupt snapshots are data_loss errors", () => {
    const all = bytes(populated().store);
    expect(() => restoreSnapshot([all.subarray(0, all.length - 3)])).toThrow(
      expect.objectContaining({ code: "data_loss" }) as Error,
    );
    const bad = all.slice();
    bad[4] = 0x99;
    expect(() => restoreSnapshot([bad])).toThrow(
      expect.objectContaining({ code: "data_loss" }) as Error,
    );
  });
});

function writeDump(dir: string, files: Iterable<DumpFile>): void {
  for (const f of files) {
    const path = join(dir, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, concat(f.chunks));
  }
}

function readDump(dir: string): DumpFile[] {
  const out: DumpFile[] = [];
  for (const db of readdirSync(dir)) {
    for (const name of readdirSync(join(dir, db)).sort()) {
      out.push({ path: `${db}/${name}`, chunks: [readFileSync(join(dir, db, name))] });
    }
  }
  return out;
}

describe("mongodump", () => {
  test("write a dump directory and read it back: same documents, revnos and tombstones", () => {
    const h = populated();
    const dir = mkdtempSync(join(tmpdir(), "juraft-dump-"));
    try {
      writeDump(dir, mongodumpFiles(h.store, "juju"));
      expect(readdirSync(join(dir, "juju")).sort()).toEqual([
        "gone.bson",
        "gone.metadata.json",
        "misc.bson",
        "misc.metadata.json",
        "txns.stash.bson",
        "txns.stash.metadata.json",
        "units.bson",
        "units.metadata.json",
      ]);
      const meta = JSON.parse(
        readFileSync(join(dir, "juju", "units.metadata.json"), "utf8"),
      ) as Record<string, unknown>;
      expect(meta).toMatchObject({
        collectionName: "units",
        indexes: [{ name: "_id_", key: { _id: { $numberInt: "1" } } }],
      });
      const loaded = loadMongodump(readDump(dir));
      expect(loaded.revno("units", "u/0")).toBe(2);
      expect(loaded.revno("gone", "g")).toBe(-3);
      expect(body(loaded.get("misc", { k: 1 }))).toEqual(body(h.store.get("misc", { k: 1 })));
      expect(loaded.listCollections()).toEqual(["gone", "misc", "units"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a Juju dump: txn-queue is dropped, txns/txns.log skipped, revno-less documents are revno 0", () => {
    const raw = (d: Map<string, Value>): Uint8Array => encodeDoc(d);
    const files: DumpFile[] = [
      {
        path: "juju/units.bson",
        chunks: [
          raw(
            new Map<string, Value>([
              ["_id", "u/0"],
              ["life", 0],
              ["txn-revno", 7n],
              ["txn-queue", ["tok"]],
            ]),
          ),
        ],
      },
      {
        path: "juju/settings.bson",
        chunks: [
          raw(
            new Map<string, Value>([
              ["_id", "s"],
              ["v", 1],
            ]),
          ),
        ],
      },
      { path: "juju/txns.log.bson", chunks: [raw(new Map<string, Value>([["_id", "l"]]))] },
      { path: "juju/txns.bson", chunks: [raw(new Map<string, Value>([["_id", "t"]]))] },
      { path: "admin/system.users.bson", chunks: [raw(new Map<string, Value>([["_id", "u"]]))] },
    ];
    const loaded = loadMongodump(files);
    expect(loaded.get("units", "u/0")?.has("txn-queue")).toBe(false);
    expect(loaded.revno("units", "u/0")).toBe(7);
    expect(loaded.revno("settings", "s")).toBe(0);
    expect(loaded.listCollections()).toEqual(["settings", "units"]);
    expect(
      loaded.applyTxn({ index: 1, ops: [{ c: "settings", _id: "s", update: { $set: { v: 2 } } }] }),
    ).toMatchObject({ revnos: [1] });
    const docs = [...decodeStream([...mongodumpFiles(loaded)][0]?.chunks ?? [])];
    expect(docs.map((d) => d.get("_id"))).toEqual(["s"]);
  });
});
