/**
 * `juraft import --mongodump DIR`: a dump of one cluster loads into another through Raft, every
 * document keeping its txn-revno and removed documents their negative revnos (SPEC §6), so
 * revno asserts written against the old database keep working.
 */
import { jest } from "@jest/globals";
import { join } from "node:path";
import { Harness, cli, jsonLines, type CliResult } from "./harness.js";

jest.setTimeout(60_000);

let h: Harness;

beforeAll(async () => {
  h = await Harness.create("import");
});
afterAll(async () => {
  await h.cleanup();
});

const ok = (r: CliResult): CliResult => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r;
};

test("a mongodump of one cluster imports into another keeping every txn-revno", async () => {
  const src = await h.node("src");
  await src.start();
  const dst = await h.node("dst");
  await dst.start();
  const a = ["--endpoints", src.address];
  const b = ["--endpoints", dst.address];
  const ops = (v: unknown): string => JSON.stringify(v);
  ok(
    await cli([
      ...a,
      "txn",
      ops([
        { c: "units", _id: "u/0", insert: { life: 0 } },
        { c: "units", _id: "u/1", insert: { life: 0 } },
      ]),
    ]),
  );
  ok(await cli([...a, "txn", ops([{ c: "units", _id: "u/0", update: { $set: { life: 1 } } }])]));
  ok(await cli([...a, "txn", ops([{ c: "units", _id: "u/1", remove: true }])]));
  const dir = join(h.dir, "dump");
  ok(await cli([...a, "dump", "--mongodump", dir]));

  const imported = jsonLines(
    ok(await cli([...b, "import", "--mongodump", dir, "--batch", "1"])).lines,
  );
  expect(imported[0]).toMatchObject({ imported: 2, collections: 2 });
  // The live document kept its revno: an assert on it passes, a stale one aborts.
  const got = ok(await cli([...b, "get", "units", "u/0"])).stdout;
  expect(got).toContain('"txn-revno":{"$numberLong":"3"}');
  const stale = await cli([
    ...b,
    "txn",
    ops([{ c: "units", _id: "u/0", assert: { "txn-revno": 2 }, update: { $set: { life: 2 } } }]),
  ]);
  expect(stale.code).toBe(3);
  ok(
    await cli([
      ...b,
      "txn",
      ops([{ c: "units", _id: "u/0", assert: { "txn-revno": 3 }, update: { $set: { life: 2 } } }]),
    ]),
  );
  // The removed document's tombstone came along: re-inserting continues from its revno (-3 -> 4).
  const re = jsonLines(
    ok(await cli([...b, "txn", ops([{ c: "units", _id: "u/1", insert: { life: 0 } }])])).lines,
  );
  expect(re[0]).toMatchObject({ outcome: "applied", revnos: [4] });
});

test("import reports a missing dump directory and bad flags", async () => {
  const n = h.nodes[0];
  if (n === undefined) throw new Error("no node");
  const missing = await cli([
    "--endpoints",
    n.address,
    "import",
    "--mongodump",
    join(h.dir, "nowhere"),
  ]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("cannot read");
  expect((await cli(["--endpoints", n.address, "import"])).code).toBe(2);
  expect(
    (await cli(["--endpoints", n.address, "import", "--mongodump", h.dir, "--batch", "0"])).code,
  ).toBe(2);
});
