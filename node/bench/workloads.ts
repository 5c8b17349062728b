/**
 * Workload definitions: `cas`, `insert`, `update-hot`, `read`, `juju` (the mix of
 * ../shared/research/txn-semantics/WORKLOAD.md §6) and `watch` (commit-to-delivery latency,
 * run by the driver). Each is written once against the abstract `Session`.
 */
import type { BenchConsistency, OpOutcome, Session, Target, TxnOp } from "./target.js";

/** Parameters shared by every workload. */
export interface WorkloadParams {
  /** Documents in the key space (units for `juju`). */
  readonly keys: number;
  /** Bytes of each written value. */
  readonly valueSize: number;
  /** Read consistency of `read`. */
  readonly consistency: BenchConsistency;
  /** Unique per run: new ids never collide with an earlier run's. */
  readonly runId: string;
}

/** Per-client state handed to each operation. */
export interface ClientState {
  /** Client number. */
  readonly client: number;
  /** Operations this client issued so far. */
  seq: number;
  /** A value of `valueSize` bytes. */
  readonly value: string;
}

/** A workload: how to load its documents and what one operation is. */
export interface Workload {
  /** Name on the command line. */
  readonly name: WorkloadName;
  /** Documents to create before the run. */
  docs(p: WorkloadParams): [string, string, string][];
  /** One operation of client `s`. */
  op(session: Session, s: ClientState, p: WorkloadParams, signal: AbortSignal): Promise<OpOutcome>;
}

/** Every workload name. */
export const WORKLOADS = ["juju", "cas", "insert", "update-hot", "read", "watch"] as const;
/** A workload name. */
export type WorkloadName = (typeof WORKLOADS)[number];

/** Documents `update-hot` contends on. */
export const HOT_KEYS = 4;

const pick = (n: number): number => Math.floor(Math.random() * n);
const keyDocs = (n: number, prefix: string, value: string): [string, string, string][] =>
  Array.from({ length: n }, (_, i) => ["bench", `${prefix}${i}`, value]);

const cas: Workload = {
  name: "cas",
  docs: (p) => keyDocs(p.keys, "k", "0"),
  op: (session, s, p, signal) => session.cas(`k${pick(p.keys)}`, s.value, signal),
};

const updateHot: Workload = {
  name: "update-hot",
  docs: () => keyDocs(HOT_KEYS, "hot", "0"),
  op: (session, s, _p, signal) => session.cas(`hot${pick(HOT_KEYS)}`, s.value, signal),
};

const insert: Workload = {
  name: "insert",
  docs: () => [],
  op: (session, s, p, signal) =>
    session.insert(`i-${p.runId}-${s.client}-${s.seq}`, s.value, signal),
};

const read: Workload = {
  name: "read",
  docs: (p) => keyDocs(p.keys, "k", "x".repeat(p.valueSize)),
  op: (session, _s, p, signal) => session.read(`k${pick(p.keys)}`, p.consistency, signal),
};

/** Applications in the `juju` model: units are grouped five per application. */
const appsOf = (p: WorkloadParams): number => Math.max(1, Math.floor(p.keys / 5));

/** One transaction of the steady-state Juju mix (WORKLOAD.md §6 weights). */
export function jujuTxn(s: ClientState, p: WorkloadParams): TxnOp[] {
  const u = `u${pick(p.keys)}`;
  const a = `a${pick(appsOf(p))}`;
  const fresh = `${p.runId}-${s.client}-${s.seq}`;
  const roll = pick(100);
  if (roll < 45)
    return [
      { c: "units", id: u, kind: "assert", guard: "exists" },
      { c: "unitstates", id: u, kind: "update", guard: "revno", fields: { state: s.value } },
    ];
  if (roll < 73)
    return [
      {
        c: "statuses",
        id: u,
        kind: "update",
        guard: "revno",
        fields: { status: "active", info: `hook ${s.seq}` },
      },
    ];
  if (roll < 85)
    return [
      { c: "settings", id: a, kind: "update", guard: "revno", fields: { k: s.value }, inc: true },
    ];
  if (roll < 90)
    return [
      { c: "units", id: `u-${fresh}`, kind: "insert", guard: "missing", fields: { life: "0" } },
      { c: "statuses", id: `u-${fresh}`, kind: "insert", guard: "missing", fields: { s: "new" } },
      { c: "applications", id: a, kind: "update", guard: "revno", fields: {}, inc: true },
    ];
  if (roll < 95)
    return [
      {
        c: "actions",
        id: `x-${fresh}`,
        kind: "insert",
        guard: "missing",
        fields: { s: "pending" },
      },
      { c: "units", id: u, kind: "assert", guard: "exists" },
      { c: "statuses", id: u, kind: "update", guard: "revno", fields: { status: "executing" } },
    ];
  // Lifecycle burst: 10-20 ops over distinct units of one application's neighbourhood.
  const n = 10 + pick(11);
  const start = pick(p.keys);
  const ops: TxnOp[] = [{ c: "cleanups", id: `c-${fresh}`, kind: "insert", guard: "missing" }];
  for (let i = 0; i < Math.min(n - 1, p.keys); i++)
    ops.push({
      c: "units",
      id: `u${(start + i) % p.keys}`,
      kind: "update",
      guard: "exists",
      fields: { life: "1" },
    });
  return ops;
}

const juju: Workload = {
  name: "juju",
  docs: (p) => {
    const d: [string, string, string][] = [];
    for (let i = 0; i < p.keys; i++)
      for (const c of ["units", "unitstates", "statuses"]) d.push([c, `u${i}`, "0"]);
    for (let i = 0; i < appsOf(p); i++)
      d.push(["applications", `a${i}`, "0"], ["settings", `a${i}`, "0"]);
    return d;
  },
  op: (session, s, p, signal) => session.txn(jujuTxn(s, p), signal),
};

/** `watch` is run by the driver (`runWatch`): writers insert, watchers time the deliveries. */
const watch: Workload = {
  name: "watch",
  docs: () => [],
  op: (session, s, p, signal) =>
    session.insert(`w-${p.runId}-${s.client}-${s.seq}`, s.value, signal),
};

/** The workload called `name`. */
export function workloadOf(name: WorkloadName): Workload {
  switch (name) {
    case "cas":
      return cas;
    case "insert":
      return insert;
    case "update-hot":
      return updateHot;
    case "read":
      return read;
    case "juju":
      return juju;
    case "watch":
      return watch;
  }
}

/** Loads a workload's documents into a target. */
export async function prepare(
  t: Target,
  w: Workload,
  p: WorkloadParams,
  signal: AbortSignal,
): Promise<void> {
  const docs = w.docs(p);
  if (docs.length > 0) await t.load(docs, signal);
}
