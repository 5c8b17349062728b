/**
 * The etcd target, running the equivalent workload through `etcd3`: cas = get, then
 * Txn(If ModRevision == r, Then Put); insert = Put of a new key; read = linearizable or
 * serializable Range; a Juju transaction = one Txn over the same keys with the same compares.
 * `local:N` starts N `etcd` processes (Debian's etcd-server) on loopback with temp directories.
 */
import { join } from "node:path";
import { Etcd3, type IOperation } from "etcd3";
import { LocalProcs, drain, freePorts, sleep, spawnOwned } from "./procs.js";
import type { OpOutcome, ServerProc, Session, Target, TxnOp } from "./target.js";

/** The etcd binary used by `--etcd local:N`. */
export const ETCD_BIN = process.env.JURAFT_BENCH_ETCD ?? "/usr/bin/etcd";
const POOL = 8;
const LOAD_BATCH = 100;

const keyOf = (c: string, id: string): string => `${c}/${id}`;

class EtcdSession implements Session {
  readonly #e: Etcd3;
  readonly #coll: string;

  constructor(e: Etcd3, coll: string) {
    this.#e = e;
    this.#coll = coll;
  }

  async insert(key: string, value: string, signal: AbortSignal): Promise<OpOutcome> {
    signal.throwIfAborted();
    await this.#e.put(keyOf(this.#coll, key)).value(JSON.stringify({ v: value }));
    return "ok";
  }

