/**
 * The store benchmark's workload (issue 3): the Juju-like mix of
 * shared/research/txn-semantics/WORKLOAD.md §6 over about 100,000 documents, built from a seeded
 * PRNG so every run (and both stores of an A/B run) replays the same transactions. Used by
 * store-bench.ts and store-twin.ts.
 */
import type * as StoreModule from "../store/index.js";
import { encodeDoc, toDoc } from "../store/index.js";

/** What the workload needs of a store: a DocumentStore, or both stores of an A/B run at once. */
export type StoreLike = Pick<StoreModule.DocumentStore, "applyTxn" | "revno" | "get" | "stats">;

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
/** The model UUIDs (also the memory benchmark's `_id` prefixes). */
export const uuids = Array.from(
  { length: MODELS },
  (_, i) => `${String(i).padStart(8, "0")}-1111-2222-3333-444455556666`,
);

interface Unit {
  readonly id: string;
  readonly model: string;
  readonly app: string;
}
const units: Unit[] = [];
/** The last log index used; every applied entry takes the next one. */
let index = 0;

/** The next log index (entries applied outside this module take theirs here). */
export function nextIndex(): number {
  return ++index;
}
let actionSeq = 0;

/** Applies ops as the next entry (with a txn id, so the idempotency table fills). */
export function apply(store: StoreLike, ops: unknown): string {
  index++;
  const entry = { index, txnId: `t${index}`, ops, timeMs: 1_700_000_000_000 + index };
  return store.applyTxn(entry).outcome;
}

/** Inserts about 100,000 documents: units, unitstates, 2 statuses per unit, settings, apps. */
export function populate(store: StoreLike): void {
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

function populateUnit(store: StoreLike, m: string, a: number, u: number, app: string): void {
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

function unitState(store: StoreLike, u: Unit): unknown[] {
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

function statusSet(store: StoreLike, u: Unit): unknown[] {
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

function config(store: StoreLike, u: Unit): unknown[] {
  const id = `${u.app}#config`;
  const version = store.get("settings", id)?.get("version") ?? 0;
  const k = Math.floor(rand() * 25); // options 20–24 are not set yet: $set adds, $unset removes
  const update =
    rand() < 0.5
      ? { $set: { [`settings.option-${k}`]: text(250) }, $inc: { version: 1 } }
      : { $unset: { [`settings.option-${k}`]: 1 }, $inc: { version: 1 } };
  return [{ c: "settings", _id: id, assert: { version }, update }];
}

function settings(store: StoreLike, u: Unit): unknown[] {
  const id = `${u.app}#rel`;
  const version = store.get("settings", id)?.get("version") ?? 0;
  const update = {
    $set: { [`settings.k${Math.floor(rand() * 5)}`]: "v" },
    $unset: { [`settings.k${5 + Math.floor(rand() * 2)}`]: 1 },
    $inc: { version: 1 },
  };
  return [{ c: "settings", _id: id, assert: { version }, update }];
}

function counter(store: StoreLike, u: Unit): unknown[] {
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
export function nextTxn(store: StoreLike): unknown[] {
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

/**
 * The batch's transactions encoded as BSON, as views into one buffer: a node's entries are
 * likewise views into the frame or log read they arrived in (a separate ArrayBuffer per entry
 * would add external-memory GC work a node does not have).
 */
export function entryViews(batch: readonly unknown[][]): Uint8Array[] {
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
