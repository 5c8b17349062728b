/**
 * kill -9 at random points of the risky paths (issue 8): during snapshot creation and the log
 * compaction that follows it (a Snapshot RPC, then SIGKILL 0–80 ms later), while RocksDB compacts
 * the deleted log range (SIGKILL 0–3 ms after its LOG shows the compaction job start), during a snapshot
 * install (a follower restarted behind the compacted log, killed again mid-transfer), and during
 * a membership change (RemoveMember, then the leader killed 0–60 ms later). After every round
 * the nodes restart and every acknowledged insert must still be there; at the end every node's
 * dump is byte-identical. Snapshots every 20 entries keep snapshots and compactions frequent.
 */
import { jest } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JuraftClient } from "../../node/client/index.js";
import { Rng } from "../raft/sim/rng.js";
import { FaultCluster, sleep, type FaultNode } from "./cluster.js";
import { createNet, sweepStale } from "./net.js";
import type { Net } from "./net-types.js";
import { compactionFinished, LogTail, rocksLogPath } from "./rocks-log.js";
import { converge } from "./run.js";

jest.setTimeout(240_000);

const rng = new Rng(4242);
let net: Net;
let c: FaultCluster;
let dir: string;
const members = [0, 1, 2];
const acked = new Set<string>();
const writing = new AbortController();
let writers: Promise<void> | undefined;
let writes = 0;
const killed: string[] = [];

beforeAll(async () => {
  await sweepStale();
  dir = await mkdtemp(join(tmpdir(), "juraft-crash-"));
  net = await createNet(3, { prefix: `jrf-${process.pid}-c` });
  console.log(`network mode: ${net.mode}`);
  c = new FaultCluster(net, 3, {
    dir,
    tickMs: 50,
    snapshotEvery: 40,
    snapshotTrailing: 10,
    tmpfsMiB: 0,
  });
  await c.boot(3);
  // Writers through every node with failover; only an applied outcome counts as acknowledged.
  const client = new JuraftClient({
    endpoints: members.map((m) => net.client(m)),
    timeoutMs: 3000,
  });
  writers = Promise.all(
    [0, 1, 2].map(async (w) => {
      while (!writing.signal.aborted) {
        const id = `w${w}-${writes++}`;
        try {
          const r = await client.apply([{ c: "cp", _id: id, insert: { w } }], {
            signal: writing.signal,
          });
          if (r.outcome === "applied") acked.add(id);
        } catch {
          await sleep(50); // not acknowledged: nothing to check
        }
      }
    }),
  ).then(() => {
    client.close();
  });
}, 120_000);

afterAll(async () => {
  writing.abort();
  await writers;
  await c.close();
  await net.close();
  await rm(dir, { recursive: true, force: true });
  console.log(`kill -9 points: ${killed.join("; ")}; ${acked.size} acknowledged inserts`);
}, 60_000);

const node = (s: number): FaultNode => c.nodes[s] as FaultNode;
const join_ = (s: number): string[] => [
  "--join",
  members
    .filter((m) => m !== s)
    .map((m) => net.advertise(m))
    .join(","),
];

async function restart(s: number): Promise<void> {
  if (!node(s).running) await node(s).start(c, join_(s));
}

async function leader(): Promise<number> {
  for (let i = 0; i < 150; i++) {
    const l = await c.leader();
    if (l !== undefined) return l;
    await sleep(200);
  }
  throw new Error("no leader within 30 s");
}

/** Every acknowledged insert is present (quorum read through the leader). */
async function expectNothingLost(): Promise<void> {
  // 120 s: in one full CI run (session 4, the whole suite in parallel) the cluster did not get
  // back to 3 voters within 60 s after the membership kill; the cause was not established, and
  // waitVoters now reports what every node saw when it gives up.
  await c.waitVoters(3, 120_000);
  const l = await leader();
  const snapshot = [...acked];
  const cl = c.client(l, 10_000);
  try {
    const r = await cl.find("cp", { projection: { _id: 1 }, consistency: "quorum" });
    const present = new Set(r.docs.map((d) => d.get("_id") as string));
    expect(snapshot.filter((id) => !present.has(id))).toEqual([]);
  } finally {
    cl.close();
  }
}

