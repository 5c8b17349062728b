/**
 * A/B of two copies of the store in one process (issue 3's store benchmark on a shared machine):
 * both are populated alike, then each batch of the store-workload.ts mix is applied to copy A and
 * to copy B in alternating order, and each copy's CPU time is summed over its own batches. Load
 * from other processes then falls on both alike, which separate runs cannot promise. Run with
 * `BENCH_TWIN=/path/to/other/node/store/index.ts npx tsx node/bench/store-twin.ts` (A is that
 * copy, B this worktree's); BENCH_FORM=objects|bson as store-bench.ts, BENCH_TXNS (100,000).
 *
 * Both stores share one heap, so each pays part of the other's garbage collection: the absolute
 * figures are above a lone store's, the ratio is what this measures.
 */
import { pathToFileURL } from "node:url";
import type * as StoreModule from "../store/index.js";
import * as current from "../store/index.js";
import type { StoreLike } from "./store-workload.js";
import { apply, entryViews, nextIndex, nextTxn, populate } from "./store-workload.js";

type Store = StoreModule.DocumentStore;

/** One copy under test: its store, its decoder, its summed CPU time. */
interface Side {
  readonly name: string;
  readonly store: Store;
  readonly decode: (bytes: Uint8Array) => StoreModule.Doc;
  /** Whether the copy applies encoded entries itself (session 5 on), else it decodes first. */
  readonly encoded: boolean;
  cpuUs: number;
  readonly outcomes: string[];
}

function side(name: string, m: typeof StoreModule): Side {
  const store = new m.DocumentStore();
  const encoded = typeof (store as { applyEncodedTxn?: unknown }).applyEncodedTxn === "function";
  return { name, store, decode: m.decodeDoc, encoded, cpuUs: 0, outcomes: [] };
}

/** Applies the entries as a node of that copy does (its applyEncodedTxn, or decode + applyTxn). */
function run(s: Side, entries: readonly Entry[], form: "bson" | "objects"): void {
  s.outcomes.length = 0;
  const c = process.cpuUsage();
  for (const e of entries) {
    const r =
      form === "objects"
        ? s.store.applyTxn({ index: e.index, txnId: e.txnId, ops: e.ops, timeMs: e.timeMs })
        : s.encoded
          ? s.store.applyEncodedTxn({
              index: e.index,
              txnId: e.txnId,
              opsBson: e.bytes,
              timeMs: e.timeMs,
            })
          : s.store.applyTxn({
              index: e.index,
              txnId: e.txnId,
              ops: s.decode(e.bytes).get("ops"),
              timeMs: e.timeMs,
            });
    s.outcomes.push(r.outcome);
  }
  const u = process.cpuUsage(c);
  s.cpuUs += u.user + u.system;
}

interface Entry {
  readonly index: number;
  readonly txnId: string;
  readonly timeMs: number;
  readonly ops: unknown;
  readonly bytes: Uint8Array;
}

const other = process.env.BENCH_TWIN;
if (other === undefined) throw new Error("store twin: set BENCH_TWIN to another copy's index.ts");
const a = side("A", (await import(pathToFileURL(other).href)) as typeof StoreModule);
const b = side("B", current);
const form = process.env.BENCH_FORM === "objects" ? "objects" : "bson";
const both: StoreLike = {
  applyTxn: (e) => (b.store.applyTxn(e), a.store.applyTxn(e)),
  revno: (c, id) => a.store.revno(c, id),
  get: (c, id) => a.store.get(c, id),
  stats: () => a.store.stats(),
};
populate(both);
for (let i = 0; i < 20_000; i++) apply(both, nextTxn(both)); // warm-up
const N = Number(process.env.BENCH_TXNS ?? 100_000);
const BATCH = 1000;
let mismatches = 0;
for (let k = 0; k * BATCH < N; k++) {
  const batch: unknown[][] = [];
  for (let i = 0; i < BATCH; i++) batch.push(nextTxn(both));
  const views = form === "bson" ? entryViews(batch) : [];
  const entries = batch.map((ops, i): Entry => {
    const index = nextIndex();
    const bytes = views[i] ?? new Uint8Array(0);
    // Only the bytes stay reachable in the bson form, as in a node.
    return {
      index,
      txnId: `t${index}`,
      timeMs: 1_700_000_000_000 + index,
      ops: form === "bson" ? null : ops,
      bytes,
    };
  });
  batch.length = 0;
  for (const s of k % 2 === 0 ? [a, b] : [b, a]) run(s, entries, form);
  for (let i = 0; i < BATCH; i++) if (a.outcomes[i] !== b.outcomes[i]) mismatches++;
}
const us = (s: Side): string => (s.cpuUs / N).toFixed(2);
console.log(
  `twin (${form}): ${N} txns; CPU per transaction A ${us(a)} µs, B ${us(b)} µs; ` +
    `B/A ${(b.cpuUs / a.cpuUs).toFixed(3)}; outcomes that differ: ${mismatches}`,
);