  async cas(key: string, value: string, signal: AbortSignal): Promise<OpOutcome> {
    signal.throwIfAborted();
    const k = keyOf(this.#coll, key);
    const r = await this.#e.get(k).exec();
    const rev = r.kvs[0]?.mod_revision ?? "0";
    signal.throwIfAborted();
    const t = await this.#e
      .if(k, "Mod", "==", rev)
      .then(this.#e.put(k).value(JSON.stringify({ v: value })))
      .commit();
    return t.succeeded ? "ok" : "aborted";
  }

  async read(
    key: string,
    consistency: "quorum" | "local",
    signal: AbortSignal,
  ): Promise<OpOutcome> {
    signal.throwIfAborted();
    await this.#e
      .get(keyOf(this.#coll, key))
      .serializable(consistency === "local")
      .exec();
    return "ok";
  }

  async txn(ops: readonly TxnOp[], signal: AbortSignal): Promise<OpOutcome> {
    signal.throwIfAborted();
    const read = await Promise.all(
      ops.map((o) =>
        o.guard === "revno" ? this.#e.get(keyOf(o.c, o.id)).exec() : Promise.resolve(undefined),
      ),
    );
    signal.throwIfAborted();
    const first = ops[0];
    if (first === undefined) return "ok";
    let b = this.#e.if(keyOf(first.c, first.id), "Create", ">", -1);
    const writes: IOperation[] = [];
    for (const [i, o] of ops.entries()) {
      const k = keyOf(o.c, o.id);
      const kv = read[i]?.kvs[0];
      if (o.guard === "revno") b = b.and(k, "Mod", "==", kv?.mod_revision ?? "0");
      else if (o.guard === "exists") b = b.and(k, "Create", ">", 0);
      else if (o.guard === "missing") b = b.and(k, "Create", "==", 0);
      if (o.kind === "remove") writes.push(this.#e.delete().key(k));
      else if (o.kind === "insert")
        writes.push(this.#e.put(k).value(JSON.stringify(o.fields ?? {})));
      else if (o.kind === "update") {
        // etcd has no update operators: merge into the value read (or a blind write).
        const old = kv === undefined ? {} : (JSON.parse(kv.value.toString("utf8")) as object);
        const n = Number((old as { n?: unknown }).n ?? 0) + (o.inc === true ? 1 : 0);
        writes.push(this.#e.put(k).value(JSON.stringify({ ...old, ...o.fields, n })));
      }
    }
    const t = await b.then(...writes).commit();
    return t.succeeded ? "ok" : "aborted";
  }
}

/** Options of an etcd target. */
export interface EtcdTargetOptions {
  /** Existing client endpoints (host:port); absent: start `local` members. */
  readonly endpoints?: readonly string[];
  /** Members to start when no endpoints are given. */
  readonly local?: number;
  /** Key prefix the benchmark writes under (default "bench"). */
  readonly collection?: string;
}

/** An etcd cluster as a benchmark target. */
export class EtcdTarget implements Target {
  readonly name = "etcd";
  readonly endpoints: readonly string[];
  readonly servers: ServerProc[] = [];
  readonly #clients: Etcd3[] = [];
  readonly #procs: LocalProcs;
  readonly #coll: string;

  private constructor(endpoints: string[], procs: LocalProcs, coll: string) {
    this.endpoints = endpoints;
    this.#procs = procs;
    this.#coll = coll;
    this.servers.push(...procs.servers("etcd"));
    for (let i = 0; i < POOL; i++) {
      const hosts = endpoints.map(
        (_, j) => `http://${endpoints[(i + j) % endpoints.length] ?? ""}`,
      );
      this.#clients.push(new Etcd3({ hosts }));
    }
  }

  /** Connects to `endpoints`, or starts `local` etcd processes. */
  static async open(o: EtcdTargetOptions, signal: AbortSignal): Promise<EtcdTarget> {
    const coll = o.collection ?? "bench";
    if (o.endpoints !== undefined && o.endpoints.length > 0)
      return new EtcdTarget([...o.endpoints], LocalProcs.none, coll);
    const n = o.local ?? 3;
    const ports = await freePorts(2 * n, signal);
    const client = (i: number): string => `127.0.0.1:${ports[2 * i] ?? 0}`;
    const peer = (i: number): string => `http://127.0.0.1:${ports[2 * i + 1] ?? 0}`;
    const initial = Array.from({ length: n }, (_, i) => `etcd-${i}=${peer(i)}`).join(",");
    const procs = await LocalProcs.start("etcd-bench-", (dir, children) => {
      for (let i = 0; i < n; i++) {
        const args = [
          `--name=etcd-${i}`,
          `--data-dir=${join(dir, `etcd-${i}`)}`,
          `--listen-client-urls=http://${client(i)}`,
          `--advertise-client-urls=http://${client(i)}`,
          `--listen-peer-urls=${peer(i)}`,
          `--initial-advertise-peer-urls=${peer(i)}`,
          `--initial-cluster=${initial}`,
          "--initial-cluster-state=new",
          "--initial-cluster-token=juraft-bench",
          "--logger=zap",
          "--log-level=error",
        ];
        const child = spawnOwned(ETCD_BIN, args, process.env);
        drain(child);
        children.push(child);
      }
      return Promise.resolve();
    });
    const endpoints = Array.from({ length: n }, (_, i) => client(i));
    const t = new EtcdTarget(endpoints, procs, coll);
    try {
      await t.#ready(signal);
    } catch (err) {
      await t.close();
      throw err;
    }
    return t;
  }

  async #ready(signal: AbortSignal): Promise<void> {
    for (const e of this.endpoints) {
      const c = new Etcd3({ hosts: [`http://${e}`] });
      try {
        for (let i = 0; ; i++) {
          try {
            await c
              .get("ready")
              .options({ deadline: Date.now() + 1000 })
              .exec();
            break;
          } catch (err) {
            if (i >= 60) throw err;
            await sleep(250, signal);
          }
        }
      } finally {
        c.close();
      }
    }
  }

  session(i: number): Session {
    return new EtcdSession(this.#clients[i % POOL] as Etcd3, this.#coll);
  }

  async load(
    docs: readonly (readonly [string, string, string])[],
    signal: AbortSignal,
  ): Promise<void> {
    const e = this.#clients[0] as Etcd3;
    for (let i = 0; i < docs.length; i += LOAD_BATCH) {
      signal.throwIfAborted();
      const batch = docs.slice(i, i + LOAD_BATCH);
      await e
        .if(keyOf("x", "never"), "Create", ">", -1)
        .then(...batch.map(([c, id, v]) => e.put(keyOf(c, id)).value(JSON.stringify({ v }))))
        .commit();
    }
  }

  async watch(c: string, onId: (id: string) => void, signal: AbortSignal): Promise<void> {
    const e = this.#clients[0] as Etcd3;
    const w = await e.watch().prefix(`${c}/`).create();
    w.on("put", (kv) => {
      onId(kv.key.toString("utf8").slice(c.length + 1));
    });
    signal.addEventListener("abort", () => void w.cancel().catch(() => undefined), { once: true });
  }

  async close(): Promise<void> {
    for (const c of this.#clients) c.close();
    await this.#procs.stop();
  }
}
