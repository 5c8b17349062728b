/**
 * Every `juraft` command against real serve processes, with its documented exit status
 * (0 ok / applied, 1 error, 2 usage, 3 aborted), and `juraft local` starting and stopping a
 * cluster of processes.
 */
import { jest } from "@jest/globals";
import { spawn } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EJSON } from "bson";
import { loadMongodump, toCanonicalExtJson, type DumpFile } from "../../node/store/index.js";
import {
  CliStream,
  Harness,
  JURAFT,
  cli,
  freePortRange,
  jsonLines,
  until,
  type CliResult,
  type ProcNode,
} from "./harness.js";

jest.setTimeout(60_000);

let h: Harness;
let nodes: ProcNode[];
let ep: string;

const ok = (r: CliResult): CliResult => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r;
};

beforeAll(async () => {
  h = await Harness.create("cli");
  const n0 = await h.node("c0");
  await n0.start();
  const n1 = await h.node("c1", ["--join", n0.address]);
  const n2 = await h.node("c2", ["--join", n0.address]);
  await Promise.all([n1.start(), n2.start()]);
  nodes = [n0, n1, n2];
  ep = h.endpoints(nodes);
  await until("three voters", async () => {
    const r = await cli(["members", "list"], { endpoints: ep });
    return r.code === 0 && jsonLines(r.lines).filter((m) => m.role === "voter").length === 3;
  });
}, 60_000);

afterAll(async () => {
  await h.cleanup();
}, 30_000);

