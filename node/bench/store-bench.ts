/**
 * Document store benchmark (issue 3): transactions per second for the Juju-like mix of
 * shared/research/txn-semantics/WORKLOAD.md §6 over 100,000 documents, and resident memory per
 * 1,000,000 small documents. Run with `npm run bench:store`.
 */
import { PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type * as StoreModule from "../store/index.js";
import { apply, entryViews, nextIndex, nextTxn, populate, uuids } from "./store-workload.js";

/**
 * BENCH_STORE=path/to/store/index.ts measures another copy of the store (e.g. main's, exported
 * with `git archive`) with the same workload, for before/after runs on one machine.
 */
const storeModule = (await import(
  process.env.BENCH_STORE === undefined
    ? "../store/index.js"
    : pathToFileURL(process.env.BENCH_STORE).href
)) as typeof StoreModule;
const { DocumentStore, decodeDoc } = storeModule;
type DocumentStore = StoreModule.DocumentStore;

setFlagsFromString("--expose-gc");
// V8 sizes the young generation at startup, so a flag set here would not take effect: run with
// NODE_OPTIONS=--max-semi-space-size=64 to measure a larger one (printed below).
const gc = runInNewContext("gc") as () => void;

/**
 * Applies a transaction as a node does (node/cluster/runtime.ts): the entry's ops arrive as the
 * BSON bytes the leader proposed and are read from them straight into parsed ops
 * (`applyEncodedTxn`). A BENCH_STORE copy without that method decodes them first, as nodes did
 * before session 5.
 */
function applyEncoded(store: DocumentStore, bytes: Uint8Array): string {
  if (!("applyEncodedTxn" in store)) return apply(store, decodeDoc(bytes).get("ops"));
  const index = nextIndex();
  const entry = { index, txnId: `t${index}`, opsBson: bytes, timeMs: 1_700_000_000_000 + index };
  return store.applyEncodedTxn(entry).outcome;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Main-thread GC pauses (perf_hooks "gc" entries), summed later over the timed windows. */
function gcPauses(): { stop: () => Promise<PerformanceEntry[]> } {
  const entries: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  obs.observe({ entryTypes: ["gc"] });
  return {
    stop: async () => {
      await new Promise((resolve) => setTimeout(resolve, 100)); // entries arrive on a later turn
      obs.disconnect();
      return entries;
    },
  };
}

/** How a timed batch reaches the store: as the log's BSON bytes (a node's path) or as objects. */
type Form = "bson" | "objects";

async function benchMix(form: Form): Promise<void> {
  const semi = process.execArgv.concat(process.env.NODE_OPTIONS ?? "").join(" ");
  console.log(
    `mix: young generation: ${/max-semi-space-size=\d+/.exec(semi)?.[0] ?? "V8 default"}; ` +
      (form === "bson"
        ? "each entry's ops as BSON bytes, decoded then applied (a node's path)"
        : "ops as JavaScript objects (BENCH_FORM=objects)"),
  );
  const store = new DocumentStore();
  let t0 = performance.now();
  populate(store);
  const docs = store.stats().documents;
  console.log(`populate: ${docs} documents in ${(performance.now() - t0).toFixed(0)} ms`);
  for (let i = 0; i < 20_000; i++) apply(store, nextTxn(store)); // warm-up
  const N = Number(process.env.BENCH_TXNS ?? 300_000);
  const BATCH = 1000;
  const ROUNDS = 3;
  const outcomes = new Map<string, number>();
  const rates: number[] = [];
  const windows: [number, number][] = [];
  let applyMs = 0;
  let cpuUs = 0; // process CPU time (all threads, GC helpers included): steadier on a busy machine
  const gcs = gcPauses();
  t0 = performance.now();
  const loopCpu = process.cpuUsage();
  for (let round = 0; round < ROUNDS; round++) {
    let roundMs = 0;
    let roundN = 0;
    for (; roundN < N / ROUNDS; roundN += BATCH) {
      // Build a batch from current reads (as clients do), then time only the store applying it.
      const batch: unknown[][] = [];
      for (let i = 0; i < BATCH; i++) batch.push(nextTxn(store));
      const encoded = form === "bson" ? entryViews(batch) : [];
      if (form === "bson") batch.length = 0; // only the bytes stay reachable, as in a node
      const t1 = performance.now();
      const c1 = process.cpuUsage();
      for (let i = 0; i < BATCH; i++) {
        const o =
          form === "bson" ? applyEncoded(store, encoded[i] as Uint8Array) : apply(store, batch[i]);
        outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
      }
      const t2 = performance.now();
      const c2 = process.cpuUsage(c1);
      windows.push([t1, t2]);
      roundMs += t2 - t1;
      cpuUs += c2.user + c2.system;
    }
    applyMs += roundMs;
    rates.push(Math.round((roundN / roundMs) * 1000));
  }
  const totalMs = performance.now() - t0;
  const loopCpuUs = process.cpuUsage(loopCpu);
  let gcMs = 0;
  let loopGcMs = 0;
  for (const e of await gcs.stop()) {
    if (e.startTime >= t0 && e.startTime < t0 + totalMs) loopGcMs += e.duration;
    if (windows.some(([a, b]) => e.startTime >= a && e.startTime < b)) gcMs += e.duration;
  }
  const done = outcomes.get("applied") ?? 0;
  const total = [...outcomes.values()].reduce((x, y) => x + y, 0);
  const median = [...rates].sort((x, y) => x - y)[1] ?? 0;
  console.log(
    `mix: ${total} txns over ${docs} documents: store applies ${median} txns/s of wall time ` +
      `(median of ${ROUNDS} rounds: ${rates.join(", ")}; ${applyMs.toFixed(0)} ms in all)`,
  );
  console.log(
    `mix: ${Math.round(total / (cpuUs / 1e6))} txns/s of process CPU time ` +
      `(${(cpuUs / total).toFixed(2)} µs of CPU per transaction, GC threads included)`,
  );
  console.log(
    `mix: main-thread GC pauses ${gcMs.toFixed(0)} ms = ${((100 * gcMs) / applyMs).toFixed(1)} % of apply time`,
  );
  const e2e = Math.round((total / totalMs) * 1000);
  console.log(`mix: end to end including building each txn from reads: ${e2e} txns/s`);
  // A scavenge copies what is live whenever it runs: one that falls while the next batch is
  // built still pays for the store's new documents. The whole loop's CPU and GC pauses count it.
  const loopUs = loopCpuUs.user + loopCpuUs.system;
  console.log(
    `mix: whole loop (build${form === "bson" ? ", encode" : ""} and apply): ` +
      `${(loopUs / total).toFixed(2)} µs of CPU per transaction, main-thread GC pauses ` +
      `${loopGcMs.toFixed(0)} ms = ${((100 * loopGcMs) / totalMs).toFixed(1)} % of its wall time`,
  );
  console.log(
    `mix outcomes (${((100 * (total - done)) / total).toFixed(1)} % not applied: stale reads ` +
      `within a batch abort): ${JSON.stringify(Object.fromEntries(outcomes))}`,
  );
  t0 = performance.now();
  let bytes = 0;
  for (const c of store.snapshot()) bytes += c.length;
  console.log(`snapshot: ${mib(bytes)} in ${(performance.now() - t0).toFixed(0)} ms`);
}

function benchMemory(): void {
  gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const store = new DocumentStore();
  const M = 1_000_000;
  const BATCH = 100;
  for (let i = 0; i < M; i += BATCH) {
    const ops: unknown[] = [];
    for (let j = i; j < i + BATCH; j++) {
      const _id = `${uuids[j % uuids.length] ?? ""}:u/${j}`;
      ops.push({ c: "statuses", _id, insert: { status: "idle", statusinfo: "", updated: j } });
    }
    apply(store, ops);
  }
  gc();
  const mem = process.memoryUsage();
  const rss = mem.rss - rss0;
  const heap = mem.heapUsed - heap0;
  console.log(
    `memory: ${store.stats().documents} small documents (_id of 45 chars + 4 fields): ` +
      `RSS +${mib(rss)} = ${Math.round(rss / M)} bytes/document; heap +${mib(heap)} = ${Math.round(heap / M)} bytes/document`,
  );
}

if (process.env.BENCH_PART !== "mix") benchMemory();
if (process.env.BENCH_PART !== "memory")
  await benchMix(process.env.BENCH_FORM === "objects" ? "objects" : "bson");