test("kill -9 during snapshot creation and log compaction", async () => {
  for (let round = 0; round < 2; round++) {
    await sleep(300);
    const s = rng.pick(members);
    const delay = rng.range(0, 80);
    const cl = c.client(s, 3000);
    const snap = cl
      .cluster()
      .snapshot({})
      .catch(() => undefined);
    await sleep(delay);
    await node(s).signal("SIGKILL");
    await snap;
    cl.close();
    killed.push(`snapshot+compaction on n${s} +${delay}ms`);
    await restart(s);
    await expectNothingLost();
  }
});

test("kill -9 while RocksDB compacts the deleted log", async () => {
  // RocksStorage compacts the deleted key range (CompactRange) after each log compaction; watch
  // a node's RocksDB LOG and kill it as a compaction job starts. A burst of 32 KiB documents
  // first gives the job megabytes to rewrite, so the kill lands inside it.
  const pad = (): string => randomBytes(24 * 1024).toString("base64");
  let inside = 0;
  for (let round = 0; round < 6 && inside < 2; round++) {
    const s = rng.pick(members);
    const l = await leader();
    const cl = c.client(l, 10_000);
    try {
      for (let i = 0; i < 12; i++) {
        const ids = [0, 1, 2, 3, 4].map((k) => `big-${round}-${i}-${k}`);
        const ops = ids.map((_id) => ({ c: "cp", _id, insert: { pad: pad() } }));
        const r = await cl.apply(ops).catch(() => undefined); // not acknowledged: not checked
        if (r?.outcome === "applied") for (const id of ids) acked.add(id);
      }
    } finally {
      cl.close();
    }
    await using tail = await LogTail.at(rocksLogPath(c.dataDir(s)));
    const sc = c.client(s, 3000);
    const snap = sc
      .cluster()
      .snapshot({})
      .catch(() => undefined);
    const job = await tail.waitCompaction(10_000);
    const delay = rng.range(0, 3);
    await sleep(delay);
    await node(s).signal("SIGKILL");
    await snap;
    sc.close();
    await tail.read();
    const where =
      job === undefined
        ? "no compaction within 10 s"
        : `${job.reason} job ${job.job} ${compactionFinished(tail.text, job.job) ? "finished" : "in progress"}`;
    if (job !== undefined && !compactionFinished(tail.text, job.job)) inside++;
    killed.push(`RocksDB compaction on n${s} +${delay}ms (${where})`);
    await restart(s);
    await expectNothingLost();
  }
  // The point of the test: at least one kill hit a compaction in progress.
  expect(inside).toBeGreaterThan(0);
});

test("kill -9 during a snapshot install", async () => {
  const l = await leader();
  const f = rng.pick(members.filter((m) => m !== l));
  const behind = (await c.status(f))?.appliedIndex ?? 0n;
  await node(f).signal("SIGKILL");
  // Let the leader snapshot and compact past the follower's log.
  for (let i = 0; i < 150; i++) {
    const st = await c.status(await leader());
    if (st !== undefined && st.snapshotIndex > behind + 30n) break;
    await sleep(200);
  }
  await restart(f);
  const delay = rng.range(50, 1200);
  await sleep(delay);
  await node(f).signal("SIGKILL");
  killed.push(`install on n${f} +${delay}ms`);
  await restart(f);
  await expectNothingLost();
});

test("kill -9 of the leader during a membership change", async () => {
  const l = await leader();
  const f = rng.pick(members.filter((m) => m !== l));
  const id = BigInt(node(f).id);
  const cl = c.client(l, 5000);
  const removing = cl
    .cluster()
    .removeMember({ nodeId: id })
    .catch(() => undefined);
  const delay = rng.range(0, 60);
  await sleep(delay);
  await node(l).signal("SIGKILL");
  await removing;
  cl.close();
  killed.push(`membership (remove n${f}) leader n${l} +${delay}ms`);
  await restart(l);
  // Was the removal committed? Then n_f rejoins as a new member; else it stays.
  const nl = await leader();
  const st = await c.status(nl);
  if (st !== undefined && !st.members.some((m) => m.id === id)) {
    await node(f).signal("SIGKILL");
    await c.freshDir(f);
    node(f).name = `n${f}g1`;
    await restart(f);
  }
  await expectNothingLost();
});

test("after all of it, every node's dump is byte-identical", async () => {
  writing.abort();
  await writers;
  await expectNothingLost();
  const v = await converge(c, members);
  expect(v).toMatchObject({ valid: true, nodes: 3 });
  expect(acked.size).toBeGreaterThan(50);
});