describe("juraft txn", () => {
  const insert = '[{"c": "machines", "_id": "0", "assert": "d-", "insert": {"life": 0}}]';

  test("0 applied, 3 aborted, duplicate txn id answered from the record", async () => {
    const ops = '[{"c": "machines", "_id": "1", "insert": {"life": 1}}]';
    const [a, t1r] = await Promise.all([
      cli(["txn", insert], { endpoints: ep }),
      cli(["txn", ops, "--txn-id", "same-id"], { endpoints: ep }),
    ]);
    expect(JSON.parse(ok(a).stdout)).toMatchObject({ outcome: "applied", revnos: [2] });
    const t1 = ok(t1r);
    const [b, t2r] = await Promise.all([
      cli(["txn", insert], { endpoints: ep }),
      cli(["txn", ops, "--txn-id", "same-id"], { endpoints: ep }),
    ]);
    expect(b.code).toBe(3);
    expect(JSON.parse(b.stdout)).toMatchObject({ outcome: "aborted", op: 0 });
    const t2 = ok(t2r);
    const [j1, j2] = [JSON.parse(t1.stdout), JSON.parse(t2.stdout)] as { index: number }[];
    expect(j2).toMatchObject({ outcome: "applied", duplicate: true, txnId: "same-id" });
    expect(j2?.index).toBe(j1?.index);
  });

  test("1 for a server-side error: unknown update operator, named with its reason", async () => {
    const r = await cli(["txn", '[{"c": "machines", "_id": "0", "update": {"$frob": {"a": 1}}}]'], {
      endpoints: ep,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid_argument/);
    expect(r.stderr).toMatch(/\$frob/);
  });

  test("2 for usage: malformed JSON, not an array, no ops, unknown flag or command", async () => {
    const cases: [string, string[]][] = [
      ["malformed JSON", ["txn", "[{"]],
      ["not an array", ["txn", '{"c": "x"}']],
      ["no ops at all", ["txn"]],
      ["unknown flag", ["txn", "--bogus", "[]"]],
      ["unknown command", ["frobnicate"]],
      ["bad --endpoints", ["--endpoints", "a:b:c", "status"]],
      // These crashed with a stack trace and exit 1 before serve mapped them to usage errors.
      ["serve --listen a:b:c", ["serve", "--listen", "a:b:c", "--data-dir", join(h.dir, "never")]],
      ["serve --join 1.2.3:x", ["serve", "--join", "1.2.3:x", "--data-dir", join(h.dir, "never")]],
    ];
    // In parallel: each is a process start; none touches the cluster.
    const results = await Promise.all(
      cases.map(async ([what, args]) => {
        const r = await cli(args, args.includes("--endpoints") ? {} : { endpoints: ep });
        return { what, code: r.code, stderr: r.stderr !== "", stdout: r.stdout };
      }),
    );
    expect(results).toEqual(cases.map(([what]) => ({ what, code: 2, stderr: true, stdout: "" })));
  });

  test("-f FILE and - (stdin)", async () => {
    const file = join(h.dir, "ops.json");
    await writeFile(file, '[{"c": "files", "_id": "f", "insert": {"from": "file"}}]');
    const [f, s, missing] = await Promise.all([
      cli(["txn", "-f", file], { endpoints: ep }),
      cli(["txn", "-"], {
        endpoints: ep,
        stdin: '[{"c": "files", "_id": "s", "insert": {"from": "stdin"}}]',
      }),
      cli(["txn", "-f", join(h.dir, "nope.json")], { endpoints: ep }),
    ]);
    expect(JSON.parse(ok(f).stdout)).toMatchObject({ outcome: "applied" });
    expect(JSON.parse(ok(s).stdout)).toMatchObject({ outcome: "applied" });
    expect(missing.code).toBe(1);
    const g = ok(await cli(["get", "files", "s"], { endpoints: ep }));
    expect(JSON.parse(g.stdout)).toEqual({
      _id: "s",
      from: "stdin",
      "txn-revno": { $numberLong: "2" },
    });
  });
});

describe("reads", () => {
  beforeAll(async () => {
    ok(
      await cli(
        [
          "txn",
          JSON.stringify(
            [1, 2, 3, 4, 5].map((n) => ({
              c: "units",
              _id: `u${n}`,
              insert: { n, app: n % 2 === 0 ? "even" : "odd" },
            })),
          ),
        ],
        { endpoints: ep },
      ),
    );
  });

  test("get: 0 with the document, 1 when missing, 2 for a bad consistency", async () => {
    const [found, local, missing, bad] = await Promise.all([
      cli(["get", "units", "u3"], { endpoints: ep }),
      cli(["get", "units", "u3", "--consistency", "local"], { endpoints: nodes[0]?.address ?? "" }),
      cli(["get", "units", "u9"], { endpoints: ep }),
      cli(["get", "units", "u3", "--consistency", "eventual"], { endpoints: ep }),
    ]);
    expect(found.code).toBe(0);
    const doc = EJSON.parse(found.stdout, { relaxed: true }) as Record<string, unknown>;
    expect(doc).toMatchObject({ _id: "u3", n: 3, app: "odd" });
    expect(local.code).toBe(0);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/no document "u9"/);
    expect(bad.code).toBe(2);
  });

  test("find with filter, sort, limit, skip and projection", async () => {
    const [all, some, bad] = await Promise.all([
      cli(["find", "units"], { endpoints: ep }),
      cli(
        [
          "find",
          "units",
          '{"n": {"$gte": 2}}',
          "--sort",
          '{"n": -1}',
          "--skip",
          "1",
          "--limit",
          "2",
          "--projection",
          '{"n": 1}',
        ],
        { endpoints: ep },
      ),
      cli(["find", "units", "--limit", "-1"], { endpoints: ep }),
    ]);
    expect(all.code).toBe(0);
    expect(all.lines).toHaveLength(5);
    expect(some.code).toBe(0);
    expect(some.lines.map((l) => EJSON.parse(l, { relaxed: true }) as unknown)).toEqual([
      { _id: "u4", n: 4 },
      { _id: "u3", n: 3 },
    ]);
    // Canonical Extended JSON, one document per line.
    expect(some.lines[0]).toBe('{"_id":"u4","n":{"$numberInt":"4"}}');
    expect(bad.code).toBe(2);
    const filtered = ok(await cli(["find", "units", '{"app": "even"}'], { endpoints: ep }));
    expect(filtered.lines).toHaveLength(2);
  });

  test("watch prints events from --from on; a bad --from is a usage error", async () => {
    const a = ok(await cli(["txn", '[{"c": "wcli", "_id": 1, "insert": {}}]'], { endpoints: ep }));
    const index = (JSON.parse(a.stdout) as { index: number }).index;
    const w = new CliStream(["watch", "wcli", "--from", String(index)], ep);
    try {
      await until("the replayed event", () => w.lines.length >= 1);
      ok(await cli(["txn", '[{"c": "wcli", "_id": 2, "insert": {}}]'], { endpoints: ep }));
      await until("the live event", () => w.lines.length >= 2);
      expect(jsonLines(w.lines)).toEqual([
        {
          index,
          collection: "wcli",
          id: { $numberInt: "1" },
          revno: 2,
          kind: "insert",
          skipped: false,
        },
        expect.objectContaining({ collection: "wcli", id: { $numberInt: "2" }, kind: "insert" }),
      ]);
    } finally {
      expect((await w.stop("SIGINT")).code).toBe(0);
    }
    const bad = await cli(["watch", "--from", "yesterday"], { endpoints: ep });
    expect(bad.code).toBe(2);
  });
});

