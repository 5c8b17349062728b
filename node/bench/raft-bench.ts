/**
 * `npm run bench:raft`: committed entries per second through a 3-node in-memory Raft cluster
 * with no I/O (MemoryStorage, messages handed over in-process), 256-byte entries, proposals
 * batched. It measures the core's own cost: what the Ready loop, replication and commit
 * bookkeeping allow before any disk or network is involved.
 */
import { MemoryStorage, RawNode, type Message, type NodeId } from "../raft/index.js";

interface BenchNode {
  readonly raw: RawNode;
  readonly storage: MemoryStorage;
  applied: number;
}

const entryBytes = 256;
const voters: NodeId[] = [1n, 2n, 3n];

function createCluster(): Map<NodeId, BenchNode> {
  const nodes = new Map<NodeId, BenchNode>();
  let seed = 1;
  for (const id of voters) {
    const storage = new MemoryStorage();
    const raw = new RawNode({
      id,
      storage,
      electionTick: 10,
      heartbeatTick: 1,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: 256,
      random: (n) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n,
    });
    raw.bootstrap(voters);
    nodes.set(id, { raw, storage, applied: 0 });
  }
  return nodes;
}

/** Runs every node's Ready loop, delivering messages, until the cluster is quiet. */
function pump(nodes: Map<NodeId, BenchNode>): void {
  let inbox: Message[] = [];
  for (let rounds = 0; rounds < 1000; rounds++) {
    let busy = false;
    for (const m of inbox) nodes.get(m.to)?.raw.step(m);
    inbox = [];
    for (const node of nodes.values()) {
      while (node.raw.hasReady()) {
        busy = true;
        const rd = node.raw.ready();
        if (rd.snapshot !== undefined) node.storage.applySnapshot(rd.snapshot);
        node.storage.append(rd.entries);
        if (rd.hardState !== undefined) node.storage.setHardState(rd.hardState);
        for (const m of rd.messages) inbox.push(m);
        for (const e of rd.committedEntries) {
          if (e.type === "confChange") node.raw.applyConfChange(e.change);
          node.applied = e.index;
        }
        node.raw.advance();
      }
    }
    if (!busy && inbox.length === 0) return;
  }
  throw new Error("bench: cluster did not settle within 1000 rounds");
}

function measure(batch: number, totalEntries: number): { perSecond: number; seconds: number } {
  const nodes = createCluster();
  const leader = nodes.get(1n) as BenchNode;
  pump(nodes); // apply the bootstrap configuration first: campaigning waits for it
  leader.raw.campaign();
  pump(nodes);
  if (leader.raw.status().role !== "leader") throw new Error("bench: node 1 did not become leader");
  // Keep the log bounded, as a real node compacts after snapshots.
  const compactEvery = 50_000;
  const payload = new Uint8Array(entryBytes).fill(7);
  const start = leader.applied;
  const t0 = performance.now();
  let proposed = 0;
  while (proposed < totalEntries) {
    for (let i = 0; i < batch; i++) leader.raw.propose(payload);
    proposed += batch;
    pump(nodes);
    if (proposed % compactEvery < batch) {
      for (const n of nodes.values()) {
        const cs = n.raw.status().config;
        n.storage.createSnapshot(n.applied, cs, new Uint8Array(0));
        n.storage.compact(n.applied);
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const committed = leader.applied - start;
  if (committed < totalEntries)
    throw new Error(`bench: only ${committed} of ${totalEntries} entries committed`);
  return { perSecond: committed / seconds, seconds };
}

const total = Number(process.env.BENCH_ENTRIES ?? 200_000);
console.log(`raft core: 3 voters in memory, ${entryBytes}-byte entries, ${total} entries per run`);
measure(64, 20_000); // warm up the JIT
for (const batch of [1, 16, 64, 256]) {
  const { perSecond, seconds } = measure(batch, total);
  console.log(
    `batch ${String(batch).padStart(3)}: ${Math.round(perSecond).toLocaleString("en-US").padStart(9)} committed entries/s (${seconds.toFixed(2)} s)`,
  );
}
