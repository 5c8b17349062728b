/**
 * `npm run bench:catchup`: how long a new node takes to catch up on a store of N documents
 * (default 1,000,000): a one-node cluster (RocksDB, loopback) is loaded with N small documents in
 * transactions of 1,000 inserts, snapshotted, then a second node joins; the clock runs from its
 * start until it has applied the leader's commit index. Run with a large heap:
 * `node --max-old-space-size=8192 --import tsx node/bench/catchup-bench.ts`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JuraftClient } from "../client/index.js";
import { parseEndpoints } from "../cluster/discovery.js";
import { discardLogger } from "../raft/index.js";
import { JuraftNode } from "../server/juraft-node.js";

const total = Number(process.env.BENCH_DOCS ?? 1_000_000);
const perTxn = 1000;
const dir = await mkdtemp(join(tmpdir(), "juraft-catchup-"));
const common = {
  listenHost: "127.0.0.1",
  tickMs: 50,
  logger: discardLogger,
  snapshotEvery: 1_000_000_000,
  snapshotTrailing: 10,
};
const a = await JuraftNode.start({ ...common, dataDir: join(dir, "a"), name: "a", listenPort: 0 });
try {
  while (a.runtime.status().role !== "leader") await new Promise((r) => setTimeout(r, 10));
  const client = new JuraftClient({ endpoints: [a.address], timeoutMs: 120_000 });
  const t0 = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < total; i += perTxn) {
    const ops = [];
    for (let j = i; j < Math.min(total, i + perTxn); j++) {
      ops.push({
        c: "units",
        _id: `model-uuid-0123456789abcdef:unit-${j}`,
        insert: { life: 0, series: "jammy", charm: "ch:mysql-42", n: j },
      });
    }
    inflight.push(client.apply(ops));
    if (inflight.length >= 4) await inflight.shift();
  }
  await Promise.all(inflight);
  const loadS = (performance.now() - t0) / 1000;
  const snap = await a.runtime.takeSnapshot();
  console.log(
    `loaded ${total} documents in ${loadS.toFixed(1)} s (${Math.round(total / loadS)} docs/s); snapshot at ${snap.index}`,
  );
  const t1 = performance.now();
  const b = await JuraftNode.start({
    ...common,
    dataDir: join(dir, "b"),
    name: "b",
    listenPort: 0,
    join: parseEndpoints(a.address),
  });
  try {
    const target = a.runtime.status().commit;
    while (b.runtime.applied < target) await new Promise((r) => setTimeout(r, 20));
    const catchS = (performance.now() - t1) / 1000;
    console.log(
      `new node caught up on ${b.runtime.store.count("units")} documents in ${catchS.toFixed(1)} s`,
    );
  } finally {
    await b.stop();
  }
  client.close();
} finally {
  await a.stop();
  await rm(dir, { recursive: true, force: true });
}
