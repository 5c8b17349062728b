/**
 * kill -9 at random points of the risky paths (issue 8): during snapshot creation and the log
 * compaction that follows it (a Snapshot RPC, then SIGKILL 0–80 ms later), during a snapshot
 * install (a follower restarted behind the compacted log, killed again mid-transfer), and during
 * a membership change (RemoveMember, then the leader killed 0–60 ms later). After every round
 * the nodes restart and every acknowledged insert must still be there; at the end every node's
 * dump is byte-identical. Snapshots every 20 entries keep snapshots and compactions frequent.
 */
import { jest } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JuraftClient } from "../../node/client/index.js";
import { Rng } from "../raft/sim/rng.js";
import { FaultCluster, sleep, type FaultNode } from "./cluster.js";
import { createNet, sweepStale } from "./net.js";
import type { Net } from "./net-types.js";
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
  await c.waitVoters(3, 60_000);
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
