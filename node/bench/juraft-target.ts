/**
 * The juraft target: a pool of `JuraftClient`s against existing endpoints, or `--local N`, which
 * starts N `juraft serve` processes on free loopback ports with temp data directories.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JuraftClient } from "../client/index.js";
import { decodeDoc } from "../store/index.js";
import { LocalProcs, drain, freePorts, spawnOwned, waitForOutput } from "./procs.js";
import type { OpOutcome, ServerProc, Session, Target, TxnOp } from "./target.js";

const JURAFT = fileURLToPath(new URL("../cli/juraft.mjs", import.meta.url));

/** Connections per target: sessions share them round-robin. */
const POOL = 8;
/** Documents per load transaction. */
const LOAD_BATCH = 500;

/** The juraft document of a benchmark value. */
function docOf(value: string): Record<string, unknown> {
  return { v: value };
}

function assertOf(g: TxnOp["guard"], revno: bigint | undefined): unknown {
  switch (g) {
    case "revno":
      return { "txn-revno": revno ?? 0n };
    case "exists":
      return "d+";
    case "missing":
      return "d-";
    case "none":
      return undefined;
  }
}

class JuraftSession implements Session {
  readonly #c: JuraftClient;
  readonly #coll: string;

  constructor(c: JuraftClient, coll: string) {
    this.#c = c;
    this.#coll = coll;
  }

  async insert(key: string, value: string, signal: AbortSignal): Promise<OpOutcome> {
    const r = await this.#c.apply(
      [{ c: this.#coll, _id: key, assert: "d-", insert: docOf(value) }],
      {
        signal,
      },
    );
    return r.outcome === "applied" ? "ok" : "aborted";
  }

  async cas(key: string, value: string, signal: AbortSignal): Promise<OpOutcome> {
    const g = await this.#c.get(this.#coll, key, { consistency: "quorum", signal });
    const r = await this.#c.apply(
      [
        {
          c: this.#coll,
          _id: key,
          assert: { "txn-revno": g.revno },
          update: { $set: docOf(value) },
        },
      ],
      { signal },
    );
    return r.outcome === "applied" ? "ok" : "aborted";
  }

  async read(
    key: string,
    consistency: "quorum" | "local",
    signal: AbortSignal,
  ): Promise<OpOutcome> {
    await this.#c.get(this.#coll, key, { consistency, signal });
    return "ok";
  }

  async txn(ops: readonly TxnOp[], signal: AbortSignal): Promise<OpOutcome> {
    const revnos = await Promise.all(
      ops.map((o) =>
        o.guard === "revno"
          ? this.#c.get(o.c, o.id, { consistency: "quorum", signal }).then((g) => g.revno)
          : Promise.resolve(undefined),
      ),
    );
    const mgo = ops.map((o, i) => {
      const op: Record<string, unknown> = { c: o.c, _id: o.id };
      const a = assertOf(o.guard, revnos[i]);
      if (a !== undefined) op.assert = a;
      if (o.kind === "insert") op.insert = { ...o.fields };
      else if (o.kind === "remove") op.remove = true;
      else if (o.kind === "update") {
        const u: Record<string, unknown> = { $set: { ...o.fields } };
        if (o.inc === true) u.$inc = { n: 1 };
        op.update = u;
      }
      return op;
    });
    const r = await this.#c.apply(mgo, { signal });
    return r.outcome === "applied" ? "ok" : "aborted";
  }
}

/** Options of a juraft target. */
export interface JuraftTargetOptions {
  /** Existing endpoints; absent: start `local` nodes. */
  readonly endpoints?: readonly string[];
  /** Nodes to start when no endpoints are given. */
  readonly local?: number;
  /** Collection the benchmark writes to (default "bench"). */
  readonly collection?: string;
  /** `--tick-ms` of local nodes (default: serve's own, 100). */
  readonly tickMs?: number;
}

/** A juraft cluster as a benchmark target. */
export class JuraftTarget implements Target {
  readonly name = "juraft";
  readonly endpoints: readonly string[];
  readonly servers: ServerProc[] = [];
  readonly #clients: JuraftClient[] = [];
  readonly #procs: LocalProcs;
  readonly #coll: string;

