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

/**
 * BENCH_STORE=path/to/store/index.ts measures another copy of the store (e.g. main's, exported
 * with `git archive`) with the same workload, for before/after runs on one machine.
 */
const storeModule = (await import(
  process.env.BENCH_STORE === undefined
    ? "../store/index.js"
    : pathToFileURL(process.env.BENCH_STORE).href
)) as typeof StoreModule;
const { DocumentStore, decodeDoc, encodeDoc, toDoc } = storeModule;
type DocumentStore = StoreModule.DocumentStore;

setFlagsFromString("--expose-gc");
// V8 sizes the young generation at startup, so a flag set here would not take effect: run with
// NODE_OPTIONS=--max-semi-space-size=64 to measure a larger one (printed below).
const gc = runInNewContext("gc") as () => void;

/** Seeded PRNG (mulberry32) so every run replays the same workload. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const text = (n: number): string => "x".repeat(n);

const MODELS = 20;
const APPS_PER_MODEL = 10;
const UNITS_PER_APP = 125;
const uuids = Array.from(
  { length: MODELS },
  (_, i) => `${String(i).padStart(8, "0")}-1111-2222-3333-444455556666`,
);

interface Unit {
  readonly id: string;
  readonly model: string;
  readonly app: string;
}
const units: Unit[] = [];
let index = 0;
let actionSeq = 0;

function apply(store: DocumentStore, ops: unknown): string {
  index++;
  const entry = { index, txnId: `t${index}`, ops, timeMs: 1_700_000_000_000 + index };
  return store.applyTxn(entry).outcome;
}

/**
 * Applies a transaction as a node does (node/cluster/runtime.ts): the entry's ops arrive as the
 * BSON bytes the leader proposed and are read from them straight into parsed ops
 * (`applyEncodedTxn`). A BENCH_STORE copy without that method decodes them first, as nodes did
 * before session 5.
 */
function applyEncoded(store: DocumentStore, bytes: Uint8Array): string {
  if (!("applyEncodedTxn" in store)) return apply(store, decodeDoc(bytes).get("ops"));
  index++;
  const entry = { index, txnId: `t${index}`, opsBson: bytes, timeMs: 1_700_000_000_000 + index };
  return store.applyEncodedTxn(entry).outcome;
}

/** Inserts about 100,000 documents: units, unitstates, 2 statuses per unit, settings, apps. */
function populate(store: DocumentStore): void {
  for (const m of uuids) {
    apply(store, [{ c: "models", _id: m, assert: "d-", insert: { name: m, life: 0 } }]);
    for (let a = 0; a < APPS_PER_MODEL; a++) {
      const app = `${m}:app${a}`;
      apply(store, [
        {
          c: "applications",
          _id: app,
          assert: "d-",
          insert: { "model-uuid": m, name: `app${a}`, life: 0, unitcount: UNITS_PER_APP },
        },
        {
          c: "settings",
          _id: `${app}#rel`,
          assert: "d-",
          insert: { "model-uuid": m, settings: { k0: "v" }, version: 0 },
        },
        {
          c: "settings",
          _id: `${app}#config`,
          assert: "d-",
          insert: { "model-uuid": m, settings: configSettings(), version: 0 },
        },
      ]);
      for (let u = 0; u < UNITS_PER_APP; u++) populateUnit(store, m, a, u, app);
    }
  }
}

/** A charm config document's settings: 20 keys, about 5 KB (WORKLOAD.md §3: 0.5–20 KB). */
function configSettings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (let k = 0; k < 20; k++) out[`option-${k}`] = text(250);
  return out;
}

function populateUnit(store: DocumentStore, m: string, a: number, u: number, app: string): void {
  const id = `${m}:app${a}/${u}`;
  units.push({ id, model: m, app });
  const unit = {
    "model-uuid": m,
    name: `app${a}/${u}`,
    application: `app${a}`,
    life: 0,
    principal: "",
    subordinates: [],
    charmurl: "ch:app-1",
    passwordhash: text(44),
  };
  const status = (s: string) => ({
    "model-uuid": m,
    status: s,
    statusinfo: "",
    statusdata: {},
    updated: 0n,
  });
  apply(store, [
    { c: "units", _id: id, assert: "d-", insert: unit },
    {
      c: "unitstates",
      _id: id,
      assert: "d-",
      insert: { "model-uuid": m, "uniter-state": text(600), "relation-state": { r0: "joined" } },
    },
    { c: "statuses", _id: `${id}#agent`, assert: "d-", insert: status("idle") },
    { c: "statuses", _id: `${id}#workload`, assert: "d-", insert: status("active") },
  ]);
}

function unitState(store: DocumentStore, u: Unit): unknown[] {
  // WORKLOAD.md §6: $set of 1–3 string fields (0.5–2 KB in all), 10 % also an $unset.
  const unset = rand() < 0.1;
  const n = 1 + Math.floor(rand() * (unset ? 2 : 3));
  const size = Math.floor((500 + rand() * 1500) / n);
  const $set: Record<string, string> = {};
  for (const f of ["uniter-state", "secret-state", "storage-state"].slice(0, n))
    $set[f] = text(size);
  const update: Record<string, unknown> = { $set };
  if (unset) update.$unset = { "storage-state": 1 };
  return [
    { c: "units", _id: u.id, assert: { life: { $ne: 2 } } },
    {
      c: "unitstates",
      _id: u.id,
      assert: { "txn-revno": store.revno("unitstates", u.id) },
      update,
    },
  ];
}

