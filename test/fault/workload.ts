/**
 * The two workloads, each a set of single-threaded client processes recording invoke/ok/fail/info
 * events: registers (one document per key: quorum read, blind write, CAS by txn-revno assert) and
 * list-append (transactions of $push appends to several documents; multi-document quorum reads).
 * Keys rotate after a number of ops so that each key's history stays small enough to check.
 * A write whose outcome is unknown is retried once with the same txn id: a retry returns the
 * recorded outcome of the same transaction (idempotency table), which then completes the op.
 */
import { randomUUID } from "node:crypto";
import type { JuraftClient, TxnOutcome } from "../../node/client/index.js";
import { Rng } from "../raft/sim/rng.js";
import { brief, classify } from "./classify.js";
import type { FaultCluster } from "./cluster.js";
import type { AppendMop, RegisterOp, RegisterValue } from "./history.js";
import type { Recorder } from "./recorder.js";

const isAborted = (signal: AbortSignal): boolean => signal.aborted;

/** Clients per slot, shared by the processes (HTTP/2 multiplexes). */
export class ClientPool {
  readonly #c: FaultCluster;
  readonly #clients = new Map<number, JuraftClient>();
  /** Slots the workload may talk to (the current members). */
  slots: number[];

  constructor(c: FaultCluster, slots: number[]) {
    this.#c = c;
    this.slots = slots;
  }