describe("administration", () => {
  test("status and members list", async () => {
    const [st, list] = await Promise.all([
      cli(["status"], { endpoints: nodes[1]?.address ?? "" }),
      cli(["members", "list"], { endpoints: ep }),
    ]);
    const s = JSON.parse(ok(st).stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ id: nodes[1]?.id, name: "c1", members: 3, joint: false });
    expect(["leader", "follower"]).toContain(s.role);
    expect(s.appliedIndex).toBeGreaterThan(0);
    const m = jsonLines(ok(list).lines);
    expect(m.map((x) => x.name).sort()).toEqual(["c0", "c1", "c2"]);
    expect(m.filter((x) => x.leader === true)).toHaveLength(1);
  });

  test("add-learner, promote, transfer-leadership, remove; their errors", async () => {
    const extra = await h.node("c3");
    // The error cases first, in parallel with the add (they do not depend on it).
    const [add, notMember, notId, unknown, missingArg] = await Promise.all([
      cli(["members", "add-learner", "c3", extra.address], { endpoints: ep }),
      cli(["members", "remove", "12345"], { endpoints: ep }),
      cli(["members", "promote", "c1"], { endpoints: ep }),
      cli(["members", "frob"], { endpoints: ep }),
      cli(["members", "add-learner", "only-a-name"], { endpoints: ep }),
    ]);
    expect(notMember.code).toBe(1);
    expect(notMember.stderr).toMatch(/not_found|NO_SUCH_MEMBER/);
    expect(notId.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(missingArg.code).toBe(2);
    const id = (JSON.parse(ok(add).stdout) as { added: string; id: string }).id;
    expect(JSON.parse(add.stdout)).toMatchObject({ added: "c3" });
    const [dup, listed] = await Promise.all([
      cli(["members", "add-learner", "c3", extra.address], { endpoints: ep }),
      cli(["members", "list"], { endpoints: ep }),
    ]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already_exists|NAME_IN_USE/);
    let list = jsonLines(ok(listed).lines);
    expect(list.find((m) => m.id === id)).toMatchObject({ name: "c3", role: "learner" });

    ok(await cli(["members", "promote", id], { endpoints: ep }));
    list = jsonLines(ok(await cli(["members", "list"], { endpoints: ep })).lines);
    expect(list.find((m) => m.id === id)).toMatchObject({ role: "voter" });

    // The pre-registered member comes up and joins under its registered id.
    extra.args = ["--join", ep];
    const serving = await extra.start();
    expect(serving.id).toBe(id);
    const all = [...nodes, extra];
    const tr = ok(
      await cli(["members", "transfer-leadership", id], { endpoints: h.endpoints(all) }),
    );
    expect(JSON.parse(tr.stdout)).toEqual({ leader: id });
    expect((await h.leader(15_000, all)).name).toBe("c3");

    ok(await cli(["members", "remove", id], { endpoints: h.endpoints(all) }));
    const t0 = performance.now();
    const c = h.client(nodes);
    await until("three members", async () => (await c.status()).members.length === 3);
    const t1 = performance.now();
    expect(await extra.stop()).toBe(0);
    console.log(
      `removed member: gone from status in ${(t1 - t0).toFixed(0)} ms, stopped in ${(performance.now() - t1).toFixed(0)} ms`,
    );
  });

  test("1 when no endpoint answers", async () => {
    const r = await cli(["status"], { endpoints: "127.0.0.1:1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unavailable/);
  });
});

describe("juraft dump", () => {
  test("Extended JSON lines, and a mongodump directory loadMongodump reads back", async () => {
    ok(await cli(["txn", '[{"c": "gone", "_id": "x", "insert": {"a": 1}}]'], { endpoints: ep }));
    ok(await cli(["txn", '[{"c": "gone", "_id": "x", "remove": true}]'], { endpoints: ep }));
    const dir = join(h.dir, "dump");
    const [lines, md] = await Promise.all([
      cli(["dump"], { endpoints: ep }),
      cli(["dump", "--mongodump", dir, "--db", "juju"], { endpoints: ep }),
    ]);
    const dumped = ok(lines).lines;
    expect(dumped.length).toBeGreaterThan(5);
    const summary = JSON.parse(ok(md).stdout) as { dumped: string; files: number };
    expect(summary.dumped).toBe(dir);
    const names = (await readdir(join(dir, "juju"))).sort();
    expect(names).toEqual(
      expect.arrayContaining(["machines.bson", "machines.metadata.json", "units.bson"]),
    );
    expect(names).toHaveLength(summary.files);
    const files: DumpFile[] = await Promise.all(
      names.map(async (n) => ({
        path: `juju/${n}`,
        chunks: [await readFile(join(dir, "juju", n))],
      })),
    );
    const store = loadMongodump(files);
    const back: string[] = [];
    for (const c of store.listCollections())
      for (const d of store.find(c))
        back.push(`{"collection":${JSON.stringify(c)},"document":${toCanonicalExtJson(d)}}`);
    // Both captured the same state unless a write landed between them; none did.
    expect(back.sort()).toEqual([...dumped].sort());
    expect(dumped.some((l) => l.includes('"gone"'))).toBe(false);
  });
});

test("juraft local --nodes 3 starts three processes and stops them all on SIGINT", async () => {
  const base = await freePortRange(3);
  const child = spawn(
    process.execPath,
    [
      JURAFT,
      "local",
      "--nodes",
      "3",
      "--base-port",
      String(base),
      "--data-dir",
      join(h.dir, "local"),
    ],
    // Its own process group, so that a failing test can kill the nodes it started too.
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
      detached: true,
    },
  );
  const exited = new Promise<number | null>((r) => {
    child.once("exit", (c) => {
      r(c);
    });
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d: string) => {
    out += d;
  });
  try {
    await until("cluster-ready", () => out.includes('"cluster-ready"'), 45_000, 50);
    const ready = out
      .split("\n")
      .map((l) => (l.startsWith("{") ? (JSON.parse(l) as Record<string, unknown>) : {}))
      .find((l) => l.event === "cluster-ready");
    const endpoints = `127.0.0.1:${base},127.0.0.1:${base + 1},127.0.0.1:${base + 2}`;
    expect(ready).toMatchObject({ endpoints });
    const pids = out.split("\n").filter((l) => l.includes('"serving"'));
    expect(pids).toHaveLength(3);
    await until("three voters in the local cluster", async () => {
      const r = await cli(["members", "list"], { endpoints });
      return r.code === 0 && jsonLines(r.lines).filter((m) => m.role === "voter").length === 3;
    });
    ok(await cli(["txn", '[{"c": "l", "_id": 1, "insert": {}}]'], { endpoints }));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    // Every node is gone: nothing answers on any port.
    const after = await cli(["status"], { endpoints });
    expect(after.code).toBe(1);
  } finally {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is gone: every node exited.
      }
    }
  }
});