function statusSet(store: DocumentStore, u: Unit): unknown[] {
  const id = `${u.id}#${rand() < 0.5 ? "agent" : "workload"}`;
  const status = pick(["idle", "executing", "active"]);
  const $set = { status, statusinfo: "hook", statusdata: {}, updated: BigInt(index) };
  return [
    {
      c: "statuses",
      _id: id,
      assert: { "txn-revno": store.revno("statuses", id) },
      update: { $set },
    },
  ];
}

function config(store: DocumentStore, u: Unit): unknown[] {
  const id = `${u.app}#config`;
  const version = store.get("settings", id)?.get("version") ?? 0;
  const k = Math.floor(rand() * 25); // options 20–24 are not set yet: $set adds, $unset removes
  const update =
    rand() < 0.5
      ? { $set: { [`settings.option-${k}`]: text(250) }, $inc: { version: 1 } }
      : { $unset: { [`settings.option-${k}`]: 1 }, $inc: { version: 1 } };
  return [{ c: "settings", _id: id, assert: { version }, update }];
}

function settings(store: DocumentStore, u: Unit): unknown[] {
  const id = `${u.app}#rel`;
  const version = store.get("settings", id)?.get("version") ?? 0;
  const update = {
    $set: { [`settings.k${Math.floor(rand() * 5)}`]: "v" },
    $unset: { [`settings.k${5 + Math.floor(rand() * 2)}`]: 1 },
    $inc: { version: 1 },
  };
  return [{ c: "settings", _id: id, assert: { version }, update }];
}

function counter(store: DocumentStore, u: Unit): unknown[] {
  const unitcount = store.get("applications", u.app)?.get("unitcount") ?? 0;
  const nu = `${u.app}/x${index}`;
  return [
    {
      c: "units",
      _id: nu,
      assert: "d-",
      insert: { "model-uuid": u.model, life: 0, subordinates: [] },
    },
    { c: "statuses", _id: `${nu}#agent`, assert: "d-", insert: { status: "allocating" } },
    ...(rand() < 0.5
      ? [{ c: "statuses", _id: `${nu}#workload`, assert: "d-", insert: { status: "waiting" } }]
      : []),
    ...(rand() < 0.5 ? [{ c: "models", _id: u.model, assert: { life: 0 } }] : []),
    {
      c: "applications",
      _id: u.app,
      assert: { life: 0, unitcount },
      update: { $inc: { unitcount: 1 } },
    },
  ];
}

const openActions: string[] = [];
const cleanups: string[] = [];

/** Half new actions (insert action + notification), half progress on an open one ($set, $push). */
function action(u: Unit): unknown[] {
  if (openActions.length > 0 && rand() < 0.5) {
    const i = Math.floor(rand() * openActions.length);
    const id = openActions[i] as string;
    const done = rand() < 0.3;
    if (done) openActions.splice(i, 1);
    return [
      {
        c: "actions",
        _id: id,
        assert: { $or: [{ status: "pending" }, { status: "running" }] },
        update: {
          $set: { status: done ? "completed" : "running" },
          $push: { messages: { message: "progress", timestamp: BigInt(index) } },
        },
      },
    ];
  }
  const id = `${u.model}:action${actionSeq++}`;
  openActions.push(id);
  return [
    {
      c: "actions",
      _id: id,
      assert: "d-",
      insert: { receiver: u.id, name: "backup", status: "pending", messages: [] },
    },
    {
      c: "actionnotifications",
      _id: `${id}#n`,
      assert: "d-",
      insert: { receiver: u.id, actionid: id },
    },
  ];
}

/** Unit dying ($set life, $pull), refcount assert, a cleanup queued and an old one removed. */
function lifecycle(u: Unit): unknown[] {
  const cleanup = `${u.id}#c${cleanups.length}`;
  cleanups.push(cleanup);
  const ops: unknown[] = [
    {
      c: "units",
      _id: u.id,
      assert: { $or: [{ life: 0 }, { life: 1 }] },
      update: { $set: { life: 1 }, $pull: { subordinates: "sub/1" } },
    },
    { c: "applications", _id: u.app, assert: { unitcount: { $gt: 0 } } },
    { c: "cleanups", _id: cleanup, assert: "d-", insert: { kind: "unit", prefix: u.id } },
  ];
  const old = cleanups.length > 1000 ? cleanups[cleanups.length - 1000] : undefined;
  if (old !== undefined) ops.push({ c: "cleanups", _id: old, assert: "d+", remove: true });
  return ops;
}

/** The WORKLOAD.md §6 templates and weights; each reads what it asserts, as Juju's buildTxn does. */
function nextTxn(store: DocumentStore): unknown[] {
  const r = rand() * 100;
  const u = pick(units);
  if (r < 45) return unitState(store, u);
  if (r < 70) return statusSet(store, u);
  if (r < 80) return settings(store, u);
  if (r >= 98) return config(store, u);
  if (r < 85) return counter(store, u);
  if (r < 90) return action(u);
  if (r < 95) return lifecycle(u);
  const update =
    rand() < 0.5 ? { $addToSet: { subordinates: "sub/0" } } : { $pull: { subordinates: "sub/0" } };
  return [{ c: "units", _id: u.id, assert: "d+", update }];
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

/**
 * The batch's transactions encoded as BSON, as views into one buffer: a node's entries are
 * likewise views into the frame or log read they arrived in (a separate ArrayBuffer per entry
 * would add external-memory GC work a node does not have).
 */
function entryViews(batch: readonly unknown[][]): Uint8Array[] {
  const parts = batch.map((ops) => encodeDoc(toDoc({ ops }, "ops")));
  const all = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  const views: Uint8Array[] = [];
  let at = 0;
  for (const b of parts) {
    all.set(b, at);
    views.push(all.subarray(at, at + b.length));
    at += b.length;
  }
  return views;
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
      const _id = `${uuids[j % MODELS] ?? ""}:u/${j}`;
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