  get(slot: number): JuraftClient {
    let cl = this.#clients.get(slot);
    if (cl === undefined) {
      cl = this.#c.client(slot, 2500);
      this.#clients.set(slot, cl);
    }
    return cl;
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}

type ApplyResult = { kind: "ok"; out: TxnOutcome } | { kind: "fail" | "info"; error: string };

/** Applies `ops` at `slot`; an indeterminate failure is retried once elsewhere, same txn id. */
async function applyOnce(
  pool: ClientPool,
  rng: Rng,
  slot: number,
  ops: readonly unknown[],
  signal: AbortSignal,
): Promise<ApplyResult> {
  const txnId = randomUUID();
  let first: "fail" | "info" = "fail";
  let error = "";
  for (let attempt = 0; attempt < 2; attempt++) {
    const s = attempt === 0 ? slot : rng.pick(pool.slots);
    try {
      return { kind: "ok", out: await pool.get(s).apply(ops, { txnId, signal }) };
    } catch (err) {
      const k = classify(err);
      error = brief(err);
      if (attempt === 0) first = k;
      // A definite failure of the first attempt ends the op; after an unknown one, only an
      // outcome (not another error) settles it.
      if (first === "fail") return { kind: "fail", error };
      if (isAborted(signal)) break;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return { kind: "info", error };
}

/** Creates documents before use (outside the history), returning their initial state. */
async function create(
  pool: ClientPool,
  rng: Rng,
  ops: readonly unknown[],
  signal: AbortSignal,
): Promise<bigint> {
  const txnId = randomUUID();
  for (let i = 0; i < 600 && !signal.aborted; i++) {
    try {
      const r = await pool.get(rng.pick(pool.slots)).apply(ops, { txnId, signal });
      if (r.outcome !== "applied") throw new Error(`create ${JSON.stringify(ops)}: ${r.reason}`);
      return r.revnos[0] ?? 0n;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("create ")) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`create ${JSON.stringify(ops)}: no outcome before the end of the run`);
}

/** Options of a workload. */
export interface WorkloadOptions {
  readonly processes: number;
  readonly activeKeys: number;
  /** Ops on a key before it is retired. */
  readonly opsPerKey: number;
  readonly seed: number;
  /** Read consistency of the register reads (default quorum; local shows the checker at work). */
  readonly reads?: "quorum" | "local";
}

/** The register workload. */
export class RegisterWorkload {
  /** Initial state of every key (for the checker). */
  readonly initial = new Map<string, RegisterValue>();
  readonly #rec: Recorder;
  readonly #pool: ClientPool;
  readonly #o: WorkloadOptions;
  #next = 0;
  #keys: { key: string; ops: number }[] = [];

  constructor(rec: Recorder, pool: ClientPool, o: WorkloadOptions) {
    this.#rec = rec;
    this.#pool = pool;
    this.#o = o;
  }

  async #newKey(rng: Rng, signal: AbortSignal): Promise<{ key: string; ops: number }> {
    const key = `r${this.#next++}`;
    const revno = await create(
      this.#pool,
      rng,
      [{ c: "reg", _id: key, assert: "d-", insert: { v: 0 } }],
      signal,
    );
    this.initial.set(key, { v: 0, revno: Number(revno) });
    return { key, ops: 0 };
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const rng = new Rng(this.#o.seed);
    for (let i = 0; i < this.#o.activeKeys; i++) this.#keys.push(await this.#newKey(rng, signal));
    await Promise.all(
      Array.from({ length: this.#o.processes }, (_, p) =>
        this.#process(p, new Rng(this.#o.seed * 31 + p), signal),
      ),
    );
  }

  async #process(p: number, rng: Rng, signal: AbortSignal): Promise<void> {
    const lastRevno = new Map<string, number>();
    let value = p * 1_000_000;
    while (!signal.aborted) {
      const idx = rng.int(this.#keys.length);
      const k = this.#keys[idx];
      if (k === undefined) break;
      if (k.ops === Number.POSITIVE_INFINITY) {
        // Being replaced by another process.
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      if (++k.ops > this.#o.opsPerKey) {
        this.#keys[idx] = { key: `pending${p}`, ops: Number.POSITIVE_INFINITY };
        try {
          this.#keys[idx] = await this.#newKey(rng, signal);
        } catch (err) {
          if (isAborted(signal)) break;
          throw err;
        }
        continue;
      }
      const key = k.key;
      const slot = rng.pick(this.#pool.slots);
      const dice = rng.next();
      if (dice < 0.5) {
        const inv: RegisterOp = { f: "read", key };
        this.#rec.push({ type: "invoke", process: p, workload: "register", op: inv });
        try {
          const g = await this.#pool
            .get(slot)
            .get("reg", key, { consistency: this.#o.reads ?? "quorum", signal });
          const seen =
            g.doc === undefined ? null : { v: Number(g.doc.get("v")), revno: Number(g.revno) };
          if (seen !== null) lastRevno.set(key, seen.revno);
          this.#rec.push({
            type: "ok",
            process: p,
            workload: "register",
            op: { ...inv, value: seen },
          });
        } catch (err) {
          this.#rec.push({
            type: "fail",
            process: p,
            workload: "register",
            op: inv,
            error: brief(err),
          });
        }
        continue;
      }
      value++;
      const op: RegisterOp =
        dice < 0.75
          ? { f: "write", key, value }
          : {
              f: "cas",
              key,
              value: { revno: lastRevno.get(key) ?? this.initial.get(key)?.revno ?? 0, to: value },
            };
      const ops =
        op.f === "write"
          ? [{ c: "reg", _id: key, update: { $set: { v: value } } }]
          : [
              {
                c: "reg",
                _id: key,
                assert: { "txn-revno": op.value.revno },
                update: { $set: { v: value } },
              },
            ];
      this.#rec.push({ type: "invoke", process: p, workload: "register", op });
      const r = await applyOnce(this.#pool, rng, slot, ops, signal);
      if (r.kind === "ok") {
        const done: RegisterOp = op.f === "cas" ? { ...op, outcome: r.out.outcome } : op;
        this.#rec.push({ type: "ok", process: p, workload: "register", op: done });
      } else {
        this.#rec.push({ type: r.kind, process: p, workload: "register", op, error: r.error });
      }
    }
  }
}

/** The list-append workload. */
export class AppendWorkload {
  readonly #rec: Recorder;
  readonly #pool: ClientPool;
  readonly #o: WorkloadOptions;
  #next = 0;
  #value = 0;
  #keys: { key: string; ops: number }[] = [];
  /** Every key created (for the final reads). */
  readonly allKeys: string[] = [];

  constructor(rec: Recorder, pool: ClientPool, o: WorkloadOptions) {
    this.#rec = rec;
    this.#pool = pool;
    this.#o = o;
  }

  async #newKey(rng: Rng, signal: AbortSignal): Promise<{ key: string; ops: number }> {
    const key = `a${this.#next++}`;
    await create(this.#pool, rng, [{ c: "la", _id: key, assert: "d-", insert: { l: [] } }], signal);
    this.allKeys.push(key);
    return { key, ops: 0 };
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const rng = new Rng(this.#o.seed + 7);
    for (let i = 0; i < this.#o.activeKeys; i++) this.#keys.push(await this.#newKey(rng, signal));
    await Promise.all(
      Array.from({ length: this.#o.processes }, (_, p) =>
        this.#process(100 + p, new Rng(this.#o.seed * 17 + p), signal),
      ),
    );
  }

  /** One read transaction of `keys` at `slot` (quorum: one applied index for all documents). */
  async read(
    p: number,
    slot: number,
    keys: readonly string[],
    signal?: AbortSignal,
  ): Promise<void> {
    const inv: AppendMop[] = keys.map((k) => ["r", k, null]);
    this.#rec.push({
      type: "invoke",
      process: p,
      workload: "append",
      op: { f: "txn", value: inv },
    });
    try {
      const r = await this.#pool.get(slot).find("la", {
        filter: { _id: { $in: [...keys] } },
        consistency: "quorum",
        ...(signal !== undefined ? { signal } : {}),
      });
      const lists = new Map(
        r.docs.map((d) => [d.get("_id") as string, (d.get("l") as unknown[]).map(Number)]),
      );
      const done: AppendMop[] = keys.map((k) => ["r", k, lists.get(k) ?? null]);
      this.#rec.push({ type: "ok", process: p, workload: "append", op: { f: "txn", value: done } });
    } catch (err) {
      this.#rec.push({
        type: "fail",
        process: p,
        workload: "append",
        op: { f: "txn", value: inv },
        error: brief(err),
      });
    }
  }

  async #process(p: number, rng: Rng, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const n = rng.range(1, Math.min(3, this.#keys.length));
      const picked = new Set<number>();
      while (picked.size < n) picked.add(rng.int(this.#keys.length));
      const ks = [...picked]
        .map((i) => this.#keys[i])
        .filter(
          (k): k is { key: string; ops: number } =>
            k !== undefined && k.ops !== Number.POSITIVE_INFINITY,
        );
      if (ks.length === 0) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const slot = rng.pick(this.#pool.slots);
      if (rng.chance(0.5)) {
        await this.read(
          p,
          slot,
          ks.map((k) => k.key),
          signal,
        );
        continue;
      }
      const mops: AppendMop[] = ks.map((k) => ["append", k.key, ++this.#value]);
      const ops = mops.map((m) => ({
        c: "la",
        _id: m[1],
        assert: "d+",
        update: { $push: { l: m[2] } },
      }));
      this.#rec.push({
        type: "invoke",
        process: p,
        workload: "append",
        op: { f: "txn", value: mops },
      });
      const r = await applyOnce(this.#pool, rng, slot, ops, signal);
      const kind = r.kind === "ok" ? (r.out.outcome === "applied" ? "ok" : "fail") : r.kind;
      const error =
        r.kind === "ok" ? (r.out.outcome === "aborted" ? r.out.reason : undefined) : r.error;
      this.#rec.push({
        type: kind,
        process: p,
        workload: "append",
        op: { f: "txn", value: mops },
        ...(error !== undefined ? { error } : {}),
      });
      for (const k of ks) {
        if (++k.ops <= this.#o.opsPerKey) continue;
        const idx = this.#keys.indexOf(k);
        k.ops = Number.POSITIVE_INFINITY;
        try {
          this.#keys[idx] = await this.#newKey(rng, signal);
        } catch (err) {
          if (isAborted(signal)) return;
          throw err;
        }
      }
    }
  }
}