  private constructor(endpoints: string[], procs: LocalProcs, coll: string) {
    this.endpoints = endpoints;
    this.#procs = procs;
    this.#coll = coll;
    this.servers.push(...procs.servers("node"));
    // Each connection starts at a different node, as etcd's client spreads its calls.
    for (let i = 0; i < POOL; i++) {
      const rot = endpoints.map((_, j) => endpoints[(i + j) % endpoints.length] as string);
      this.#clients.push(new JuraftClient({ endpoints: rot, timeoutMs: 30_000 }));
    }
  }

  /** Connects to `endpoints`, or starts `local` serve processes. */
  static async open(o: JuraftTargetOptions, signal: AbortSignal): Promise<JuraftTarget> {
    const coll = o.collection ?? "bench";
    if (o.endpoints !== undefined && o.endpoints.length > 0)
      return new JuraftTarget([...o.endpoints], LocalProcs.none, coll);
    const n = o.local ?? 3;
    const ports = await freePorts(n, signal);
    const endpoints = ports.map((p) => `127.0.0.1:${p}`);
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    // Extra node flags for the servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p" to profile them.
    const nodeArgs = (process.env.JURAFT_BENCH_NODE_ARGS ?? "")
      .split(/\s+/)
      .filter((a) => a !== "");
    const procs = await LocalProcs.start("juraft-bench-", async (dir, children) => {
      for (let i = 0; i < n; i++) {
        const args = [JURAFT, "serve", "--name", `node-${i}`, "--data-dir", join(dir, `node-${i}`)];
        args.push("--listen", endpoints[i] as string, "--log-level", "warn");
        if (i > 0) args.push("--join", endpoints[0] as string);
        if (o.tickMs !== undefined) args.push("--tick-ms", String(o.tickMs));
        const child = spawnOwned(process.execPath, [...nodeArgs, ...args], env);
        children.push(child);
        await waitForOutput(child, /"event":"serving"/, `juraft node-${i}`, 60_000, signal);
        drain(child);
      }
    });
    const t = new JuraftTarget(endpoints, procs, coll);
    try {
      await t.#ready(signal);
    } catch (err) {
      await t.close();
      throw err;
    }
    return t;
  }

  async #ready(signal: AbortSignal): Promise<void> {
    // A quorum read on every node proves a leader and that each member caught up.
    for (const e of this.endpoints) {
      const c = new JuraftClient({ endpoints: [e], attempts: 60 });
      try {
        await c.get(this.#coll, "ready", { consistency: "quorum", signal });
      } finally {
        c.close();
      }
    }
  }

  session(i: number): Session {
    return new JuraftSession(this.#clients[i % POOL] as JuraftClient, this.#coll);
  }

  async load(
    docs: readonly (readonly [string, string, string])[],
    signal: AbortSignal,
  ): Promise<void> {
    const c = this.#clients[0] as JuraftClient;
    for (let i = 0; i < docs.length; i += LOAD_BATCH) {
      const ops = docs.slice(i, i + LOAD_BATCH).map(([coll, id, value]) => ({
        c: coll,
        _id: id,
        insert: docOf(value),
      }));
      await c.apply(ops, { signal });
    }
  }

  async watch(c: string, onId: (id: string) => void, signal: AbortSignal): Promise<void> {
    const client = new JuraftClient({ endpoints: this.endpoints });
    const it = client.watch({ collections: [c], signal })[Symbol.asyncIterator]();
    // The stream is established once the server answered headers; the first read starts it.
    const first = it.next();
    const pump = async (): Promise<void> => {
      try {
        for (let r = await first; r.done !== true; r = await it.next()) {
          const id = decodeDoc(r.value.id).get("_id");
          if (typeof id === "string") onId(id);
        }
      } catch (err) {
        if (!signal.aborted) process.stderr.write(`juraft bench: watch ended: ${String(err)}\n`);
      } finally {
        client.close();
      }
    };
    void pump();
    await new Promise((r) => setTimeout(r, 200));
  }

  async close(): Promise<void> {
    for (const c of this.#clients) c.close();
    await this.#procs.stop();
  }
}
